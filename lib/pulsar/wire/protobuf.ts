/**
 * A tiny protobuf (proto2) writer and reader, just what the Pulsar protocol needs.
 *
 * Wire grammar:
 * ```
 * message := field*
 * field   := tag value              tag = varint(fieldNumber << 3 | wireType)
 * value   := varint                 wireType 0: int32/int64/uint32/uint64/bool/enum
 *          | fixed64 (8 bytes LE)   wireType 1: double
 *          | varint(len) byte*len   wireType 2: string/bytes/nested message/packed repeated
 *          | fixed32 (4 bytes LE)   wireType 5
 * ```
 *
 * Integers are JS numbers, exact up to 2^53. Negative int64 values travel as 10-byte
 * two's-complement varints and decode back to negative numbers. Where the full 64-bit range
 * matters (message ids: latest = Long.MAX_VALUE, ack-set bit words) use {@linkcode Long}
 * (`number | bigint`): a number when it is a safe integer, a bigint otherwise.
 *
 * @module
 */
import { ProtocolError } from "./errors.ts";

/** A 64-bit integer: a number when it is a safe integer, otherwise an exact bigint. */
export type Long = number | bigint;

/** Wire types used by Pulsar's messages. */
export const WIRE = { varint: 0, fixed64: 1, bytes: 2, fixed32: 5 } as const;

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER);
const utf8 = new TextEncoder();

/** Turns a bigint into a {@linkcode Long}: a number when that is exact. */
export function toLong(value: bigint): Long {
  return value <= MAX_SAFE && value >= MIN_SAFE ? Number(value) : value;
}

/**
 * Appends protobuf values to one growable buffer that is reused from message to message, so
 * encoding a frame costs one copy out (`finish`) and nothing else.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ProtoWriter } from "./protobuf.ts";
 * const w = new ProtoWriter();
 * w.uint64Field(1, 300);
 * assert.equal(w.finish().join(","), "8,172,2");
 * ```
 */
export class ProtoWriter {
  /** The backing buffer; valid bytes are `[0, pos)`. */
  buf: Uint8Array;
  /** Next write position. */
  pos = 0;
  #view: DataView;

  constructor(initialSize = 64 * 1024) {
    this.buf = new Uint8Array(initialSize);
    this.#view = new DataView(this.buf.buffer);
  }

  /** Forgets everything written; keeps the buffer. */
  reset(): this {
    this.pos = 0;
    return this;
  }

  /** Makes room for `n` more bytes. */
  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.#view = new DataView(next.buffer);
  }

  /** A copy of the bytes written since the last reset. */
  finish(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }

  /** Lets go of a buffer that one large message grew past `maxRetained` bytes. */
  trim(maxRetained = 1024 * 1024): void {
    if (this.buf.length <= maxRetained) return;
    this.buf = new Uint8Array(64 * 1024);
    this.#view = new DataView(this.buf.buffer);
    this.pos = 0;
  }

  /** Unsigned varint of a non-negative safe integer; negative numbers as 10-byte int64. */
  varint(value: number): void {
    if (value >>> 0 === value) {
      this.ensure(5);
      const buf = this.buf;
      let v = value;
      while (v > 0x7f) {
        buf[this.pos++] = (v & 0x7f) | 0x80;
        v >>>= 7;
      }
      buf[this.pos++] = v;
      return;
    }
    if (!Number.isSafeInteger(value)) {
      throw new ProtocolError(`cannot encode ${value} as a 64-bit integer (not a safe integer)`);
    }
    this.bigVarint(BigInt(value));
  }

  /** Varint of any 64-bit value; negative values as two's complement (10 bytes). */
  bigVarint(value: bigint): void {
    if (value >= 1n << 64n || value < -(1n << 63n)) {
      throw new ProtocolError(`cannot encode ${value} as a 64-bit integer (out of range)`);
    }
    let v = BigInt.asUintN(64, value);
    this.ensure(10);
    while (v > 0x7fn) {
      this.buf[this.pos++] = Number(v & 0x7fn) | 0x80;
      v >>= 7n;
    }
    this.buf[this.pos++] = Number(v);
  }

  /** Varint of a {@linkcode Long}. */
  long(value: Long): void {
    if (typeof value === "bigint") this.bigVarint(value);
    else this.varint(value);
  }

  /** Field tag. */
  tag(field: number, wireType: number): void {
    this.varint((field << 3) | wireType);
  }

  /** `field` as a varint (uint32, uint64, int64, enum). */
  uint64Field(field: number, value: number): void {
    this.tag(field, WIRE.varint);
    this.varint(value);
  }

  /** int32 as protobuf encodes it: negative values sign-extended to 10 bytes. */
  int32Field(field: number, value: number): void {
    this.tag(field, WIRE.varint);
    this.varint(value | 0);
  }

  /** A bool field. */
  boolField(field: number, value: boolean): void {
    this.tag(field, WIRE.varint);
    this.ensure(1);
    this.buf[this.pos++] = value ? 1 : 0;
  }

  /** A double field (fixed64, little-endian). */
  doubleField(field: number, value: number): void {
    this.tag(field, WIRE.fixed64);
    this.ensure(8);
    this.#view.setFloat64(this.pos, value, true);
    this.pos += 8;
  }

  /** A string field, UTF-8 encoded straight into the buffer. */
  stringField(field: number, value: string): void {
    this.tag(field, WIRE.bytes);
    // ASCII is by far the common case: its length is known up front.
    const max = value.length * 3;
    if (max < 128) {
      this.ensure(1 + max);
      const start = this.pos++;
      const { written } = utf8.encodeInto(value, this.buf.subarray(this.pos));
      this.buf[start] = written;
      this.pos += written;
      return;
    }
    const bytes = utf8.encode(value);
    this.varint(bytes.length);
    this.raw(bytes);
  }

  /** A bytes field. */
  bytesField(field: number, value: Uint8Array): void {
    this.tag(field, WIRE.bytes);
    this.varint(value.length);
    this.raw(value);
  }

  /** Appends bytes as they are. */
  raw(bytes: Uint8Array): void {
    this.ensure(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
  }

  /** Big-endian u32 (frame sizes, checksums). */
  u32(value: number): void {
    this.ensure(4);
    this.#view.setUint32(this.pos, value);
    this.pos += 4;
  }

  /** Big-endian u16 (magic numbers). */
  u16(value: number): void {
    this.ensure(2);
    this.#view.setUint16(this.pos, value);
    this.pos += 2;
  }

  /** Overwrites a big-endian u32 at `offset` (sizes known only afterwards). */
  setU32(offset: number, value: number): void {
    this.#view.setUint32(offset, value);
  }

  /**
   * Starts a length-delimited field whose length is not known yet. Reserves one byte for the
   * length; {@linkcode endLength} moves the body if the length needs more.
   */
  beginLength(field: number): number {
    this.tag(field, WIRE.bytes);
    this.ensure(1);
    return this.pos++;
  }

  /** Completes a field begun with {@linkcode beginLength}. */
  endLength(start: number): void {
    const length = this.pos - start - 1;
    if (length < 128) {
      this.buf[start] = length;
      return;
    }
    let extra = 0;
    for (let v = length >>> 7; v > 0; v >>>= 7) extra++;
    this.ensure(extra);
    this.buf.copyWithin(start + 1 + extra, start + 1, this.pos);
    const end = this.pos + extra;
    this.pos = start;
    this.varint(length);
    this.pos = end;
  }
}

/**
 * Reads protobuf values from `bytes[pos, end)`. Every read is bounds-checked and throws
 * {@linkcode ProtocolError} on truncated or malformed input.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ProtoReader } from "./protobuf.ts";
 * const r = new ProtoReader(new Uint8Array([8, 172, 2]));
 * assert.equal(r.varint(), 8);
 * assert.equal(r.varint(), 300);
 * ```
 */
export class ProtoReader {
  bytes: Uint8Array;
  pos: number;
  end: number;

  constructor(bytes: Uint8Array, pos = 0, end = bytes.length) {
    this.bytes = bytes;
    this.pos = pos;
    this.end = end;
  }

  /**
   * A varint as a number: exact for values below 2^53, and for negative int64 values
   * (10-byte two's complement) down to -2^53. Larger magnitudes are rounded (see {@linkcode long}).
   */
  varint(): number {
    const bytes = this.bytes;
    let pos = this.pos;
    if (pos < this.end) {
      const b = bytes[pos];
      if (b < 0x80) {
        this.pos = pos + 1;
        return b;
      }
    }
    // Up to four bytes fit 28 bits exactly in int32 arithmetic.
    let value = 0;
    for (let shift = 0; shift < 28; shift += 7) {
      if (pos >= this.end) throw truncated();
      const b = bytes[pos++];
      value |= (b & 0x7f) << shift;
      if (b < 0x80) {
        this.pos = pos;
        return value >>> 0;
      }
    }
    // Three more bytes keep within 2^49: still exact in float arithmetic (timestamps live here).
    let big = value >>> 0;
    for (let scale = 2 ** 28; scale < 2 ** 49; scale *= 128) {
      if (pos >= this.end) throw truncated();
      const b = bytes[pos++];
      big += (b & 0x7f) * scale;
      if (b < 0x80) {
        this.pos = pos;
        return big;
      }
    }
    const long = this.#bigLong();
    return typeof long === "bigint" ? Number(long) : long;
  }

  /** A varint as a signed 64-bit {@linkcode Long}: exact over the whole range. */
  long(): Long {
    const bytes = this.bytes;
    let pos = this.pos;
    // Up to seven bytes (49 bits) stay exact in float arithmetic: ledger and entry ids live here.
    let small = 0;
    for (let scale = 1; scale < 2 ** 49; scale *= 128) {
      if (pos >= this.end) throw truncated();
      const b = bytes[pos++];
      small += (b & 0x7f) * scale;
      if (b < 0x80) {
        this.pos = pos;
        return small;
      }
    }
    return this.#bigLong();
  }

  #bigLong(): Long {
    const bytes = this.bytes;
    let pos = this.pos;
    let value = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      if (pos >= this.end) throw truncated();
      const b = bytes[pos++];
      value |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) {
        this.pos = pos;
        return toLong(BigInt.asIntN(64, value));
      }
    }
    throw new ProtocolError("malformed varint (more than 10 bytes)");
  }

  /** An unsigned 32-bit varint (uint32); higher bits are dropped as protobuf does. */
  uint32(): number {
    const v = this.varint();
    return v >>> 0 === v ? v : Number(BigInt.asUintN(32, BigInt(Math.trunc(v))));
  }

  /** int32: the low 32 bits, signed. */
  int32(): number {
    const v = this.varint();
    return (v | 0) === v ? v : Number(BigInt.asIntN(32, BigInt(Math.trunc(v))));
  }

  /** A bool. */
  bool(): boolean {
    return this.varint() !== 0;
  }

  /** A little-endian double. */
  double(): number {
    if (this.pos + 8 > this.end) throw truncated();
    const view = new DataView(this.bytes.buffer, this.bytes.byteOffset + this.pos, 8);
    this.pos += 8;
    return view.getFloat64(0, true);
  }

  /** Length of a length-delimited value; checks it fits. */
  length(): number {
    const len = this.varint();
    if (len > this.end - this.pos) throw truncated();
    return len;
  }

  /** A bytes value, as a view into the input (no copy). */
  bytesView(): Uint8Array {
    const len = this.length();
    const start = this.pos;
    this.pos += len;
    return this.bytes.subarray(start, start + len);
  }

  /** A UTF-8 string value; invalid UTF-8 is a {@linkcode ProtocolError}. */
  string(): string {
    const len = this.length();
    const bytes = this.bytes;
    const start = this.pos;
    // Short ASCII strings (names, keys, topics) are the common case: skip the TextDecoder call.
    if (len <= 32) {
      let text = "";
      let i = start;
      const end = start + len;
      for (; i < end; i++) {
        const b = bytes[i];
        if (b >= 0x80) break;
        text += String.fromCharCode(b);
      }
      if (i === end) {
        this.pos = end;
        return text;
      }
    }
    this.pos = start + len;
    const view = bytes.subarray(start, start + len);
    try {
      return strictUtf8.decode(view);
    } catch (cause) {
      throw new ProtocolError("invalid UTF-8 in a string field", { cause });
    }
  }

  /** Skips a value of an unknown field (forward compatibility). */
  skip(wireType: number): void {
    switch (wireType) {
      case WIRE.varint:
        this.long();
        return;
      case WIRE.fixed64:
        return this.advance(8);
      case WIRE.bytes:
        return this.advance(this.length());
      case WIRE.fixed32:
        return this.advance(4);
      default:
        throw new ProtocolError(`unsupported protobuf wire type ${wireType}`);
    }
  }

  private advance(n: number): void {
    if (this.pos + n > this.end) throw truncated();
    this.pos += n;
  }
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

function truncated(): ProtocolError {
  return new ProtocolError("truncated protobuf data");
}
