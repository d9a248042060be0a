/**
 * Object and file names for batching sinks. A prefix template such as
 * `events/date=%Y-%m-%d/origin={value.origin}/` is rendered per event (strftime fields from the
 * event's time, in UTC; `{path}` fields from the envelope), and every batch gets a name that no
 * other batch can have: `<writer id>-<sequence>`, so a retried upload rewrites the same bytes to
 * the same key and never overwrites different data.
 *
 * @module
 */
import { type Envelope, getPath } from "../envelope.ts";
import { describeError, InputError, UsageError } from "../errors.ts";
import { parseEventTime } from "../time/event_time.ts";

/** Raised when an event lacks a field the prefix template names; the event can be dead-lettered. */
export class PrefixFieldError extends InputError {}

type Part = string | ((event: Envelope, time: Date) => string);

const STRFTIME: Record<string, (time: Date) => string> = {
  Y: (t) => String(t.getUTCFullYear()).padStart(4, "0"),
  m: (t) => pad2(t.getUTCMonth() + 1),
  d: (t) => pad2(t.getUTCDate()),
  H: (t) => pad2(t.getUTCHours()),
  M: (t) => pad2(t.getUTCMinutes()),
  S: (t) => pad2(t.getUTCSeconds()),
  "%": () => "%",
};

function pad2(n: number): string {
  return String(n).padStart(2, "0");
}

/**
 * A compiled prefix template. Renders a prefix for an event; throws {@linkcode PrefixFieldError}
 * when a `{field}` is missing or not a scalar.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PrefixTemplate } from "./object_naming.ts";
 * const template = new PrefixTemplate("events/date=%Y-%m-%d/origin={value.origin}/");
 * const prefix = template.render({ eventTime: Date.UTC(2026, 0, 2), value: { origin: "SFO" } });
 * assert.equal(prefix, "events/date=2026-01-02/origin=SFO/");
 * ```
 */
export class PrefixTemplate {
  /** The template as written. */
  readonly source: string;
  readonly #parts: Part[];
  /** True when the template depends on the event (fields or time), so batches split by prefix. */
  readonly dynamic: boolean;

  /** Compiles `source`; an unknown `%` field or a bad `{…}` throws a usage error. */
  constructor(source: string) {
    this.source = source;
    this.#parts = compile(source);
    this.dynamic = this.#parts.some((part) => typeof part !== "string");
  }

  /** The prefix for `event`; time fields use `eventTime`, then `publishTime`, then `now`. */
  render(event: Envelope, now: number = Date.now()): string {
    if (!this.dynamic) return this.source;
    const time = new Date(prefixTime(event.eventTime ?? event.publishTime ?? now, event));
    let out = "";
    for (const part of this.#parts) out += typeof part === "string" ? part : part(event, time);
    return out;
  }
}

function compile(source: string): Part[] {
  const parts: Part[] = [];
  let literal = "";
  for (let i = 0; i < source.length; i++) {
    const char = source[i];
    if (char === "%") {
      const spec = source[i + 1];
      const format = spec === undefined ? undefined : STRFTIME[spec];
      if (!format) {
        throw new UsageError(
          `prefix '${source}': unknown time field '%${spec ?? ""}' (use %Y %m %d %H %M %S %%)`,
        );
      }
      literal = flush(parts, literal);
      parts.push((_event, time) => format(time));
      i++;
    } else if (char === "{") {
      const end = source.indexOf("}", i);
      const path = end === -1 ? "" : source.slice(i + 1, end).trim();
      if (!/^[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)*$/.test(path)) {
        throw new UsageError(`prefix '${source}': '{…}' must name a field such as {value.origin}`);
      }
      literal = flush(parts, literal);
      parts.push((event) => fieldText(event, path));
      i = end;
    } else {
      literal += char;
    }
  }
  flush(parts, literal);
  return parts;
}

function prefixTime(value: unknown, event: Envelope): number {
  try {
    return parseEventTime(value);
  } catch (cause) {
    const id = typeof event.id === "string" ? ` (event ${event.id})` : "";
    throw new PrefixFieldError(`prefix time: ${describeError(cause)}${id}`, { cause });
  }
}

function flush(parts: Part[], literal: string): string {
  if (literal !== "") parts.push(literal);
  return "";
}

function fieldText(event: Envelope, path: string): string {
  const value = getPath(event, path);
  if (value === undefined || value === null || typeof value === "object") {
    const what = value === undefined || value === null ? "missing" : "not a string or number";
    const id = typeof event.id === "string" ? ` (event ${event.id})` : "";
    throw new PrefixFieldError(`prefix field {${path}} is ${what}${id}`);
  }
  return safeSegment(String(value));
}

/** Keeps a field value inside one path segment: no `/`, no `..`, no control characters. */
export function safeSegment(text: string): string {
  // deno-lint-ignore no-control-regex -- control characters are exactly what must not reach a key
  const cleaned = text.replace(/[\/\\\x00-\x1f\x7f]/g, "_");
  return cleaned === "" || cleaned === "." || cleaned === ".." ? `_${cleaned}` : cleaned;
}

/** A random writer id that sorts by start time: `<base36 ms>-<6 random hex>`. */
export function newWriterId(): string {
  const random = crypto.getRandomValues(new Uint8Array(3));
  return `${Date.now().toString(36)}-${
    Array.from(random, (b) => b.toString(16).padStart(2, "0")).join("")
  }`;
}

/**
 * The name of one batch: `<prefix><writer>-<sequence>.<extension>`. The sequence is zero-padded so
 * that a listing returns a writer's objects in the order they were written.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { objectKey } from "./object_naming.ts";
 * assert.equal(objectKey("a/", "w1", 7, "ndjson.gz"), "a/w1-000000007.ndjson.gz");
 * ```
 */
export function objectKey(
  prefix: string,
  writerId: string,
  sequence: number,
  extension: string,
): string {
  return `${prefix}${writerId}-${String(sequence).padStart(9, "0")}.${extension}`;
}
