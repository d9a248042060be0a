/**
 * The primitive schemas, encoded as the Java client encodes them: STRING as UTF-8; BOOLEAN one
 * byte; INT8/16/32/64, FLOAT and DOUBLE big-endian; BYTES as they are; DATE, TIME and TIMESTAMP
 * an int64 of epoch ms (ms of the day for TIME); INSTANT an int64 of epoch seconds and an int32
 * of nanoseconds; LOCAL_DATE an int64 epoch day; LOCAL_TIME an int64 nanosecond of the day;
 * LOCAL_DATE_TIME the epoch day and the nanosecond of the day (two int64s).
 *
 * As values: numbers for the integers (INT64 beyond 2^53 as a decimal string), floats and the
 * ms-based times; base64 text for BYTES; ISO-8601 text for INSTANT (UTC, `Z`) and the LOCAL_*
 * types, as Java's `toString` writes them.
 *
 * @module
 */
import type { SchemaType } from "../pulsar/wire/mod.ts";
import { SchemaValueError } from "./errors.ts";

/** Decodes and encodes one primitive type. */
export interface PrimitiveCodec {
  /** The value of the payload. */
  decode(bytes: Uint8Array): unknown;
  /** The payload of a value; throws {@linkcode SchemaValueError} for a value that does not fit. */
  encode(value: unknown): Uint8Array;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });
const utf8Out = new TextEncoder();
const NANOS_PER_DAY = 86_400_000_000_000n;

function view(bytes: Uint8Array, size: number, what: string): DataView {
  if (bytes.length !== size) {
    throw new SchemaValueError(`a ${what} payload is ${size} bytes, got ${bytes.length}`);
  }
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function fixed(size: number, write: (v: DataView) => void): Uint8Array {
  const out = new Uint8Array(size);
  write(new DataView(out.buffer));
  return out;
}

function long(value: bigint): number | string {
  return value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= BigInt(Number.MIN_SAFE_INTEGER)
    ? Number(value)
    : value.toString();
}

function integer(value: unknown, min: number, max: number, what: string): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new SchemaValueError(`${what} needs an integer in [${min}, ${max}], got ${show(value)}`);
  }
  return value;
}

function bigInteger(value: unknown, what: string): bigint {
  try {
    if (typeof value === "number" && Number.isSafeInteger(value)) return BigInt(value);
    if (typeof value === "string" && /^-?\d+$/.test(value)) {
      const big = BigInt(value);
      if (big === BigInt.asIntN(64, big)) return big;
    }
  } catch { /* falls through */ }
  throw new SchemaValueError(`${what} needs a 64-bit integer, got ${show(value)}`);
}

function show(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function pad(n: number | bigint, width: number): string {
  return String(n).padStart(width, "0");
}

/** Java's fraction: nothing for 0, else 3, 6 or 9 digits. */
function fraction(nanos: number): string {
  if (nanos === 0) return "";
  if (nanos % 1_000_000 === 0) return "." + pad(nanos / 1_000_000, 3);
  if (nanos % 1000 === 0) return "." + pad(nanos / 1000, 6);
  return "." + pad(nanos, 9);
}

/** `LocalDate.toString()`: yyyy-MM-dd (proleptic Gregorian, UTC arithmetic). */
function localDate(epochDay: bigint): string {
  const date = new Date(Number(epochDay) * 86_400_000);
  const y = date.getUTCFullYear();
  const year = y > 9999 ? `+${y}` : y < 0 ? `-${pad(-y, 4)}` : pad(y, 4);
  return `${year}-${pad(date.getUTCMonth() + 1, 2)}-${pad(date.getUTCDate(), 2)}`;
}

/** `LocalTime.toString()`: HH:mm, then :ss and the fraction when not zero. */
function localTime(nanoOfDay: bigint): string {
  const n = Number(nanoOfDay);
  const secondsOfDay = Math.floor(n / 1e9);
  const nanos = n - secondsOfDay * 1e9;
  const h = Math.floor(secondsOfDay / 3600), m = Math.floor(secondsOfDay / 60) % 60;
  const s = secondsOfDay % 60;
  let text = `${pad(h, 2)}:${pad(m, 2)}`;
  if (s > 0 || nanos > 0) text += `:${pad(s, 2)}${fraction(nanos)}`;
  return text;
}

function parseLocalDate(value: unknown, what: string): bigint {
  const m = typeof value === "string" ? /^(\d{4})-(\d{2})-(\d{2})$/.exec(value) : null;
  const ms = m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : NaN;
  if (!m || Number.isNaN(ms) || localDate(BigInt(ms / 86_400_000)) !== value) {
    throw new SchemaValueError(`${what} needs a date yyyy-MM-dd, got ${show(value)}`);
  }
  return BigInt(ms / 86_400_000);
}

function parseLocalTime(value: unknown, what: string): bigint {
  const m = typeof value === "string"
    ? /^(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?$/.exec(value)
    : null;
  if (!m || Number(m[1]) > 23 || Number(m[2]) > 59 || Number(m[3] ?? 0) > 59) {
    throw new SchemaValueError(`${what} needs a time HH:mm[:ss[.fraction]], got ${show(value)}`);
  }
  const seconds = Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3] ?? 0);
  return BigInt(seconds) * 1_000_000_000n + BigInt((m[4] ?? "").padEnd(9, "0") || "0");
}

function parseInstant(value: unknown): { seconds: bigint; nanos: number } {
  const m = typeof value === "string"
    ? /^(.+T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?Z$/.exec(value)
    : null;
  const ms = m ? Date.parse(`${m[1]}Z`) : typeof value === "number" ? value : NaN;
  if (Number.isNaN(ms) || (typeof value === "number" && !Number.isInteger(value))) {
    throw new SchemaValueError(
      `INSTANT needs ISO-8601 UTC text (…Z) or epoch ms, got ${show(value)}`,
    );
  }
  if (!m) {
    const seconds = Math.floor(ms / 1000);
    return { seconds: BigInt(seconds), nanos: (ms - seconds * 1000) * 1e6 };
  }
  return { seconds: BigInt(ms / 1000), nanos: Number((m[2] ?? "").padEnd(9, "0") || "0") };
}

function epochMs(value: unknown, what: string): bigint {
  if (typeof value === "string") {
    const ms = Date.parse(value);
    if (!Number.isNaN(ms)) return BigInt(ms);
  }
  return bigInteger(value, what);
}

const CODECS: Partial<Record<SchemaType, PrimitiveCodec>> = {
  String: {
    decode: (b) => utf8.decode(b),
    encode: (v) => {
      if (typeof v !== "string") throw new SchemaValueError(`STRING needs text, got ${show(v)}`);
      return utf8Out.encode(v);
    },
  },
  Bool: {
    decode: (b) => view(b, 1, "BOOLEAN").getUint8(0) !== 0,
    encode: (v) => {
      if (typeof v !== "boolean") {
        throw new SchemaValueError(`BOOLEAN needs true or false, got ${show(v)}`);
      }
      return new Uint8Array([v ? 1 : 0]);
    },
  },
  Int8: {
    decode: (b) => view(b, 1, "INT8").getInt8(0),
    encode: (v) => fixed(1, (d) => d.setInt8(0, integer(v, -128, 127, "INT8"))),
  },
  Int16: {
    decode: (b) => view(b, 2, "INT16").getInt16(0),
    encode: (v) => fixed(2, (d) => d.setInt16(0, integer(v, -32768, 32767, "INT16"))),
  },
  Int32: {
    decode: (b) => view(b, 4, "INT32").getInt32(0),
    encode: (v) => fixed(4, (d) => d.setInt32(0, integer(v, -(2 ** 31), 2 ** 31 - 1, "INT32"))),
  },
  Int64: {
    decode: (b) => long(view(b, 8, "INT64").getBigInt64(0)),
    encode: (v) => fixed(8, (d) => d.setBigInt64(0, bigInteger(v, "INT64"))),
  },
  Float: {
    decode: (b) => view(b, 4, "FLOAT").getFloat32(0),
    encode: (v) => {
      if (typeof v !== "number") throw new SchemaValueError(`FLOAT needs a number, got ${show(v)}`);
      return fixed(4, (d) => d.setFloat32(0, v));
    },
  },
  Double: {
    decode: (b) => view(b, 8, "DOUBLE").getFloat64(0),
    encode: (v) => {
      if (typeof v !== "number") {
        throw new SchemaValueError(`DOUBLE needs a number, got ${show(v)}`);
      }
      return fixed(8, (d) => d.setFloat64(0, v));
    },
  },
  None: {
    decode: (b) => btoa(Array.from(b, (c) => String.fromCharCode(c)).join("")),
    encode: (v) => {
      try {
        if (typeof v === "string") return Uint8Array.from(atob(v), (c) => c.charCodeAt(0));
      } catch { /* below */ }
      throw new SchemaValueError(`BYTES needs base64 text, got ${show(v)}`);
    },
  },
  Instant: {
    decode: (b) => {
      const d = view(b, 12, "INSTANT");
      const seconds = d.getBigInt64(0), nanos = d.getInt32(8);
      const iso = new Date(Number(seconds) * 1000).toISOString().slice(0, 19);
      return `${iso}${fraction(nanos)}Z`;
    },
    encode: (v) => {
      const { seconds, nanos } = parseInstant(v);
      return fixed(12, (d) => (d.setBigInt64(0, seconds), d.setInt32(8, nanos)));
    },
  },
  LocalDate: {
    decode: (b) => localDate(view(b, 8, "LOCAL_DATE").getBigInt64(0)),
    encode: (v) => fixed(8, (d) => d.setBigInt64(0, parseLocalDate(v, "LOCAL_DATE"))),
  },
  LocalTime: {
    decode: (b) => localTime(view(b, 8, "LOCAL_TIME").getBigInt64(0)),
    encode: (v) => fixed(8, (d) => d.setBigInt64(0, parseLocalTime(v, "LOCAL_TIME"))),
  },
  LocalDateTime: {
    decode: (b) => {
      const d = view(b, 16, "LOCAL_DATE_TIME");
      return `${localDate(d.getBigInt64(0))}T${localTime(d.getBigInt64(8))}`;
    },
    encode: (v) => {
      const [date, time] = typeof v === "string" ? v.split("T") : [];
      const day = parseLocalDate(date, "LOCAL_DATE_TIME");
      const nanos = parseLocalTime(time, "LOCAL_DATE_TIME");
      if (nanos >= NANOS_PER_DAY) throw new SchemaValueError("LOCAL_DATE_TIME: time out of range");
      return fixed(16, (d) => (d.setBigInt64(0, day), d.setBigInt64(8, nanos)));
    },
  },
};

for (const type of ["Date", "Time", "Timestamp"] as const) {
  const name = type.toUpperCase();
  CODECS[type] = {
    decode: (b) => long(view(b, 8, name).getBigInt64(0)),
    encode: (v) => fixed(8, (d) => d.setBigInt64(0, epochMs(v, name))),
  };
}

/**
 * The codec of a primitive schema type, or undefined for a structured one.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { primitiveCodec } from "./primitives.ts";
 * const int32 = primitiveCodec("Int32")!;
 * assert.deepEqual([...int32.encode(7)], [0, 0, 0, 7]);
 * assert.equal(primitiveCodec("Instant")!.decode(new Uint8Array([0,0,0,0,0,0,0,5, 0,0,0,7])),
 *   "1970-01-01T00:00:05.000000007Z");
 * ```
 */
export function primitiveCodec(type: SchemaType): PrimitiveCodec | undefined {
  return CODECS[type];
}
