/**
 * Planning a pipeline file's stream-join (`join: { left, right, key, within | tumbling }`) and
 * pattern (`pattern: { key, define, pattern, within }`) stages: durations parsed, the stage built
 * once so that bad CEL or a bad pattern fails before any source opens.
 *
 * @module
 */
import type { ErrorPolicy } from "../dead_letter.ts";
import { parseDuration } from "../units.ts";
import { streamJoin, type StreamJoinOptions } from "../stages/stream_join/stream_join.ts";
import type { JoinRule } from "../stages/stream_join/join_operator.ts";
import { pattern, type PatternOptions } from "../stages/pattern/pattern.ts";
import type { ProcessOptions } from "../stages/process/keyed_function.ts";

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
  sliding?: { size: number | string; every: number | string };
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
    : j.sliding !== undefined
    ? {
      kind: "window",
      size: ms(j.sliding.size, "sliding.size"),
      slide: ms(j.sliding.every, "sliding.every"),
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

/** A pattern stage, ready to build. */
export interface PatternPlan {
  kind: "pattern";
  options: PatternOptions;
  checkpointDir?: string;
  onError: ErrorPolicy;
}

/** The pattern settings of a pipeline file, as the schema checked them. */
export interface PatternConfig {
  key: string;
  define: Record<string, string>;
  pattern: string;
  within: number | string;
  time?: string;
  outOfOrderness?: number | string;
  contiguity?: "relaxed" | "strict";
  skip?: "none" | "past-last";
  checkpoint?: string;
}

/** Plans a pattern stage. */
export function patternPlan(
  p: PatternConfig,
  onError: ErrorPolicy,
  path: (p: string) => string,
): PatternPlan {
  const options: PatternOptions = {
    key: p.key,
    define: p.define,
    pattern: p.pattern,
    within: ms(p.within, "within"),
    time: p.time,
    outOfOrderness: p.outOfOrderness === undefined ? 0 : ms(p.outOfOrderness, "outOfOrderness"),
    contiguity: p.contiguity,
    skip: p.skip,
    onError,
  };
  pattern(options);
  return {
    kind: "pattern",
    options,
    checkpointDir: p.checkpoint === undefined ? undefined : path(p.checkpoint),
    onError,
  };
}

/** A keyed-function stage, ready to build. */
export interface ProcessPlan {
  kind: "process";
  options: ProcessOptions;
  checkpointDir?: string;
  onError: ErrorPolicy;
}

/** The keyed-function settings of a pipeline file, as the schema checked them. */
export interface ProcessConfig {
  module: string;
  key: string;
  time?: string;
  outOfOrderness?: number | string;
  allowRead?: string[];
  allowWrite?: string[];
  allowNet?: string[];
  allowEnv?: string[];
  checkpoint?: string;
}

/** Plans a keyed-function stage; the module path resolves against the file's directory. */
export function processPlan(
  p: ProcessConfig,
  onError: ErrorPolicy,
  path: (p: string) => string,
): ProcessPlan {
  return {
    kind: "process",
    options: {
      module: path(p.module),
      key: p.key,
      time: p.time,
      outOfOrderness: p.outOfOrderness === undefined ? 0 : ms(p.outOfOrderness, "outOfOrderness"),
      permissions: {
        read: p.allowRead?.map(path),
        write: p.allowWrite?.map(path),
        net: p.allowNet,
        env: p.allowEnv,
      },
      onError,
    },
    checkpointDir: p.checkpoint === undefined ? undefined : path(p.checkpoint),
    onError,
  };
}
