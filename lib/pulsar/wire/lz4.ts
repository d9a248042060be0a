/**
 * LZ4 raw block format (no frame header), as the Java client's LZ4 codec writes it; the
 * receiver knows the uncompressed size from the message metadata.
 *
 * Block grammar:
 * ```
 * block    := sequence* lastSeq
 * sequence := token litExt* literal* offset:u16 LE matchExt*
 * lastSeq  := token litExt* literal*           (the final 5+ bytes are always literals)
 * token    := literalLength:4 bits | (matchLength - 4):4 bits; 15 means "add the next bytes"
 * litExt / matchExt := 255* last(0..254)     (each byte adds to the length)
 * ```
 *
 * @module
 */
import { ProtocolError } from "./errors.ts";

const MIN_MATCH = 4;
const LAST_LITERALS = 5;
const MF_LIMIT = 12;
const MAX_OFFSET = 65535;
const HASH_LOG = 14;
const table = new Int32Array(1 << HASH_LOG);

/** Largest possible LZ4 block for `n` input bytes. */
export function lz4Bound(n: number): number {
  return n + Math.floor(n / 255) + 16;
}

function read32(src: Uint8Array, i: number): number {
  return src[i] | (src[i + 1] << 8) | (src[i + 2] << 16) | (src[i + 3] << 24);
}

/**
 * Compresses `src` into one LZ4 block (greedy hash matching, like LZ4's fast mode).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { lz4Compress, lz4Decompress } from "./lz4.ts";
 * const text = new TextEncoder().encode("edge edge edge edge edge edge edge");
 * const block = lz4Compress(text);
 * assert.equal(lz4Decompress(block, text.length).length, text.length);
 * ```
 */
export function lz4Compress(src: Uint8Array): Uint8Array {
  const n = src.length;
  const out = new Uint8Array(lz4Bound(n));
  let op = 0;
  let anchor = 0;
  if (n >= MF_LIMIT + 1) {
    table.fill(0);
    const matchStartLimit = n - MF_LIMIT;
    const matchEndLimit = n - LAST_LITERALS;
    let ip = 0;
    let misses = 0;
    while (ip < matchStartLimit) {
      const seq = read32(src, ip);
      const h = Math.imul(seq, 0x9e3779b1) >>> (32 - HASH_LOG);
      const ref = table[h] - 1;
      table[h] = ip + 1;
      if (ref < 0 || ip - ref > MAX_OFFSET || read32(src, ref) !== seq) {
        // Skip faster through data that does not compress.
        ip += 1 + (misses++ >> 6);
        continue;
      }
      misses = 0;
      let start = ip;
      let back = ref;
      while (start > anchor && back > 0 && src[start - 1] === src[back - 1]) {
        start--;
        back--;
      }
      let end = ip + MIN_MATCH;
      let from = ref + MIN_MATCH;
      while (end < matchEndLimit && src[end] === src[from]) {
        end++;
        from++;
      }
      op = writeSequence(out, op, src, anchor, start, start - back, end - start);
      ip = end;
      anchor = end;
    }
  }
  // The last literals.
  const literals = n - anchor;
  const tokenAt = op++;
  op = writeLength(out, op, literals, tokenAt, 4);
  op = copyBytes(src, anchor, out, op, literals);
  return out.slice(0, op);
}

function writeSequence(
  out: Uint8Array,
  op: number,
  src: Uint8Array,
  anchor: number,
  matchStart: number,
  offset: number,
  matchLength: number,
): number {
  const tokenAt = op++;
  const literals = matchStart - anchor;
  op = writeLength(out, op, literals, tokenAt, 4);
  op = copyBytes(src, anchor, out, op, literals);
  out[op++] = offset & 0xff;
  out[op++] = offset >>> 8;
  return writeLength(out, op, matchLength - MIN_MATCH, tokenAt, 0);
}

/** Puts `length` in the token nibble at `shift` and any extension bytes at `op`. */
function writeLength(
  out: Uint8Array,
  op: number,
  length: number,
  tokenAt: number,
  shift: number,
): number {
  if (length < 15) {
    out[tokenAt] |= length << shift;
    return op;
  }
  out[tokenAt] |= 15 << shift;
  let rest = length - 15;
  while (rest >= 255) {
    out[op++] = 255;
    rest -= 255;
  }
  out[op++] = rest;
  return op;
}

/**
 * Decompresses an LZ4 block that must expand to exactly `size` bytes. Corrupt input (bad
 * offsets, lengths past either end, a wrong size) is a {@linkcode ProtocolError}; every read and
 * write is bounds-checked and every loop consumes input, so it cannot hang.
 */
export function lz4Decompress(src: Uint8Array, size: number): Uint8Array {
  const out = new Uint8Array(size);
  const n = src.length;
  let ip = 0;
  let op = 0;
  for (;;) {
    if (ip >= n) throw corrupt("block ends before its last literals");
    const token = src[ip++];
    let literals = token >>> 4;
    if (literals === 15) {
      let b: number;
      do {
        if (ip >= n) throw corrupt("truncated literal length");
        b = src[ip++];
        literals += b;
      } while (b === 255);
    }
    if (literals > n - ip || literals > size - op) throw corrupt("literals run past the end");
    op = copyBytes(src, ip, out, op, literals);
    ip += literals;
    if (ip === n) break;
    if (ip + 2 > n) throw corrupt("truncated match offset");
    const offset = src[ip] | (src[ip + 1] << 8);
    ip += 2;
    if (offset === 0 || offset > op) throw corrupt(`match offset ${offset} out of range`);
    let length = (token & 15) + MIN_MATCH;
    if ((token & 15) === 15) {
      let b: number;
      do {
        if (ip >= n) throw corrupt("truncated match length");
        b = src[ip++];
        length += b;
      } while (b === 255);
    }
    if (length > size - op) throw corrupt("match runs past the end");
    op = copyMatch(out, op, offset, length);
  }
  if (op !== size) throw corrupt(`expands to ${op} bytes, expected ${size}`);
  return out;
}

/**
 * Copies a back-reference of `length` bytes starting `offset` bytes behind `op` (LZ4 and Snappy
 * matches); returns the new end. The caller has checked both against the output's bounds.
 */
export function copyMatch(out: Uint8Array, op: number, offset: number, length: number): number {
  let from = op - offset;
  if (offset >= length && length > 32) {
    out.copyWithin(op, from, from + length);
    return op + length;
  }
  // Short or overlapping copies byte by byte (overlap repeats the last `offset` bytes).
  const end = op + length;
  while (op < end) out[op++] = out[from++];
  return op;
}

/** Copies `length` bytes; a loop beats `set(subarray())` for the short runs LZ4 is made of. */
export function copyBytes(
  src: Uint8Array,
  from: number,
  out: Uint8Array,
  op: number,
  length: number,
): number {
  if (length > 32) {
    out.set(src.subarray(from, from + length), op);
    return op + length;
  }
  const end = op + length;
  while (op < end) out[op++] = src[from++];
  return op;
}

function corrupt(detail: string): ProtocolError {
  return new ProtocolError(`corrupt LZ4 block: ${detail}`, { retriable: false });
}
