/**
 * `join` of two streams: the events of both sides arrive mixed in one input (`consume a b`
 * merges topics; `replay` merges files), CEL predicates tell the sides apart, and events of the
 * same key pair by an interval or a tumbling window of event time. Inner or left-outer; state
 * bounded by the watermark, checkpointed and acknowledged as the window stage's is (the same
 * shell, `lib/stages/keyed/stateful_stage.ts`). See `docs/joins.md`.
 *
 * @module
 */
import { type CheckpointData, CheckpointFormatError } from "../../checkpoint/format.ts";
import type { CheckpointStore, Restored, RestoreOptions } from "../../checkpoint/store.ts";
import type { Envelope } from "../../envelope.ts";
import { compileExpression } from "../../expr/cel.ts";
import { InputError } from "../../errors.ts";
import type { Stage } from "../types.ts";
import { progressOf, type StageProgress } from "../keyed/progress.ts";
import { statefulStage, withCheckpoints } from "../keyed/stateful_stage.ts";
import { openStageCheckpoints, type StatefulStageOptions } from "../keyed/stateful_options.ts";
import { eventTimeReader, keyReader } from "../window/event_fields.ts";
import { type Held, JoinOperator, type JoinRule } from "./join_operator.ts";

export type { JoinRule } from "./join_operator.ts";

/** The checkpoint kind of join stages. */
export const JOIN_KIND = "edgepipe.join";

/** Options of {@linkcode streamJoin}. */
export interface StreamJoinOptions extends Omit<StatefulStageOptions, "name"> {
  /** CEL predicate over `event` that is true for the left side's events. */
  left: string;
  /** CEL predicate over `event` that is true for the right side's events. */
  right: string;
  /** Dotted path (falls back to `value.<path>`) or CEL expression giving the join key. */
  key: string;
  /** Interval (`lower`/`upper` ms relative to the left event) or tumbling window. */
  rule: JoinRule;
  /** `inner` (default) or `left` (left-outer: unmatched left events too, right `null`). */
  type?: "inner" | "left";
  /** Event-time field (default `eventTime`, falling back to `publishTime`). */
  time?: string;
  /** How far (ms) events may arrive out of order before the watermark passes them. */
  outOfOrderness?: number;
  /** The result field holding the right event's value (default `right`). */
  as?: string;
}

/** A predicate from a CEL expression: only `true` counts. */
function sidePredicate(source: string, flag: string): (event: Envelope) => boolean {
  const compiled = compileExpression(source);
  return (event) => {
    const result = compiled.evaluate(event);
    if (typeof result !== "boolean") {
      throw new InputError(`${flag} '${source}' gave ${JSON.stringify(result)}, not a bool`);
    }
    return result;
  };
}

/** The settings that a checkpoint must have been written with to be restored. */
export function joinConfig(options: StreamJoinOptions): string {
  return JSON.stringify({
    left: options.left,
    right: options.right,
    key: options.key,
    rule: options.rule,
    type: options.type ?? "inner",
    time: options.time ?? "eventTime",
    outOfOrderness: options.outOfOrderness ?? 0,
    as: options.as ?? "right",
  });
}

/**
 * A stream-stream join stage.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { streamJoin } from "./stream_join.ts";
 * const stage = streamJoin({
 *   left: 'event.value.kind == "order"',
 *   right: 'event.value.kind == "payment"',
 *   key: "value.order",
 *   rule: { kind: "interval", lower: 0, upper: 60_000 },
 * });
 * const events = [
 *   { eventTime: 0, value: { kind: "order", order: "o1" } },
 *   { eventTime: 30_000, value: { kind: "payment", order: "o1", amount: 5 } },
 * ];
 * const [pair] = await Array.fromAsync(stage(ReadableStream.from(events)));
 * assert.deepEqual((pair as { right: unknown }).right, { kind: "payment", order: "o1", amount: 5 });
 * ```
 */
export function streamJoin(options: StreamJoinOptions): Stage {
  const isLeft = sidePredicate(options.left, "--left");
  const isRight = sidePredicate(options.right, "--right");
  const keyOf = keyReader(options.key);
  const timeOf = eventTimeReader(options.time);
  const config = joinConfig(options);
  if (options.rule.kind === "interval" && options.rule.lower > options.rule.upper) {
    throw new InputError("join: the interval's lower bound is above its upper bound");
  }
  return statefulStage((trackIds) => {
    const op = new JoinOperator({
      rule: options.rule,
      type: options.type ?? "inner",
      sideOf: (event) => isLeft(event) ? "left" : isRight(event) ? "right" : undefined,
      keyOf,
      timeOf,
      outOfOrderness: options.outOfOrderness,
      as: options.as,
      trackIds,
    });
    return withCheckpoints(
      op,
      (progress) => snapshotJoin(op, progress, config),
      (data) => restoreJoin(op, data),
    );
  }, {
    ...options,
    name: "join",
    resultIdPrefix: "j",
    lateMeaning: "older than the watermark",
  });
}

/** The join's kept events and the stage's progress, as one checkpoint. */
export function snapshotJoin(
  op: JoinOperator,
  progress: StageProgress,
  config: string,
): CheckpointData {
  const held = op.held();
  return {
    json: {
      kind: JOIN_KIND,
      config,
      watermark: Number.isFinite(op.watermark) ? op.watermark : null,
      maxTime: Number.isFinite(op.maxTime) ? op.maxTime : null,
      ...progress,
      held: held.map((h) => [h.side === "left" ? 0 : 1, h.key, h.matched ? 1 : 0, h.event]),
    },
    // Times are exact in float64, and the bulk of a large state.
    columns: [Float64Array.from(held, (h) => h.time)],
  };
}

/** Loads a checkpoint written by {@linkcode snapshotJoin} into a fresh operator. */
export function restoreJoin(op: JoinOperator, data: CheckpointData): StageProgress {
  const rows = data.json.held as [number, string, number, Envelope][] | undefined;
  const [times] = data.columns;
  if (!Array.isArray(rows) || times === undefined || times.length !== rows.length) {
    throw new CheckpointFormatError("join rows do not match");
  }
  op.watermark = (data.json.watermark as number | null) ?? -Infinity;
  op.maxTime = (data.json.maxTime as number | null) ?? -Infinity;
  rows.forEach(([side, key, matched, event], i) => {
    const held: Held = {
      side: side === 0 ? "left" : "right",
      key,
      time: times[i],
      event,
      matched: matched === 1,
      seq: 0,
    };
    op.restoreHeld(held);
  });
  return progressOf(data.json);
}

/** Opens (and locks) a join stage's checkpoint directory; see `openWindowCheckpoints`. */
export function openJoinCheckpoints(
  dir: string,
  options: StreamJoinOptions,
  warn?: (message: string) => void,
  restore: RestoreOptions = {},
): Promise<{ store: CheckpointStore; restored?: Restored; outputPosition: number }> {
  return openStageCheckpoints(dir, JOIN_KIND, joinConfig(options), warn, restore, "join");
}
