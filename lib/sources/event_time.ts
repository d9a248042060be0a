/**
 * Event time from a record field: epoch milliseconds, an ISO-8601 string, or a date value (as the
 * Parquet reader gives for timestamp columns).
 *
 * @module
 */
import { InputError } from "../errors.ts";

// Replayed files are often sorted by time: consecutive records repeat the same text.
let lastText: string | undefined;
let lastMs = 0;

/**
 * Converts a field value to epoch milliseconds, or throws an {@linkcode InputError} naming the
 * field and the value.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { toEventTime } from "./event_time.ts";
 * assert.equal(toEventTime("2001-01-01T00:01:00Z", "date"), 978307260000);
 * assert.equal(toEventTime(978307260000, "date"), 978307260000);
 * assert.equal(toEventTime(new Date(5), "date"), 5);
 * ```
 */
export function toEventTime(value: unknown, field: string): number {
  if (typeof value === "number" && Number.isFinite(value)) return value;
  if (typeof value === "bigint") return Number(value);
  if (value instanceof Date && !Number.isNaN(value.getTime())) return value.getTime();
  if (typeof value === "string") {
    if (value === lastText) return lastMs;
    const trimmed = value.trim();
    if (/^-?\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed);
    const ms = Date.parse(trimmed);
    if (!Number.isNaN(ms)) {
      lastText = value;
      lastMs = ms;
      return ms;
    }
  }
  const shown = value === undefined ? "missing" : JSON.stringify(value)?.slice(0, 60);
  throw new InputError(
    `event time field '${field}' is ${shown}; expected epoch milliseconds or an ISO-8601 date`,
  );
}
