/**
 * Where a stateful stage was when its checkpoint was taken: the part of every checkpoint that is
 * the same for `window`, `join` and `pattern`.
 *
 * @module
 */
import type { Item } from "../../envelope.ts";
import type { Frontier } from "../window/redeliveries.ts";

/** Where the stage was when the snapshot was taken. */
export interface StageProgress {
  /** Input items consumed (events and control records). */
  inputCount: number;
  /** Output position reported by the output (bytes of a file, or items emitted). */
  outputPosition: number;
  /** Ids absorbed since the previous checkpoint: acknowledged once this one is durable. */
  pendingAcks: string[];
  /**
   * Behind an ack relay only: results emitted but not yet reported delivered by the terminal
   * (re-emitted on restore), and the stage's relay id (the prefix of its result ids).
   */
  outbox?: Item[];
  relayId?: string;
  /** Behind an acknowledging source: the highest position handled per topic and partition. */
  frontier?: Frontier;
}

/**
 * Reads the progress fields back from a checkpoint's JSON section.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { progressOf } from "./progress.ts";
 * const json = { kind: "k", inputCount: 3, outputPosition: 9, pendingAcks: ["a"], other: 1 };
 * assert.deepEqual(progressOf(json), { inputCount: 3, outputPosition: 9, pendingAcks: ["a"] });
 * ```
 */
export function progressOf(json: Record<string, unknown>): StageProgress {
  const saved = json as unknown as StageProgress;
  const progress: StageProgress = {
    inputCount: saved.inputCount,
    outputPosition: saved.outputPosition,
    pendingAcks: saved.pendingAcks,
  };
  if (saved.outbox !== undefined) progress.outbox = saved.outbox;
  if (saved.relayId !== undefined) progress.relayId = saved.relayId;
  if (saved.frontier !== undefined) progress.frontier = saved.frontier;
  return progress;
}
