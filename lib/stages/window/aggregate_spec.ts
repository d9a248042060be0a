/**
 * The `--agg` list of a window: `count()`, `sum(x)`, `avg(x)`, `min(x)`, `max(x)`, `pNN(x)`,
 * `distinct(x)`, `first(x)`, `last(x)` and `collect(x, N)`, parsed into aggregates and laid out
 * into the numeric and object slots of a window's accumulators (see `aggregates.ts`).
 *
 * @module
 */
import { UsageError } from "../../errors.ts";
import { ExpressionError } from "../../expr/cel.ts";
import { type FieldReader, fieldReader, isFieldPath } from "./event_fields.ts";

/** The aggregation functions. */
export type AggregateKind =
  | "count"
  | "sum"
  | "avg"
  | "min"
  | "max"
  | "quantile"
  | "distinct"
  | "first"
  | "last"
  | "collect";

/** One parsed aggregation. */
export interface Aggregate {
  kind: AggregateKind;
  /** Result field name in `value`. */
  name: string;
  /** The argument as written; undefined for `count()`. */
  arg?: string;
  read?: FieldReader;
  /** For quantiles: 0 < q < 1. */
  q?: number;
  /** For `collect`: the most values kept. */
  limit?: number;
  /** Takes numbers only. */
  numeric: boolean;
  /** Index of its first numeric slot. */
  slot: number;
  /** Index of its object slot. */
  objSlot: number;
}

/** How many numeric and object slots each kind takes. */
export const SLOTS: Record<AggregateKind, [number, number]> = {
  count: [1, 0],
  sum: [2, 0],
  avg: [2, 0],
  min: [1, 0],
  max: [1, 0],
  quantile: [0, 1],
  distinct: [0, 1],
  first: [1, 1],
  last: [1, 1],
  collect: [0, 1],
};

/** The largest N of `collect(x, N)`: a window's values are held in memory until it fires. */
export const MAX_COLLECT = 1 << 16;

export const NUMERIC: ReadonlySet<AggregateKind> = new Set([
  "sum",
  "avg",
  "min",
  "max",
  "quantile",
]);

/** The parsed `--agg` list and its slot layout. */
export interface AggregateSpec {
  aggregates: Aggregate[];
  /** Numeric slots per window. */
  numSlots: number;
  /** Object slots per window. */
  objSlots: number;
}

/** Splits on commas that are not inside parentheses, brackets or strings. */
function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quote = "";
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === "\\") i++;
      else if (c === quote) quote = "";
    } else if (c === '"' || c === "'") quote = c;
    else if (c === "(" || c === "[" || c === "{") depth++;
    else if (c === ")" || c === "]" || c === "}") depth--;
    else if (c === "," && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts.map((p) => p.trim()).filter((p) => p !== "");
}

function nameOf(kind: string, arg: string): string {
  const base = isFieldPath(arg) ? arg.replaceAll(".", "_") : arg.replace(/\W+/g, "_");
  return `${kind}_${base.replace(/^_+|_+$/g, "")}`;
}

/**
 * Parses an `--agg` list such as `count(), avg(value.delay) as avg_delay, p95(value.delay)`.
 * Default result names are `count` and `<fn>_<path with _ for .>` (`avg_value_delay`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseAggregates } from "./aggregates.ts";
 * const spec = parseAggregates("count(), avg(value.delay), p95(value.delay) as p95");
 * assert.equal(spec.aggregates.map((a) => a.name).join(), "count,avg_value_delay,p95");
 * ```
 */
export function parseAggregates(text: string): AggregateSpec {
  const aggregates: Aggregate[] = [];
  let numSlots = 0;
  let objSlots = 0;
  const names = new Set<string>();
  for (const part of splitTopLevel(text)) {
    const match = /^([\w.]+)\s*\(([\s\S]*)\)(?:\s+as\s+([A-Za-z_]\w*))?$/.exec(part);
    if (!match) {
      throw new UsageError(`--agg: cannot read '${part}' (expected e.g. avg(value.delay))`);
    }
    const [, fn, rawArg, alias] = match;
    let arg = rawArg.trim();
    let limit: number | undefined;
    if (fn === "collect") {
      const parts = splitTopLevel(arg);
      const n = parts.length === 2 ? parts[1] : "";
      if (!/^[1-9][0-9]*$/.test(n) || Number(n) > MAX_COLLECT) {
        throw new UsageError(
          `--agg: collect needs a field and a count from 1 to ${MAX_COLLECT}: collect(value.x, 64), got '${part}'`,
        );
      }
      arg = parts[0];
      limit = Number(n);
    }
    let kind: AggregateKind;
    let q: number | undefined;
    const quantile = /^p(\d{1,2}(?:\.\d+)?)$/.exec(fn);
    if (quantile) {
      kind = "quantile";
      q = Number(`${quantile[1]}e-2`); // the decimal as written: 99.9 → 0.999 exactly
      if (!(q > 0 && q < 1)) throw new UsageError(`--agg: ${fn} is not a quantile in (0, 100)`);
    } else if (fn in SLOTS && fn !== "quantile") kind = fn as AggregateKind;
    else {
      throw new UsageError(
        `--agg: unknown function '${fn}' (count, sum, avg, min, max, pNN, distinct, first, last, collect)`,
      );
    }
    if (arg === "" && kind !== "count") throw new UsageError(`--agg: ${fn}() needs an argument`);
    const name = alias ?? (arg === "" ? "count" : nameOf(fn.replace(".", "_"), arg));
    if (names.has(name)) {
      throw new UsageError(`--agg: two results named '${name}' (rename one with 'as <name>')`);
    }
    names.add(name);
    let read: FieldReader | undefined;
    if (arg !== "") {
      try {
        read = fieldReader(arg);
      } catch (err) {
        if (err instanceof ExpressionError) throw new UsageError(err.message, { cause: err });
        throw err;
      }
    }
    const [nums, objs] = arg === "" ? [0, 0] : SLOTS[kind];
    aggregates.push({
      kind,
      name,
      arg: arg === "" ? undefined : arg,
      read,
      q,
      limit,
      numeric: NUMERIC.has(kind),
      slot: numSlots,
      objSlot: objSlots,
    });
    numSlots += nums;
    objSlots += objs;
  }
  if (aggregates.length === 0) throw new UsageError("--agg: expected at least one aggregation");
  return { aggregates, numSlots, objSlots };
}
