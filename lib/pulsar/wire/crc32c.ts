/**
 * CRC32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of Pulsar payload frames.
 * Slice-by-8: eight 256-entry tables let the loop consume eight bytes per step.
 *
 * @module
 */

const TABLES = buildTables();

function buildTables(): Uint32Array {
  const tables = new Uint32Array(8 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    tables[n] = c;
  }
  for (let n = 0; n < 256; n++) {
    let c = tables[n];
    for (let t = 1; t < 8; t++) {
      c = tables[c & 0xff] ^ (c >>> 8);
      tables[t * 256 + n] = c;
    }
  }
  return tables;
}

/**
 * CRC32C of `bytes[start, end)`, continuing from `previous` (the result of an earlier call over
 * the bytes just before), as an unsigned 32-bit number.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { crc32c } from "./crc32c.ts";
 * const check = crc32c(new TextEncoder().encode("123456789"));
 * assert.equal(check, 0xe3069283);
 * ```
 */
export function crc32c(
  bytes: Uint8Array,
  previous = 0,
  start = 0,
  end: number = bytes.length,
): number {
  const t = TABLES;
  let crc = ~previous;
  let i = start;
  const fastEnd = end - 8;
  while (i <= fastEnd) {
    const lo = crc ^ (bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24));
    crc = t[1792 + (lo & 0xff)] ^ t[1536 + ((lo >>> 8) & 0xff)] ^
      t[1280 + ((lo >>> 16) & 0xff)] ^ t[1024 + (lo >>> 24)] ^
      t[768 + bytes[i + 4]] ^ t[512 + bytes[i + 5]] ^ t[256 + bytes[i + 6]] ^ t[bytes[i + 7]];
    i += 8;
  }
  while (i < end) crc = t[(crc ^ bytes[i++]) & 0xff] ^ (crc >>> 8);
  return ~crc >>> 0;
}
