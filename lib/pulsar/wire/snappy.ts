/**
 * Snappy raw format (no framing), as the Java client's Snappy codec writes it.
 *
 * Grammar:
 * ```
 * stream  := uncompressedLength:varint element*
 * element := literal | copy1 | copy2 | copy4                 (tag byte: low 2 bits = kind)
 * literal := tag(00, len-1 < 60)  bytes
 *          | tag(00, 60..63) len-1:(1..4 bytes LE) bytes
 * copy1   := tag(01, (len-4):3 bits, offset>>8:3 bits) offset&255:u8    len 4..11, offset < 2048
 * copy2   := tag(10, len-1:6 bits) offset:u16 LE                        len 1..64
 * copy4   := tag(11, len-1:6 bits) offset:u32 LE
 * ```
 * The compressor works on 64 KiB fragments, as the reference does, so offsets fit copy2.
 *
 * @module
 */
import { ProtocolError } from "./errors.ts";
import { copyBytes, copyMatch } from "./lz4.ts";

const FRAGMENT = 65536;
const HASH_LOG = 14;
const INPUT_MARGIN = 15;
const table = new Int32Array(1 << HASH_LOG);

/** Largest possible Snappy output for `n` input bytes. */
export function snappyBound(n: number): number {
  return 32 + n + Math.floor(n / 6);
}

function read32(src: Uint8Array, i: number): number {
  return src[i] | (src[i + 1] << 8) | (src[i + 2] << 16) | (src[i + 3] << 24);
}

/**
 * Compresses `src` in Snappy's raw format.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { snappyCompress, snappyDecompress } from "./snappy.ts";
 * const text = new TextEncoder().encode("edge edge edge edge edge edge edge");
 * assert.equal(snappyDecompress(snappyCompress(text), text.length).length, text.length);
 * ```
 */
export function snappyCompress(src: Uint8Array): Uint8Array {
  const out = new Uint8Array(snappyBound(src.length));
  let op = 0;
  for (let v = src.length;; v = Math.floor(v / 128)) {
    if (v < 128) {
      out[op++] = v;
      break;
    }
    out[op++] = (v & 0x7f) | 0x80;
  }
  for (let start = 0; start < src.length; start += FRAGMENT) {
    op = compressFragment(src, start, Math.min(start + FRAGMENT, src.length), out, op);
  }
  return out.slice(0, op);
}

function compressFragment(
  src: Uint8Array,
  start: number,
  end: number,
  out: Uint8Array,
  op: number,
): number {
  let anchor = start;
  if (end - start >= INPUT_MARGIN) {
    table.fill(0);
    const limit = end - INPUT_MARGIN;
    let ip = start;
    let misses = 0;
    while (ip < limit) {
      const seq = read32(src, ip);
      const h = Math.imul(seq, 0x1e35a7bd) >>> (32 - HASH_LOG);
      const ref = table[h] - 1 + start;
      table[h] = ip - start + 1;
      if (ref < start || read32(src, ref) !== seq) {
        ip += 1 + (misses++ >> 5);
        continue;
      }
      misses = 0;
      op = emitLiteral(src, anchor, ip, out, op);
      let length = 4;
      while (ip + length < end && src[ip + length] === src[ref + length]) length++;
      op = emitCopy(ip - ref, length, out, op);
      ip += length;
      anchor = ip;
    }
  }
  return emitLiteral(src, anchor, end, out, op);
}

function emitLiteral(src: Uint8Array, from: number, to: number, out: Uint8Array, op: number) {
  const length = to - from;
  if (length === 0) return op;
  const n = length - 1;
  if (n < 60) {
    out[op++] = n << 2;
  } else {
    const bytes = n < 0x100 ? 1 : n < 0x10000 ? 2 : n < 0x1000000 ? 3 : 4;
    out[op++] = (59 + bytes) << 2;
    for (let i = 0, v = n; i < bytes; i++, v >>>= 8) out[op++] = v & 0xff;
  }
  return copyBytes(src, from, out, op, length);
}

function emitCopy(offset: number, length: number, out: Uint8Array, op: number): number {
  while (length >= 68) {
    op = emitCopy2(offset, 64, out, op);
    length -= 64;
  }
  if (length > 64) {
    op = emitCopy2(offset, 60, out, op);
    length -= 60;
  }
  if (length < 12 && offset < 2048) {
    out[op++] = 1 | ((length - 4) << 2) | ((offset >>> 8) << 5);
    out[op++] = offset & 0xff;
    return op;
  }
  return emitCopy2(offset, length, out, op);
}

function emitCopy2(offset: number, length: number, out: Uint8Array, op: number): number {
  out[op++] = 2 | ((length - 1) << 2);
  out[op++] = offset & 0xff;
  out[op++] = offset >>> 8;
  return op;
}

/**
 * Decompresses Snappy raw data that must expand to exactly `size` bytes (its own length header
 * must agree). Corrupt input is a {@linkcode ProtocolError}; every read and write is
 * bounds-checked and every loop consumes input, so it cannot hang.
 */
export function snappyDecompress(src: Uint8Array, size: number): Uint8Array {
  const n = src.length;
  let ip = 0;
  let declared = 0;
  for (let shift = 0;; shift += 7) {
    if (ip >= n || shift > 28) throw corrupt("bad length header");
    const b = src[ip++];
    declared += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) break;
  }
  if (declared !== size) throw corrupt(`declares ${declared} bytes, expected ${size}`);
  const out = new Uint8Array(size);
  let op = 0;
  while (ip < n) {
    const tag = src[ip++];
    const kind = tag & 3;
    if (kind === 0) {
      let length = tag >>> 2;
      if (length >= 60) {
        const bytes = length - 59;
        if (ip + bytes > n) throw corrupt("truncated literal length");
        length = 0;
        for (let i = bytes - 1; i >= 0; i--) length = length * 256 + src[ip + i];
        ip += bytes;
      }
      length += 1;
      if (length > n - ip || length > size - op) throw corrupt("literal runs past the end");
      op = copyBytes(src, ip, out, op, length);
      ip += length;
      continue;
    }
    let length: number;
    let offset: number;
    if (kind === 1) {
      if (ip >= n) throw corrupt("truncated copy");
      length = ((tag >>> 2) & 7) + 4;
      offset = ((tag >>> 5) << 8) | src[ip++];
    } else if (kind === 2) {
      if (ip + 2 > n) throw corrupt("truncated copy");
      length = (tag >>> 2) + 1;
      offset = src[ip] | (src[ip + 1] << 8);
      ip += 2;
    } else {
      if (ip + 4 > n) throw corrupt("truncated copy");
      length = (tag >>> 2) + 1;
      offset = (src[ip] | (src[ip + 1] << 8) | (src[ip + 2] << 16) | (src[ip + 3] << 24)) >>> 0;
      ip += 4;
    }
    if (offset === 0 || offset > op) throw corrupt(`copy offset ${offset} out of range`);
    if (length > size - op) throw corrupt("copy runs past the end");
    op = copyMatch(out, op, offset, length);
  }
  if (op !== size) throw corrupt(`expands to ${op} bytes, expected ${size}`);
  return out;
}

function corrupt(detail: string): ProtocolError {
  return new ProtocolError(`corrupt Snappy data: ${detail}`, { retriable: false });
}
