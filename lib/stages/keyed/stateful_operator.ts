/**
 * The seam between the stateful-stage shell (`stateful_stage.ts`) and a stage's keyed state: what
 * an operator does, and an operator made of a state and its checkpoint encoding.
 *
 * @module
 */
import type { CheckpointData } from "../../checkpoint/format.ts";
import type { ControlRecord, Envelope, Item } from "../../envelope.ts";
import type { StageProgress } from "./progress.ts";

/** What a stateful stage's operator does; the shell does the rest. */
export interface StatefulOperator {
  /** Results (and ack records for ids the operator let go of) waiting to be emitted. */
  out: Item[];
  /** The event-time watermark, for messages about late events. */
  readonly watermark: number;
  /**
   * Takes one event: `absorbed` (held in state), `late` (too late for any state) or `done` (used
   * and not kept: acknowledged at once). Throws an `InputError` for an event it cannot use.
   */
  process(event: Envelope): "absorbed" | "late" | "done";
  /** At the end of the stream: emits everything still held (into `out`). */
  flushAll(): void;
  /** The operator's state and the stage's progress, as one checkpoint. */
  snapshot(progress: StageProgress): CheckpointData;
  /** Loads a checkpoint written by `snapshot`; returns the stage's progress. */
  restore(data: CheckpointData): StageProgress;
  /** While the input is quiet: fires what is due by the wall clock (into `out`). */
  tick?(): void;
  /** Whether `tick` has anything to do (processing-time timers, events not yet handled). */
  wantsTick?(): boolean;
  /**
   * Handles every event taken so far (an operator may batch them), its results into `out`: called
   * before each checkpoint, so that the results of the state it holds are written before it.
   */
  flush?(): void;
  /** Sees each control record before it is passed on (e.g. partition announcements). */
  control?(item: ControlRecord): void;
}

/** The part of an operator that holds the state, without checkpoint encoding. */
export type KeyedState = Omit<StatefulOperator, "snapshot" | "restore">;

/**
 * An operator from its state and its checkpoint encoding.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { withCheckpoints } from "./stateful_stage.ts";
 * const state = { out: [], watermark: 0, process: () => "done" as const, flushAll() {} };
 * const op = withCheckpoints(
 *   state,
 *   (progress) => ({ json: { kind: "demo", ...progress }, columns: [] }),
 *   () => ({ inputCount: 0, outputPosition: 0, pendingAcks: [] }),
 * );
 * op.out = [{ value: 1 }];
 * assert.deepEqual(state.out, [{ value: 1 }]);
 * ```
 */
export function withCheckpoints(
  state: Pick<KeyedState, "out" | "watermark" | "process" | "flushAll">,
  snapshot: (progress: StageProgress) => CheckpointData,
  restore: (data: CheckpointData) => StageProgress,
  hooks: Partial<Pick<StatefulOperator, "process" | "tick" | "wantsTick" | "flush" | "control">> =
    {},
): StatefulOperator {
  return {
    get out() {
      return state.out;
    },
    set out(items) {
      state.out = items;
    },
    get watermark() {
      return state.watermark;
    },
    process: (event) => state.process(event),
    flushAll: () => state.flushAll(),
    snapshot,
    restore,
    // The operator's own extras (a process that also reads the clock, ticks, control records).
    ...hooks,
  };
}
