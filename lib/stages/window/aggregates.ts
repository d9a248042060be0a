/**
 * Window aggregations: `count()`, `count(x)`, `sum(x)`, `avg(x)`, `min(x)`, `max(x)`, `pNN(x)`
 * (exact quantiles, linear interpolation between ranks as numpy's default), `distinct(x)` (count
 * of distinct values), `first(x)` and `last(x)` (by event time; ties keep arrival order). `x` is
 * a dotted path or a CEL expression. Missing or null values are ignored, as SQL does; a value of
 * the wrong type is an error for that event.
 *
 * A window's accumulators live in one flat array of slots, laid out once from the spec, so that
 * adding an event allocates nothing and checkpoints can store numeric slots as columns.
 *
 * @module
 */
import type { Envelope } from "../../envelope.ts";
import { UsageError } from "../../errors.ts";
import { ExpressionError } from "../../expr/cel.ts";
import { FieldError, type FieldReader, fieldReader, isFieldPath } from "./event_fields.ts";

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
  | "last";

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
  /** Takes numbers only. */
  numeric: boolean;
  /** Index of the first slot. */
  slot: number;
}

/** Numeric slots (stored as float columns in checkpoints) vs. JSON slots, by kind. */
const SLOT_TYPES: Record<AggregateKind, ("num" | "json")[]> = {
  count: ["num"],
  sum: ["num", "num"],
  avg: ["num", "num"],
  min: ["num"],
  max: ["num"],
  quantile: ["json"],
  distinct: ["json"],
  first: ["num", "json"],
  last: ["num", "json"],
};

const NUMERIC: ReadonlySet<AggregateKind> = new Set(["sum", "avg", "min", "max", "quantile"]);

/** The parsed `--agg` list and its slot layout. */
export interface AggregateSpec {
  aggregates: Aggregate[];
  /** Kind of each slot, in order. */
  slotTypes: ("num" | "json")[];
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
 * import { parseAggregates } from "./aggregates.ts";
 * const spec = parseAggregates("count(), avg(value.delay), p95(value.delay) as p95");
 * console.assert(spec.aggregates.map((a) => a.name).join() === "count,avg_value_delay,p95");
 * ```
 */
export function parseAggregates(text: string): AggregateSpec {
  const aggregates: Aggregate[] = [];
  const slotTypes: ("num" | "json")[] = [];
  const names = new Set<string>();
  for (const part of splitTopLevel(text)) {
    const match = /^(\w+)\s*\(([\s\S]*)\)(?:\s+as\s+([A-Za-z_]\w*))?$/.exec(part);
    if (!match) {
      throw new UsageError(`--agg: cannot read '${part}' (expected e.g. avg(value.delay))`);
    }
    const [, fn, rawArg, alias] = match;
    const arg = rawArg.trim();
    let kind: AggregateKind;
    let q: number | undefined;
    const quantile = /^p(\d{1,2}(?:\.\d+)?)$/.exec(fn);
    if (quantile) {
      kind = "quantile";
      q = Number(quantile[1]) / 100;
      if (!(q > 0 && q < 1)) throw new UsageError(`--agg: ${fn} is not a quantile in (0, 100)`);
    } else if (fn in SLOT_TYPES && fn !== "quantile") kind = fn as AggregateKind;
    else {
      throw new UsageError(
        `--agg: unknown function '${fn}' (count, sum, avg, min, max, pNN, distinct, first, last)`,
      );
    }
    if (arg === "" && kind !== "count") throw new UsageError(`--agg: ${fn}() needs an argument`);
    const name = alias ?? (arg === "" ? "count" : nameOf(fn, arg));
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
    const slots = arg === "" ? [] : SLOT_TYPES[kind];
    aggregates.push({
      kind,
      name,
      arg: arg === "" ? undefined : arg,
      read,
      q,
      numeric: NUMERIC.has(kind),
      slot: slotTypes.length,
    });
    slotTypes.push(...slots);
  }
  if (aggregates.length === 0) throw new UsageError("--agg: expected at least one aggregation");
  return { aggregates, slotTypes };
}

const templates = new WeakMap<AggregateSpec, unknown[]>();

/** Fresh accumulator slots for a new window. */
export function newSlots(spec: AggregateSpec): unknown[] {
  // Only numbers and nulls: copy a template (the common case, and the fast one).
  const template = templates.get(spec);
  if (template !== undefined) return template.slice();
  const slots = initialSlots(spec);
  if (slots.every((v) => v === null || typeof v === "number")) templates.set(spec, slots.slice());
  return slots;
}

function initialSlots(spec: AggregateSpec): unknown[] {
  const slots = new Array<unknown>(spec.slotTypes.length);
  for (const agg of spec.aggregates) {
    if (agg.read === undefined) continue;
    const s = agg.slot;
    switch (agg.kind) {
      case "count":
        slots[s] = 0;
        break;
      case "sum":
      case "avg":
        slots[s] = 0;
        slots[s + 1] = 0;
        break;
      case "min":
        slots[s] = Infinity;
        break;
      case "max":
        slots[s] = -Infinity;
        break;
      case "quantile":
        slots[s] = [];
        break;
      case "distinct":
        slots[s] = new Set<string | number | boolean>();
        break;
      case "first":
        slots[s] = Infinity;
        slots[s + 1] = null;
        break;
      case "last":
        slots[s] = -Infinity;
        slots[s + 1] = null;
        break;
    }
  }
  return slots;
}

/**
 * Reads every aggregated value of `event` into `into` (one entry per aggregate) and checks types,
 * before any window changes: an event with one bad value changes nothing.
 */
export function readValues(spec: AggregateSpec, event: Envelope, into: unknown[]): void {
  const aggs = spec.aggregates;
  for (let i = 0; i < aggs.length; i++) {
    const agg = aggs[i];
    if (agg.read === undefined) continue;
    let value = agg.read(event);
    if (value === null) value = undefined;
    if (value !== undefined && agg.numeric && typeof value !== "number") {
      throw new FieldError(
        `${agg.kind === "quantile" ? agg.name : agg.kind}(${agg.arg}): ${
          JSON.stringify(value)
        } is not a number`,
      );
    }
    into[i] = value;
  }
}

/** Adds one event's values (from {@linkcode readValues}) at event time `t` to `slots`. */
export function addValues(spec: AggregateSpec, slots: unknown[], values: unknown[], t: number) {
  const aggs = spec.aggregates;
  for (let i = 0; i < aggs.length; i++) {
    const agg = aggs[i];
    const value = values[i];
    if (agg.read === undefined || value === undefined) continue;
    const s = agg.slot;
    switch (agg.kind) {
      case "count":
        (slots[s] as number)++;
        break;
      case "sum":
      case "avg":
        (slots[s] as number)++;
        (slots[s + 1] as number) += value as number;
        break;
      case "min":
        if ((value as number) < (slots[s] as number)) slots[s] = value;
        break;
      case "max":
        if ((value as number) > (slots[s] as number)) slots[s] = value;
        break;
      case "quantile":
        (slots[s] as number[]).push(value as number);
        break;
      case "distinct":
        (slots[s] as Set<unknown>).add(typeof value === "object" ? JSON.stringify(value) : value);
        break;
      case "first":
        if (t < (slots[s] as number)) {
          slots[s] = t;
          slots[s + 1] = value;
        }
        break;
      case "last":
        if (t >= (slots[s] as number)) {
          slots[s] = t;
          slots[s + 1] = value;
        }
        break;
    }
  }
}

/** Merges `from` into `into` (session windows that grow together). */
export function mergeSlots(spec: AggregateSpec, into: unknown[], from: unknown[]): void {
  for (const agg of spec.aggregates) {
    if (agg.read === undefined) continue;
    const s = agg.slot;
    switch (agg.kind) {
      case "count":
        (into[s] as number) += from[s] as number;
        break;
      case "sum":
      case "avg":
        (into[s] as number) += from[s] as number;
        (into[s + 1] as number) += from[s + 1] as number;
        break;
      case "min":
        into[s] = Math.min(into[s] as number, from[s] as number);
        break;
      case "max":
        into[s] = Math.max(into[s] as number, from[s] as number);
        break;
      case "quantile":
        for (const v of from[s] as number[]) (into[s] as number[]).push(v);
        break;
      case "distinct":
        for (const v of from[s] as Set<unknown>) (into[s] as Set<unknown>).add(v);
        break;
      case "first":
        if ((from[s] as number) < (into[s] as number)) {
          into[s] = from[s];
          into[s + 1] = from[s + 1];
        }
        break;
      case "last":
        if ((from[s] as number) >= (into[s] as number)) {
          into[s] = from[s];
          into[s + 1] = from[s + 1];
        }
        break;
    }
  }
}

/** Exact quantile with linear interpolation between closest ranks (numpy's default). */
export function quantile(values: number[], q: number): number | null {
  if (values.length === 0) return null;
  const sorted = Float64Array.from(values).sort();
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, sorted.length - 1);
  const t = h - lo;
  const a = sorted[lo];
  const b = sorted[hi];
  // numpy's lerp: from the nearer end, so that the result is exact at both ends and monotone.
  return t >= 0.5 ? b - (b - a) * (1 - t) : a + (b - a) * t;
}

/** The result object of a window with `count` events. Aggregates of no values are null. */
export function results(spec: AggregateSpec, slots: unknown[], count: number) {
  const out: Record<string, unknown> = {};
  for (const agg of spec.aggregates) {
    const s = agg.slot;
    if (agg.read === undefined) {
      out[agg.name] = count;
      continue;
    }
    switch (agg.kind) {
      case "count":
        out[agg.name] = slots[s];
        break;
      case "sum":
        out[agg.name] = slots[s] === 0 ? null : slots[s + 1];
        break;
      case "avg":
        out[agg.name] = slots[s] === 0 ? null : (slots[s + 1] as number) / (slots[s] as number);
        break;
      case "min":
      case "max":
        out[agg.name] = Number.isFinite(slots[s]) ? slots[s] : null;
        break;
      case "quantile":
        out[agg.name] = quantile(slots[s] as number[], agg.q!);
        break;
      case "distinct":
        out[agg.name] = (slots[s] as Set<unknown>).size;
        break;
      case "first":
      case "last":
        out[agg.name] = slots[s + 1] ?? null;
        break;
    }
  }
  return out;
}
