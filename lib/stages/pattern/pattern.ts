/**
 * `pattern`: event patterns per key (complex event processing) — a sequence of CEL conditions
 * with quantifiers and negations, within a time, in event-time order — as a stateful stage with
 * the window stage's checkpoints and acknowledgements. See `docs/patterns.md`.
 *
 * @module
 */
import { type CheckpointData, CheckpointFormatError } from "../../checkpoint/format.ts";
import type { CheckpointStore, Restored, RestoreOptions } from "../../checkpoint/store.ts";
import type { Envelope } from "../../envelope.ts";
import { InputError } from "../../errors.ts";
import { compileExpression } from "../../expr/cel.ts";
import type { Stage } from "../types.ts";
import { progressOf, type StageProgress } from "../keyed/progress.ts";
import { statefulStage, withCheckpoints } from "../keyed/stateful_stage.ts";
import { openStageCheckpoints, type StatefulStageOptions } from "../keyed/stateful_options.ts";
import { eventTimeReader, keyReader } from "../window/event_fields.ts";
import { parsePattern, PatternError } from "./pattern_language.ts";
import { type Partial, type PatternEvent, PatternOperator } from "./pattern_operator.ts";

/** The checkpoint kind of pattern stages. */
export const PATTERN_KIND = "edgepipe.pattern";

/** Options of {@linkcode pattern}. */
export interface PatternOptions extends Omit<StatefulStageOptions, "name"> {
  /** The pattern, e.g. `late !ontime late !ontime late` (see `pattern_language.ts`). */
  pattern: string;
  /** The conditions it names: name → CEL predicate over `event`. */
  define: Record<string, string>;
  /** Dotted path (falls back to `value.<path>`) or CEL expression giving the key. */
  key: string;
  /** Longest time (ms) from a match's first event to its last. */
  within: number;
  /** Event-time field (default `eventTime`, falling back to `publishTime`). */
  time?: string;
  /** How far (ms) events may arrive out of order before the watermark passes them. */
  outOfOrderness?: number;
  /** `relaxed` (default) or `strict`. */
  contiguity?: "relaxed" | "strict";
  /** `none` (default) or `past-last`. */
  skip?: "none" | "past-last";
}

/** The settings that a checkpoint must have been written with to be restored. */
export function patternConfig(options: PatternOptions): string {
  return JSON.stringify({
    pattern: options.pattern,
    define: options.define,
    key: options.key,
    within: options.within,
    time: options.time ?? "eventTime",
    outOfOrderness: options.outOfOrderness ?? 0,
    contiguity: options.contiguity ?? "relaxed",
    skip: options.skip ?? "none",
  });
}

function condition(name: string, source: string): (event: Envelope) => boolean {
  const compiled = compileExpression(source);
  return (event) => {
    const result = compiled.evaluate(event);
    if (typeof result !== "boolean") {
      throw new InputError(
        `condition ${name} '${source}' gave ${JSON.stringify(result)}, not a bool`,
      );
    }
    return result;
  };
}

/**
 * A pattern stage: one result per match, `{key, eventTime, value: {start, end, events}}` with the
 * matched events' values by condition name.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { pattern } from "./pattern.ts";
 * const stage = pattern({
 *   pattern: "declined{2,} approved",
 *   define: { declined: "!event.value.ok", approved: "event.value.ok" },
 *   key: "card",
 *   within: 600_000,
 * });
 * const events = [false, false, true].map((ok, i) => ({
 *   eventTime: i * 1000,
 *   value: { card: "c1", ok },
 * }));
 * const [match] = await Array.fromAsync(stage(ReadableStream.from(events)));
 * const value = (match as { value: { events: { declined: unknown[] } } }).value;
 * assert.equal(value.events.declined.length, 2);
 * ```
 */
export function pattern(options: PatternOptions): Stage {
  const parsed = parsePattern(options.pattern);
  const conditions = new Map<string, (event: Envelope) => boolean>();
  for (const name of parsed.names) {
    const source = options.define[name];
    if (source === undefined) {
      throw new PatternError(`pattern: '${name}' is not defined (--define ${name}=<CEL>)`);
    }
    conditions.set(name, condition(name, source));
  }
  for (const name of Object.keys(options.define)) {
    if (!parsed.names.includes(name)) {
      throw new PatternError(`pattern: '${name}' is defined but the pattern does not use it`);
    }
  }
  if (!(options.within > 0)) throw new PatternError("pattern: within must be more than 0");
  if (parsed.trailingNot.length > 0 && options.skip === "past-last") {
    throw new PatternError("pattern: --skip past-last does not go with a negation at the end");
  }
  const keyOf = keyReader(options.key);
  const timeOf = eventTimeReader(options.time);
  const config = patternConfig(options);
  return statefulStage((trackIds) => {
    const op = new PatternOperator({
      pattern: parsed,
      conditions,
      keyOf,
      timeOf,
      within: options.within,
      outOfOrderness: options.outOfOrderness,
      contiguity: options.contiguity,
      skip: options.skip,
      trackIds,
    });
    return withCheckpoints(
      op,
      (progress) => snapshotPattern(op, progress, config),
      (data) => restorePattern(op, data),
    );
  }, {
    ...options,
    name: "pattern",
    resultIdPrefix: "p",
    lateMeaning: "older than the watermark",
  });
}

type EventRow = [key: string, seq: number, value: unknown, hits: number[]];
type PartialRow = [
  key: string,
  start: number,
  first: number,
  born: number,
  step: number,
  count: number,
  taken: number[][],
  waiting?: number,
];

/** The pattern's waiting events and partial matches and the stage's progress, as a checkpoint. */
export function snapshotPattern(
  op: PatternOperator,
  progress: StageProgress,
  config: string,
): CheckpointData {
  const alive = op.alive();
  const events = new Map<number, PatternEvent>();
  for (const e of op.buffer) events.set(e.seq, e);
  for (const p of alive) for (const taken of p.taken) for (const e of taken) events.set(e.seq, e);
  const rows = [...events.values()].sort((a, b) => a.seq - b.seq);
  return {
    json: {
      kind: PATTERN_KIND,
      config,
      watermark: Number.isFinite(op.watermark) ? op.watermark : null,
      maxTime: Number.isFinite(op.maxTime) ? op.maxTime : null,
      seq: op.seq,
      born: op.born,
      ...progress,
      events: rows.map((e): EventRow => [e.key, e.seq, e.value, e.hits.map(Number)]),
      buffered: op.buffer.map((e) => e.seq),
      partials: alive.map((p): PartialRow => [
        p.key,
        p.start,
        p.first,
        p.born,
        p.step,
        p.count,
        p.taken.map((t) => t.map((e) => e.seq)),
        p.waiting ? 1 : 0,
      ]),
    },
    columns: [Float64Array.from(rows, (e) => e.time)],
  };
}

/** Loads a checkpoint written by {@linkcode snapshotPattern} into a fresh operator. */
export function restorePattern(op: PatternOperator, data: CheckpointData): StageProgress {
  const json = data.json as unknown as {
    watermark: number | null;
    maxTime: number | null;
    seq: number;
    born: number;
    events: EventRow[];
    buffered: number[];
    partials: PartialRow[];
  };
  const [times] = data.columns;
  if (!Array.isArray(json.events) || times === undefined || times.length !== json.events.length) {
    throw new CheckpointFormatError("pattern rows do not match");
  }
  const bySeq = new Map<number, PatternEvent>();
  json.events.forEach(([key, seq, value, hits], i) => {
    bySeq.set(seq, { key, seq, time: times[i], value, hits: hits.map(Boolean), refs: 0 });
  });
  const event = (seq: number) => {
    const e = bySeq.get(seq);
    if (e === undefined) throw new CheckpointFormatError(`pattern event ${seq} is missing`);
    e.refs++;
    return e;
  };
  op.watermark = json.watermark ?? -Infinity;
  op.maxTime = json.maxTime ?? -Infinity;
  op.seq = json.seq;
  op.born = json.born;
  // The heap's array order is a valid heap: keep it as it was.
  op.buffer = json.buffered.map(event);
  for (const [key, start, first, born, step, count, taken, waiting] of json.partials) {
    const p: Partial = {
      key,
      start,
      first,
      born,
      step,
      count,
      taken: taken.map((t) => t.map(event)),
    };
    if (waiting === 1) p.waiting = true;
    op.restorePartial(p);
  }
  return progressOf(data.json);
}

/** Opens (and locks) a pattern stage's checkpoint directory; see `openWindowCheckpoints`. */
export function openPatternCheckpoints(
  dir: string,
  options: PatternOptions,
  warn?: (message: string) => void,
  restore: RestoreOptions = {},
): Promise<{ store: CheckpointStore; restored?: Restored; outputPosition: number }> {
  return openStageCheckpoints(dir, PATTERN_KIND, patternConfig(options), warn, restore, "pattern");
}
