/**
 * The one event-time parser of edgepipe. Every command and `edgepipe run` reads event times
 * through it, so that the same input gives the same windows, prefixes and message times on every
 * machine, whatever its time zone.
 *
 * An event time is epoch milliseconds (a number, a bigint, or a string of digits), a `Date`, or an
 * ISO-8601 / RFC 3339 date-time string. **An ISO string without an offset is UTC**, never the
 * machine's local time: `2001-03-12T06:00` is `2001-03-12T06:00Z`. A date alone is midnight UTC.
 * Times outside JavaScript's representable range (±8.64e15 ms from the epoch, the years -271821
 * to 275760) are bad event times.
 *
 * @module
 */
import { InputError } from "../errors.ts";

/** The largest distance from the epoch a time can have, in milliseconds (±100,000,000 days). */
export const MAX_EVENT_TIME = 8.64e15;

const EXPECTED = "expected epoch milliseconds or an ISO-8601 date";
const OUT_OF_RANGE = `outside the representable range (±${MAX_EVENT_TIME} ms from 1970)`;

/** A value that is not an event time; `reason` says why, for callers that name the field. */
export class EventTimeError extends InputError {
  /** Why the value was refused: not a time at all, or outside the representable range. */
  readonly reason: string;

  /** `reason` completes the message `event time <value>: <reason>`. */
  constructor(value: unknown, reason: string, options?: ErrorOptions) {
    super(`event time ${shown(value)}: ${reason}`, options);
    this.reason = reason;
  }
}

/** The value as an error message shows it: JSON, at most 60 characters, or `missing`. */
export function shown(value: unknown): string {
  if (value === undefined) return "missing";
  if (typeof value === "bigint") return `${value}n`;
  if (typeof value === "number" && !Number.isFinite(value)) return String(value);
  return (JSON.stringify(value) ?? String(value)).slice(0, 60);
}

const DIGITS = /^-?\d+(?:\.\d+)?$/;
// Date, then optionally time (minutes required), then optionally an offset.
const ISO = new RegExp(
  "^([+-]\\d{6}|\\d{4})-(\\d{2})-(\\d{2})" +
    "(?:[Tt ](\\d{2}):(\\d{2})(?::(\\d{2})(?:[.,](\\d+))?)?" +
    "([Zz]|[+-]\\d{2}(?::?\\d{2})?)?)?$",
);

// Sorted replays repeat the same text in consecutive records: remember the last one.
let lastText = "";
let lastMs = Number.NaN;

/**
 * Converts an event time to epoch milliseconds, or throws {@linkcode EventTimeError}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseEventTime } from "./event_time.ts";
 * // No offset: UTC, on every machine.
 * assert.equal(parseEventTime("2001-03-12T06:00"), 984376800000);
 * assert.equal(parseEventTime("2001-03-12T01:00-05:00"), 984376800000);
 * assert.equal(parseEventTime(984376800000), 984376800000);
 * assert.throws(() => parseEventTime(1e308), /outside the representable range/);
 * ```
 */
export function parseEventTime(value: unknown): number {
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new EventTimeError(value, EXPECTED);
    return inRange(value, value);
  }
  if (typeof value === "string") {
    if (value === lastText) return lastMs;
    const ms = parseText(value);
    lastText = value;
    lastMs = ms;
    return ms;
  }
  if (typeof value === "bigint") return inRange(Number(value), value);
  if (value instanceof Date) {
    const ms = value.getTime();
    if (Number.isNaN(ms)) throw new EventTimeError(value, "an invalid Date");
    return ms;
  }
  throw new EventTimeError(value, EXPECTED);
}

function inRange(ms: number, value: unknown): number {
  if (ms >= -MAX_EVENT_TIME && ms <= MAX_EVENT_TIME) return ms;
  throw new EventTimeError(value, OUT_OF_RANGE);
}

function parseText(value: string): number {
  const text = value.trim();
  if (DIGITS.test(text)) return inRange(Number(text), value);
  const match = ISO.exec(text);
  if (!match) throw new EventTimeError(value, EXPECTED);
  const [, y, mo, d, h, mi, s, fraction, offset] = match;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = h === undefined ? 0 : Number(h);
  const minute = mi === undefined ? 0 : Number(mi);
  const second = s === undefined ? 0 : Number(s);
  const ms = fraction === undefined ? 0 : Number(fraction.slice(0, 3).padEnd(3, "0"));
  const endOfDay = hour === 24 && minute === 0 && second === 0 && ms === 0;
  if (
    y === "-000000" || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month) ||
    (hour > 23 && !endOfDay) || minute > 59 || second > 59
  ) {
    throw new EventTimeError(value, `${EXPECTED} (no such date or time of day)`);
  }
  const local = daysFromCivil(year, month, day) * 86_400_000 +
    ((hour * 60 + minute) * 60 + second) * 1000 + ms;
  return inRange(local - offsetMinutes(offset, value) * 60_000, value);
}

function offsetMinutes(offset: string | undefined, value: string): number {
  if (offset === undefined || offset === "Z" || offset === "z") return 0;
  const sign = offset[0] === "-" ? -1 : 1;
  const digits = offset.slice(1).replace(":", "");
  const hours = Number(digits.slice(0, 2));
  const minutes = digits.length > 2 ? Number(digits.slice(2)) : 0;
  if (hours > 23 || minutes > 59) {
    throw new EventTimeError(value, `${EXPECTED} (offset ${offset} is out of range)`);
  }
  return sign * (hours * 60 + minutes);
}

function isLeap(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

function daysInMonth(year: number, month: number): number {
  return month === 2
    ? (isLeap(year) ? 29 : 28)
    : [31, 0, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1];
}

/** Days from 1970-01-01 to the proleptic Gregorian date (H. Hinnant's days_from_civil). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) +
    dayOfYear;
  return era * 146_097 + dayOfEra - 719_468;
}
