/**
 * Planning a pipeline file's stream-join stage (`join: { left, right, key, within | tumbling }`):
 * durations parsed, the stage built once so that bad CEL fails before any source opens.
 *
 * @module
 */
import type { ErrorPolicy } from "../dead_letter.ts";
import { parseDuration } from "../units.ts";
import { streamJoin, type StreamJoinOptions } from "../stages/stream_join/stream_join.ts";
import type { JoinRule } from "../stages/stream_join/join_operator.ts";

/** A stream-join stage, ready to build. */
export interface StreamJoinPlan {
  kind: "streamJoin";
  options: StreamJoinOptions;
  checkpointDir?: string;
  onError: ErrorPolicy;
}

/** The stream-join settings of a pipeline file, as the schema checked them. */
export interface StreamJoinConfig {
  left: string;
  right: string;
  key: string;
  within?: { from: number | string; to: number | string };
  tumbling?: number | string;
  type: "inner" | "left";
  as?: string;
  time?: string;
  outOfOrderness?: number | string;
  checkpoint?: string;
}

function ms(value: number | string, name: string): number {
  if (typeof value === "number") return value;
  return value.startsWith("-") ? -parseDuration(value.slice(1), name) : parseDuration(value, name);
}

/** Plans the stage; `path` resolves the checkpoint directory against the file's directory. */
export function streamJoinPlan(
  j: StreamJoinConfig,
  onError: ErrorPolicy,
  path: (p: string) => string,
): StreamJoinPlan {
  const rule: JoinRule = j.within !== undefined
    ? {
      kind: "interval",
      lower: ms(j.within.from, "within.from"),
      upper: ms(j.within.to, "within.to"),
    }
    : { kind: "window", size: ms(j.tumbling!, "tumbling") };
  const options: StreamJoinOptions = {
    left: j.left,
    right: j.right,
    key: j.key,
    rule,
    type: j.type,
    as: j.as,
    time: j.time,
    outOfOrderness: j.outOfOrderness === undefined ? 0 : ms(j.outOfOrderness, "outOfOrderness"),
    onError,
  };
  streamJoin(options);
  return {
    kind: "streamJoin",
    options,
    checkpointDir: j.checkpoint === undefined ? undefined : path(j.checkpoint),
    onError,
  };
}
