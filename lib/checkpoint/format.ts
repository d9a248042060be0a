/**
 * The checkpoint file format: a fixed header, a JSON section and float64 columns.
 *
 * ```
 * offset size
 *   0     8   magic "EPCKPT\r\n"
 *   8     4   format version (u32 LE, currently 1)
 *  12     4   CRC32 (zlib) of every byte from offset 16 to the end
 *  16     4   byte length of the JSON section (u32 LE)
 *  20     4   number of float64 columns (u32 LE)
 *  24     …   JSON (UTF-8): { kind, …, columns: [length, …] }, padded with spaces to 8 bytes
 *   …     …   the columns, little-endian float64, one after another
 * ```
 *
 * Numbers that are the bulk of a state (window starts, counts, sums) go in columns: they are read
 * back as zero-copy `Float64Array` views, which is what makes restoring 1M keys take about a
 * second. Everything else (keys, strings, lists) is JSON.
 *
 * @module
 */
import { crc32 } from "node:zlib";
import { EdgepipeError } from "../errors.ts";

/** The current format version. */
export const FORMAT_VERSION = 1;
const MAGIC = new TextEncoder().encode("EPCKPT\r\n");
const HEADER = 24;

/** A checkpoint file that cannot be used: truncated, corrupt, foreign or of another version. */
export class CheckpointFormatError extends EdgepipeError {}

/** The decoded content of a checkpoint file. */
export interface CheckpointData {
  /** JSON-serialisable metadata; must name its `kind`. */
  json: { kind: string } & Record<string, unknown>;
  columns: Float64Array[];
}

/**
 * Encodes a checkpoint.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeCheckpoint, encodeCheckpoint } from "./format.ts";
 * const bytes = encodeCheckpoint({ json: { kind: "demo" }, columns: [Float64Array.of(1, 2)] });
 * assert.ok(decodeCheckpoint(bytes, "demo").columns[0][1] === 2);
 * ```
 */
export function encodeCheckpoint(data: CheckpointData): Uint8Array {
  const jsonText = JSON.stringify({ ...data.json, columns: data.columns.map((c) => c.length) });
  let json = new TextEncoder().encode(jsonText);
  const padded = Math.ceil(json.length / 8) * 8;
  if (padded !== json.length) {
    const grown = new Uint8Array(padded).fill(0x20);
    grown.set(json);
    json = grown;
  }
  let total = HEADER + json.length;
  for (const c of data.columns) total += c.length * 8;
  const bytes = new Uint8Array(total);
  const view = new DataView(bytes.buffer);
  bytes.set(MAGIC, 0);
  view.setUint32(8, FORMAT_VERSION, true);
  view.setUint32(16, json.length, true);
  view.setUint32(20, data.columns.length, true);
  bytes.set(json, HEADER);
  let offset = HEADER + json.length;
  const littleEndian = new Uint8Array(Float64Array.of(1).buffer)[7] === 0x3f;
  for (const c of data.columns) {
    if (littleEndian) bytes.set(new Uint8Array(c.buffer, c.byteOffset, c.length * 8), offset);
    else for (let i = 0; i < c.length; i++) view.setFloat64(offset + i * 8, c[i], true);
    offset += c.length * 8;
  }
  view.setUint32(12, crc32(bytes.subarray(16)), true);
  return bytes;
}

/** Decodes and verifies a checkpoint of the given `kind`; throws {@linkcode CheckpointFormatError}. */
export function decodeCheckpoint(bytes: Uint8Array, kind: string): CheckpointData {
  if (bytes.length < HEADER) throw new CheckpointFormatError(`truncated (${bytes.length} bytes)`);
  for (let i = 0; i < MAGIC.length; i++) {
    if (bytes[i] !== MAGIC[i]) throw new CheckpointFormatError("not an edgepipe checkpoint");
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(8, true);
  if (version !== FORMAT_VERSION) {
    throw new CheckpointFormatError(
      `format version ${version}, this edgepipe reads ${FORMAT_VERSION}`,
    );
  }
  const jsonLength = view.getUint32(16, true);
  if (HEADER + jsonLength > bytes.length) throw new CheckpointFormatError("truncated");
  if (crc32(bytes.subarray(16)) !== view.getUint32(12, true)) {
    throw new CheckpointFormatError("checksum mismatch (corrupt or truncated)");
  }
  let json: CheckpointData["json"] & { columns?: number[] };
  try {
    json = JSON.parse(new TextDecoder().decode(bytes.subarray(HEADER, HEADER + jsonLength)));
  } catch (cause) {
    throw new CheckpointFormatError("unreadable metadata", { cause });
  }
  if (json.kind !== kind) {
    throw new CheckpointFormatError(`holds '${json.kind}' state, expected '${kind}'`);
  }
  const lengths = json.columns ?? [];
  // Columns must be 8-byte aligned for zero-copy views; copy once if the buffer is not.
  let base = bytes;
  if (bytes.byteOffset % 8 !== 0) base = bytes.slice();
  const columns: Float64Array[] = [];
  let offset = HEADER + jsonLength;
  for (const length of lengths) {
    if (offset + length * 8 > base.length) throw new CheckpointFormatError("truncated columns");
    columns.push(new Float64Array(base.buffer, base.byteOffset + offset, length));
    offset += length * 8;
  }
  delete json.columns;
  return { json, columns };
}
