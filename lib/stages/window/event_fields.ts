/**
 * Reading the fields a window needs from an event: dotted paths that fall back to the same path
 * under `value` (so `--key origin` finds `value.origin`), event times as epoch milliseconds or
 * ISO-8601 strings, and window keys.
 *
 * @module
 */
import type { Envelope } from "../../envelope.ts";
import { InputError } from "../../errors.ts";
import { compileExpression } from "../../expr/cel.ts";
import {
  EventTimeError,
  MAX_EVENT_TIME,
  parseEventTime as parseSharedEventTime,
} from "../../time/event_time.ts";

export { MAX_EVENT_TIME };

/** Reads one value from an event; `undefined` when absent. */
export type FieldReader = (event: Envelope) => unknown;

const PATH = /^[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)*$/;

/** True when `text` is a dotted field path rather than a CEL expression. */
export function isFieldPath(text: string): boolean {
  return PATH.test(text);
}

/**
 * A reader for a dotted path (looked up in the envelope, then under `value`) or, for anything
 * else, a CEL expression over `event`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fieldReader } from "./event_fields.ts";
 * const origin = fieldReader("origin");
 * assert.equal(origin({ value: { origin: "SFO" } }), "SFO");
 * ```
 */
export function fieldReader(spec: string): FieldReader {
  if (!isFieldPath(spec)) {
    const expr = compileExpression(spec);
    return (event) => expr.evaluate(event);
  }
  const parts = spec.split(".");
  const direct = compilePath(parts);
  if (parts[0] === "value") return remember(direct, parts);
  const underValue = compilePath(["value", ...parts]);
  return remember((event: Envelope) => {
    const found = direct(event);
    return found === undefined ? underValue(event) : found;
  }, parts);
}

/**
 * Compiles a path into plain property reads (`e.value.delay`), which the JIT caches per shape:
 * several times faster than a generic loop over keys. Safe: every part matched {@linkcode PATH}.
 */
function compilePath(parts: string[]): FieldReader {
  let body = "let v = e;\n";
  for (const part of parts) {
    body += `if (v === null || typeof v !== "object") return undefined;\nv = ${read("v", part)};\n`;
  }
  return new Function("e", body + "return v;") as FieldReader;
}

/**
 * Code reading field `part` of `object`. A name that every object inherits (`constructor`,
 * `toString`, `__proto__`) is read only when the event itself has it: `--key constructor` is the
 * event's own field, never `Object`.
 */
function read(object: string, part: string): string {
  const key = JSON.stringify(part);
  return part in Object.prototype
    ? `(Object.hasOwn(${object}, ${key}) ? ${object}[${key}] : undefined)`
    : `${object}[${key}]`;
}

/** The path each reader made here reads first (before falling back to `value.<path>`). */
const firstPaths = new WeakMap<object, string[]>();

function remember<F extends object>(reader: F, parts: string[]): F {
  firstPaths.set(reader, parts);
  return reader;
}

/**
 * Code for generated per-event functions: statements that assign to the variable `target` what
 * a reader made by this module finds first in the envelope `e` (an object), or undefined for a
 * CEL reader. Where that value is not undefined (field readers), a finite number (time readers)
 * or a string (key readers), it is what the reader returns; otherwise the generated code calls
 * the reader, which falls back or throws as it always does. One temporary per step, so that the
 * JIT keeps a number read from the event unboxed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { keyReader, readerSource } from "./event_fields.ts";
 * const read = new Function("e", `let k;\n${readerSource(keyReader("value.k"), "k")}return k;`);
 * assert.equal(read({ value: { k: "a" } }), "a");
 * ```
 */
export function readerSource(reader: object, target: string): string | undefined {
  const parts = firstPaths.get(reader);
  if (parts === undefined) return undefined;
  let code = "{\n";
  let last = "e";
  parts.forEach((part, i) => {
    const next = i === parts.length - 1 ? target : `${target}_${i}`;
    code += i === parts.length - 1 ? "" : "const ";
    code += i === 0
      ? `${next} = ${read("e", part)};\n`
      : `${next} = ${last} !== null && typeof ${last} === "object" ? ${
        read(last, part)
      } : undefined;\n`;
    last = next;
  });
  return code + "}\n";
}

/** An event without a usable key, time or aggregated value. */
export class FieldError extends InputError {}

/**
 * Parses an event time: a number of epoch milliseconds, or an ISO-8601 string. A string without
 * an offset is taken as UTC, so results never depend on the machine's time zone.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseEventTime } from "./event_fields.ts";
 * assert.equal(parseEventTime("2001-01-01T00:01:00"), 978307260000);
 * assert.equal(parseEventTime(978307260000), 978307260000);
 * ```
 */
export function parseEventTime(value: unknown, field = "event time"): number {
  try {
    return parseSharedEventTime(value);
  } catch (cause) {
    if (!(cause instanceof EventTimeError)) throw cause;
    throw new FieldError(`cannot read ${field} ${JSON.stringify(value)}: ${cause.reason}`, {
      cause,
    });
  }
}

/**
 * A reader of event times from `path`; the default `eventTime` falls back to `publishTime`.
 * Throws {@linkcode FieldError} when the time is missing or unparseable.
 */
export function eventTimeReader(path = "eventTime"): (event: Envelope) => number {
  const read = fieldReader(path);
  if (path === "eventTime") {
    return remember((event: Envelope) => {
      const value = event.eventTime ?? event.publishTime;
      if (value === undefined || value === null) {
        throw new FieldError("event has neither eventTime nor publishTime (set --time <field>)");
      }
      return parseEventTime(value, "eventTime");
    }, ["eventTime"]);
  }
  const parts = firstPaths.get(read);
  const reader = (event: Envelope) => {
    const value = read(event);
    if (value === undefined || value === null) {
      throw new FieldError(`event has no time field '${path}'`);
    }
    return parseEventTime(value, `'${path}'`);
  };
  return parts === undefined ? reader : remember(reader, parts);
}

/** A reader of window keys: strings as they are, numbers and bools as text. */
export function keyReader(spec: string): (event: Envelope) => string {
  const read = fieldReader(spec);
  const reader = (event: Envelope) => {
    const value = read(event);
    if (typeof value === "string") return value;
    if (typeof value === "number" || typeof value === "boolean") return String(value);
    if (value === undefined || value === null) {
      throw new FieldError(`event has no key field '${spec}'`);
    }
    return JSON.stringify(value);
  };
  const parts = firstPaths.get(read);
  return parts === undefined ? reader : remember(reader, parts);
}
