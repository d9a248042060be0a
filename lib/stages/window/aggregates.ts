/**
 * Window aggregations: `count()`, `count(x)`, `sum(x)`, `avg(x)`, `min(x)`, `max(x)`, `pNN(x)`
 * (exact quantiles, linear interpolation between ranks as numpy's default), `distinct(x)` (count
 * of distinct values), `first(x)` and `last(x)` (by event time; ties keep arrival order), `collect(x, N)` (the array
 * of the last N values by event time, ties in arrival order: a sequence for a tensor feature). `x` is
 * a dotted path or a CEL expression. Missing or null values are ignored, as SQL does; a value of
 * the wrong type is an error for that event.
 *
 * A window's accumulators live in two flat arrays laid out once from the spec: an array of
 * numbers only (counts, sums, extremes, first/last times), which the engine stores as unboxed
 * doubles, so that adding an event allocates nothing, not even a boxed number; and an array for
 * the rest (quantile samples, distinct sets,
 * first/last values). Checkpoints store the numeric slots as float64 columns.
 *
 * @module
 */
import type { Envelope } from "../../envelope.ts";
import type { AggregateSpec } from "./aggregate_spec.ts";
import { FieldError } from "./event_fields.ts";

export {
  type Aggregate,
  type AggregateKind,
  type AggregateSpec,
  MAX_COLLECT,
  parseAggregates,
} from "./aggregate_spec.ts";

/** A window's accumulators. */
export interface Slots {
  /** Numbers only: keep it that way, or the engine boxes every update. */
  num: number[];
  /** Undefined when the spec has no object slots. */
  obj: unknown[] | undefined;
}

const templates = new WeakMap<AggregateSpec, number[]>();

/** Fresh numeric accumulators for a new window. */
export function newNum(spec: AggregateSpec): number[] {
  let template = templates.get(spec);
  if (template === undefined) {
    // 0.5 then 0: an array the engine has seen hold a fraction stores doubles unboxed.
    template = new Array<number>(spec.numSlots).fill(0.5).fill(0);
    for (const agg of spec.aggregates) {
      if (agg.read === undefined) continue;
      if (agg.kind === "min" || agg.kind === "first") template[agg.slot] = Infinity;
      if (agg.kind === "max" || agg.kind === "last") template[agg.slot] = -Infinity;
    }
    templates.set(spec, template);
  }
  return template.slice();
}

/** Fresh object accumulators for a new window, or undefined when the spec needs none. */
export function newObj(spec: AggregateSpec): unknown[] | undefined {
  if (spec.objSlots === 0) return undefined;
  const obj = new Array<unknown>(spec.objSlots);
  for (const agg of spec.aggregates) {
    if (agg.read === undefined) continue;
    if (agg.kind === "quantile") obj[agg.objSlot] = [];
    else if (agg.kind === "distinct") obj[agg.objSlot] = new Set<unknown>();
    else if (agg.kind === "collect") obj[agg.objSlot] = [];
    else if (agg.kind === "first" || agg.kind === "last") obj[agg.objSlot] = null;
  }
  return obj;
}

/** Fresh accumulators for a new window. */
export function newSlots(spec: AggregateSpec): Slots {
  return { num: newNum(spec), obj: newObj(spec) };
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

/** Adds one event's values (from {@linkcode readValues}) at event time `t`. */
export function addValues(spec: AggregateSpec, slots: Slots, values: unknown[], t: number) {
  const aggs = spec.aggregates;
  const num = slots.num;
  const obj = slots.obj!;
  for (let i = 0; i < aggs.length; i++) {
    const agg = aggs[i];
    const value = values[i];
    if (agg.read === undefined || value === undefined) continue;
    const s = agg.slot;
    switch (agg.kind) {
      case "count":
        num[s]++;
        break;
      case "sum":
      case "avg":
        num[s]++;
        num[s + 1] += value as number;
        break;
      case "min":
        if ((value as number) < num[s]) num[s] = value as number;
        break;
      case "max":
        if ((value as number) > num[s]) num[s] = value as number;
        break;
      case "quantile":
        (obj[agg.objSlot] as number[]).push(value as number);
        break;
      case "distinct":
        (obj[agg.objSlot] as Set<unknown>).add(
          typeof value === "object" ? JSON.stringify(value) : value,
        );
        break;
      case "first":
        if (t < num[s]) {
          num[s] = t;
          obj[agg.objSlot] = value;
        }
        break;
      case "last":
        if (t >= num[s]) {
          num[s] = t;
          obj[agg.objSlot] = value;
        }
        break;
      case "collect":
        collectAdd(obj[agg.objSlot] as unknown[], t, value, agg.limit!);
        break;
    }
  }
}

/**
 * Adds `value` at time `t` to a `collect` list: flat `[t0, v0, t1, v1, …]` in event-time order
 * (a tie goes after the values already there), at most `limit` pairs (the earliest go first).
 * The same steps as the generated code in `compiled_aggregates.ts`.
 */
export function collectAdd(list: unknown[], t: number, value: unknown, limit: number): void {
  let j = list.length;
  while (j > 0 && (list[j - 2] as number) > t) j -= 2;
  if (j === list.length) list.push(t, value);
  else list.splice(j, 0, t, value);
  if (list.length > 2 * limit) list.splice(0, 2);
}

/** The values of a `collect` list, in order. */
export function collectValues(list: readonly unknown[]): unknown[] {
  const out = new Array<unknown>(list.length >> 1);
  for (let i = 1, k = 0; i < list.length; i += 2) out[k++] = list[i];
  return out;
}

/** Merges `from` into `into` (session windows that grow together). */
export function mergeSlots(spec: AggregateSpec, into: Slots, from: Slots): void {
  const a = into.num;
  const b = from.num;
  for (const agg of spec.aggregates) {
    if (agg.read === undefined) continue;
    const s = agg.slot;
    const o = agg.objSlot;
    switch (agg.kind) {
      case "count":
        a[s] += b[s];
        break;
      case "sum":
      case "avg":
        a[s] += b[s];
        a[s + 1] += b[s + 1];
        break;
      case "min":
        a[s] = Math.min(a[s], b[s]);
        break;
      case "max":
        a[s] = Math.max(a[s], b[s]);
        break;
      case "quantile":
        for (const v of from.obj![o] as number[]) (into.obj![o] as number[]).push(v);
        break;
      case "distinct":
        for (const v of from.obj![o] as Set<unknown>) (into.obj![o] as Set<unknown>).add(v);
        break;
      case "first":
        if (b[s] < a[s]) {
          a[s] = b[s];
          into.obj![o] = from.obj![o];
        }
        break;
      case "last":
        if (b[s] >= a[s]) {
          a[s] = b[s];
          into.obj![o] = from.obj![o];
        }
        break;
      case "collect": {
        const list = into.obj![o] as unknown[];
        const other = from.obj![o] as unknown[];
        for (let i = 0; i < other.length; i += 2) {
          collectAdd(list, other[i] as number, other[i + 1], agg.limit!);
        }
        break;
      }
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
export function results(spec: AggregateSpec, slots: Slots, count: number) {
  const out: Record<string, unknown> = {};
  const num = slots.num;
  for (const agg of spec.aggregates) {
    const s = agg.slot;
    if (agg.read === undefined) {
      out[agg.name] = count;
      continue;
    }
    switch (agg.kind) {
      case "count":
        out[agg.name] = num[s];
        break;
      case "sum":
        out[agg.name] = num[s] === 0 ? null : num[s + 1];
        break;
      case "avg":
        out[agg.name] = num[s] === 0 ? null : num[s + 1] / num[s];
        break;
      case "min":
      case "max":
        out[agg.name] = Number.isFinite(num[s]) ? num[s] : null;
        break;
      case "quantile":
        out[agg.name] = quantile(slots.obj![agg.objSlot] as number[], agg.q!);
        break;
      case "distinct":
        out[agg.name] = (slots.obj![agg.objSlot] as Set<unknown>).size;
        break;
      case "first":
      case "last":
        out[agg.name] = slots.obj![agg.objSlot] ?? null;
        break;
      case "collect":
        out[agg.name] = collectValues(slots.obj![agg.objSlot] as unknown[]);
        break;
    }
  }
  return out;
}
