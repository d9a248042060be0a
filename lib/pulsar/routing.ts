/**
 * Key → partition routing identical to the Java client's, so that events keyed the same way by
 * edgepipe and by Java services land in the same partition.
 *
 * Java: `partition = MathUtils.signSafeMod(hash.makeHash(key), numPartitions)` where the hash is
 * `JavaStringHash` (`String.hashCode() & Integer.MAX_VALUE`, the default) or `Murmur3_32Hash`
 * (Murmur3 x86 32-bit of the key's UTF-8 bytes, seed 0, `& Integer.MAX_VALUE`).
 *
 * @module
 */

/** The Java client's hashing schemes (`HashingScheme`). */
export type HashingScheme = "JavaStringHash" | "Murmur3_32Hash";

/**
 * `String.hashCode()` over UTF-16 code units, masked to a non-negative int as Pulsar does.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { javaStringHash } from "./routing.ts";
 * assert.equal(javaStringHash("a"), 97);
 * ```
 */
export function javaStringHash(key: string): number {
  let h = 0;
  for (let i = 0; i < key.length; i++) h = (Math.imul(h, 31) + key.charCodeAt(i)) | 0;
  return h & 0x7fffffff;
}

const utf8 = new TextEncoder();
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

// Java's String.getBytes(UTF_8) turns an unpaired surrogate into '?', TextEncoder into U+FFFD.
function javaUtf8(key: string): Uint8Array {
  return utf8.encode(key.isWellFormed() ? key : key.replace(LONE_SURROGATE, "?"));
}

/**
 * Murmur3 x86 32-bit (seed 0) of the key's UTF-8 bytes, masked to a non-negative int as Pulsar's
 * `Murmur3_32Hash` does.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { murmur3_32Hash } from "./routing.ts";
 * assert.equal(murmur3_32Hash(""), 0);
 * ```
 */
export function murmur3_32Hash(key: string | Uint8Array): number {
  const data = typeof key === "string" ? javaUtf8(key) : key;
  const n = data.length;
  const blocks = n & ~3;
  let h = 0;
  for (let i = 0; i < blocks; i += 4) {
    let k = data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24);
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  let k = 0;
  switch (n & 3) {
    case 3:
      k ^= data[blocks + 2] << 16;
    // falls through
    case 2:
      k ^= data[blocks + 1] << 8;
    // falls through
    case 1:
      k ^= data[blocks];
      k = Math.imul(k, 0xcc9e2d51);
      k = (k << 15) | (k >>> 17);
      k = Math.imul(k, 0x1b873593);
      h ^= k;
  }
  h ^= n;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h & 0x7fffffff;
}

/**
 * `dividend mod divisor`, never negative (Java's `MathUtils.signSafeMod`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { signSafeMod } from "./routing.ts";
 * assert.equal(signSafeMod(-7, 3), 2);
 * ```
 */
export function signSafeMod(dividend: number, divisor: number): number {
  if (!Number.isSafeInteger(dividend) || !Number.isInteger(divisor) || divisor <= 0) {
    throw new RangeError(`signSafeMod(${dividend}, ${divisor}): expected integers, divisor > 0`);
  }
  const mod = dividend % divisor;
  return mod < 0 ? mod + divisor : mod + 0; // `+ 0` turns -0 into 0
}

/**
 * The partition the Java client would choose for a keyed message.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { partitionFor } from "./routing.ts";
 * const p = partitionFor("user-42", 8);
 * assert.ok(p >= 0);
 * assert.ok(p < 8);
 * ```
 */
export function partitionFor(
  key: string,
  partitions: number,
  scheme: HashingScheme = "JavaStringHash",
): number {
  const hash = scheme === "Murmur3_32Hash" ? murmur3_32Hash(key) : javaStringHash(key);
  return signSafeMod(hash, partitions);
}
