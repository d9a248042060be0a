/**
 * What the compiled row encoders report about a field that cannot be encoded: the problem codes
 * the generated source passes to its `fail` callback, their texts, and the UTC calendar helpers
 * both the source and the texts use.
 *
 * @module
 */
import type { FeatureSpec } from "./model_spec.ts";

/** Thrown inside the compiled function, turned into a FeatureError by its wrapper. */
export class FieldProblem {
  constructor(readonly feature: FeatureSpec, readonly problem: string) {}
}

/** A feature's scaling as `(x - shift) / divide`: standard (mean, std) or min-max; none is 0 and 1. */
export function scaleTerms(
  scale: Extract<FeatureSpec, { kind: "numeric" }>["scale"],
): { shift: number; divide: number } {
  if (scale === undefined) return { shift: 0, divide: 1 };
  return scale.kind === "standard"
    ? { shift: scale.mean, divide: scale.std }
    : { shift: scale.min, divide: scale.max - scale.min };
}

// Problem codes passed from the compiled function to `fail`.
export const MISSING = 0;
export const NOT_TIMESTAMP = 1;
export const NOT_NUMBER = 2;
export const NOT_FINITE = 3;
export const NOT_CATEGORY = 4;
export const UNKNOWN = 5;
export const NOT_INTEGER = 6;

const MS_PER_DAY = 86_400_000;
const MS_PER_HOUR = 3_600_000;
/** The largest time value a Date holds; beyond it `getUTCHours()` is NaN. */
const MAX_TIME = 8.64e15;

/** UTC hour 0-23 of an epoch-milliseconds timestamp, as `new Date(ms).getUTCHours()`, or NaN. */
export function utcHour(ms: number): number {
  const t = Math.trunc(ms);
  if (!(t >= -MAX_TIME && t <= MAX_TIME)) return NaN;
  let inDay = t % MS_PER_DAY;
  if (inDay < 0) inDay += MS_PER_DAY;
  return (inDay / MS_PER_HOUR) | 0; // never -0
}

/** UTC weekday (0 = Sunday) of an epoch-milliseconds timestamp, as `getUTCDay()`, or NaN. */
export function utcWeekday(ms: number): number {
  const t = Math.trunc(ms);
  if (!(t >= -MAX_TIME && t <= MAX_TIME)) return NaN;
  let inDay = t % MS_PER_DAY;
  if (inDay < 0) inDay += MS_PER_DAY;
  const day = (t - inDay) / MS_PER_DAY; // exact: an integer multiple
  const weekday = (day + 4) % 7; // 1 January 1970 was a Thursday
  return weekday < 0 ? weekday + 7 : weekday + 0; // never -0
}

/** Index of a number or boolean category by its JSON spelling; -1 unknown, -2 not a category. */
export function otherIndex(index: Map<string, number>, raw: unknown): number {
  const word = categoryText(raw);
  if (word === undefined) return -2;
  return index.get(word) ?? -1;
}

/** The text of a problem `code` that the compiled function reported for `raw`. */
export function problemText(feature: FeatureSpec, code: number, raw: unknown): string {
  switch (code) {
    case MISSING:
      return "missing (no default)";
    case NOT_TIMESTAMP:
      return `${
        "transform" in feature ? feature.transform : ""
      } needs a timestamp in epoch milliseconds, got ${describeValue(raw)}`;
    case NOT_NUMBER:
      return `expected a number, got ${describeValue(raw)}`;
    case NOT_FINITE:
      return `${raw} is not a finite number`;
    case NOT_CATEGORY:
      return `expected a string or number, got ${describeValue(raw)}`;
    case NOT_INTEGER:
      return `${raw} is not an integer (the input holds integers)`;
    default: {
      const vocabulary = feature.kind === "categorical" ? feature.vocabulary.length : 0;
      const transform = feature.kind === "categorical" ? feature.transform : undefined;
      const word = transform === undefined ? categoryText(raw) : String(
        transform === "hourOfDay" ? utcHour(raw as number) : utcWeekday(raw as number),
      );
      return `unknown category ${JSON.stringify(word)} (not in its ${vocabulary}-entry vocabulary)`;
    }
  }
}

/** The vocabulary spelling of a category value, or undefined when it cannot be one. */
export function categoryText(raw: unknown): string | undefined {
  if (typeof raw === "string") return raw;
  if (typeof raw === "number" && Number.isFinite(raw)) return String(raw);
  if (typeof raw === "boolean") return raw ? "true" : "false";
  return undefined;
}

/** A short description of a raw value for error texts (strings cut at 40 characters). */
export function describeValue(raw: unknown): string {
  if (typeof raw === "string") {
    return `string ${JSON.stringify(raw.length > 40 ? raw.slice(0, 40) + "…" : raw)}`;
  }
  if (raw === null) return "null";
  if (Array.isArray(raw)) return "an array";
  if (typeof raw === "object") return "an object";
  return `${typeof raw} ${String(raw)}`;
}
