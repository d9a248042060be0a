/**
 * Event time from a record field, for `replay` and the replay source of `edgepipe run`: epoch
 * milliseconds, an ISO-8601 string (UTC when it has no offset), or a date value (as the Parquet
 * reader gives for timestamp columns). The parsing itself is {@linkcode parseEventTime}, shared by
 * every command.
 *
 * @module
 */
import { InputError } from "../errors.ts";
import { EventTimeError, parseEventTime, shown } from "../time/event_time.ts";

/**
 * Converts a field value to epoch milliseconds, or throws an {@linkcode InputError} naming the
 * field and the value.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { toEventTime } from "./event_time.ts";
 * assert.equal(toEventTime("2001-01-01T00:01:00Z", "date"), 978307260000);
 * assert.equal(toEventTime("2001-01-01T00:01:00", "date"), 978307260000);
 * assert.equal(toEventTime(978307260000, "date"), 978307260000);
 * assert.equal(toEventTime(new Date(5), "date"), 5);
 * ```
 */
export function toEventTime(value: unknown, field: string): number {
  try {
    return parseEventTime(value);
  } catch (cause) {
    if (!(cause instanceof EventTimeError)) throw cause;
    throw new InputError(`event time field '${field}' is ${shown(value)}; ${cause.reason}`, {
      cause,
    });
  }
}
