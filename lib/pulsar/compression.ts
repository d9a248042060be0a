/**
 * Payload compression, byte-compatible with the Java client: LZ4 raw blocks, zlib-wrapped
 * deflate, Zstandard frames and Snappy raw data. The receiver learns the uncompressed size from
 * the message metadata (`uncompressed_size`) and every codec must produce exactly that many bytes.
 *
 * @module
 */
import type * as Zlib from "node:zlib";
import { EdgepipeError } from "../errors.ts";
import type { CompressionType } from "./wire/enums.ts";
import { lz4Compress, lz4Decompress } from "./wire/lz4.ts";
import { snappyCompress, snappyDecompress } from "./wire/snappy.ts";

export type { CompressionType };

// Java's ZLIB codec ends a payload with a sync flush, not a final block: accept both.
const SYNC_FLUSH = 2; // zlib.constants.Z_SYNC_FLUSH

// node:zlib costs about 30 ms at start and most topics are not zlib/zstd-compressed: loaded
// on first use (synchronously, as the codecs are called).
let zlibModule: typeof Zlib | undefined;
const zlib = (): typeof Zlib => zlibModule ??= process.getBuiltinModule("node:zlib") as typeof Zlib;

/** Compressed data that cannot be decompressed: corrupt, truncated, or of the wrong size. */
export class CompressionError extends EdgepipeError {}

/**
 * Largest uncompressed size accepted, so that a corrupt size field cannot make us allocate
 * gigabytes. Pulsar's own limit on a message is 5 MiB; a batch expands within this bound.
 */
export const MAX_UNCOMPRESSED_SIZE = 256 * 1024 * 1024;

/**
 * Compresses a payload with `type`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { compress, decompress } from "./compression.ts";
 * const text = new TextEncoder().encode('{"origin":"SFO"}'.repeat(20));
 * const packed = compress("LZ4", text);
 * assert.equal(decompress("LZ4", packed, text.length).length, text.length);
 * ```
 */
export function compress(type: CompressionType, bytes: Uint8Array): Uint8Array {
  switch (type) {
    case "NONE":
      return bytes;
    case "LZ4":
      return lz4Compress(bytes);
    case "ZLIB":
      // The Java codec writes nothing at all for an empty payload.
      // As the Java codec: a sync flush and no final block; the size travels in the metadata.
      return bytes.length === 0
        ? new Uint8Array(0)
        : toUint8Array(zlib().deflateSync(bytes, { finishFlush: SYNC_FLUSH }));
    case "ZSTD":
      return toUint8Array(zlib().zstdCompressSync(bytes));
    case "SNAPPY":
      return snappyCompress(bytes);
    default:
      throw new CompressionError(`unknown compression type ${JSON.stringify(type)}`);
  }
}

/**
 * Decompresses a payload that must expand to exactly `uncompressedSize` bytes. Anything else
 * (corrupt data, a size mismatch, an unknown type) is a {@linkcode CompressionError}.
 */
export function decompress(
  type: CompressionType,
  bytes: Uint8Array,
  uncompressedSize: number,
): Uint8Array {
  if (type === "NONE") return bytes;
  if (
    !Number.isSafeInteger(uncompressedSize) || uncompressedSize < 0 ||
    uncompressedSize > MAX_UNCOMPRESSED_SIZE || uncompressedSize > maxExpansion(type, bytes.length)
  ) {
    throw new CompressionError(
      `${type} payload of ${bytes.length} bytes cannot expand to ${uncompressedSize} bytes`,
    );
  }
  if (uncompressedSize === 0 && bytes.length === 0) return new Uint8Array(0);
  // node:zlib wants a positive bound; one spare byte still reveals a payload that is too long.
  const maxOutputLength = Math.max(1, uncompressedSize);
  let out: Uint8Array;
  try {
    switch (type) {
      case "LZ4":
        return lz4Decompress(bytes, uncompressedSize);
      case "SNAPPY":
        return snappyDecompress(bytes, uncompressedSize);
      case "ZLIB":
        out = toUint8Array(zlib().inflateSync(bytes, { maxOutputLength, finishFlush: SYNC_FLUSH }));
        break;
      case "ZSTD":
        out = toUint8Array(zlib().zstdDecompressSync(bytes, { maxOutputLength }));
        break;
      default:
        throw new CompressionError(`unknown compression type ${JSON.stringify(type)}`);
    }
  } catch (cause) {
    if (cause instanceof CompressionError) throw cause;
    throw new CompressionError(
      `cannot decompress ${type} payload: ${(cause as Error)?.message ?? cause}`,
      { cause },
    );
  }
  if (out.length !== uncompressedSize) {
    throw new CompressionError(
      `${type} payload expands to ${out.length} bytes, expected ${uncompressedSize}`,
    );
  }
  return out;
}

// The most each format can expand: rejects absurd sizes before allocating.
function maxExpansion(type: CompressionType, length: number): number {
  switch (type) {
    case "LZ4":
      return length * 255 + 64;
    case "SNAPPY":
      return length * 22 + 64;
    default:
      return MAX_UNCOMPRESSED_SIZE; // zlib/zstd: bounded by maxOutputLength instead
  }
}

function toUint8Array(buffer: Uint8Array): Uint8Array {
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}
