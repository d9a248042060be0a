/**
 * Payloads that are already JSON text, kept as their bytes: `consume` splices them into the
 * envelope line instead of decoding, parsing and serialising them again. Only text that
 * `JSON.stringify(JSON.parse(text))` would reproduce byte for byte qualifies (see
 * {@linkcode isCanonicalJson}), so a spliced line is exactly the line the slow path writes.
 *
 * @module
 */

const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * A JSON value held as its UTF-8 text. `JSON.stringify` of anything holding one still works
 * (it parses the bytes then), so code that does not know about it loses nothing.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { RawJson } from "./raw_json.ts";
 * const raw = new RawJson(new TextEncoder().encode('{"a":1}'));
 * assert.equal(JSON.stringify({ value: raw }), '{"value":{"a":1}}');
 * ```
 */
export class RawJson {
  /** The JSON text's bytes (canonical: see {@linkcode isCanonicalJson}). */
  readonly bytes: Uint8Array;

  /** Wraps `bytes`, which the caller checked with {@linkcode isCanonicalJson}. */
  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
  }

  /** The parsed value, for `JSON.stringify`. */
  toJSON(): unknown {
    return JSON.parse(utf8.decode(this.bytes));
  }
}

const MAX_DEPTH = 64;
const MAX_KEYS = 512;
const keyStart = new Int32Array(MAX_KEYS);
const keyEnd = new Int32Array(MAX_KEYS);
const EMPTY = new Uint8Array(0);
let text: Uint8Array = EMPTY;
let pos = 0;
let keyTop = 0;

/**
 * True when `bytes` is JSON text in the form `JSON.stringify` writes for what `JSON.parse` reads
 * from it: valid UTF-8, no whitespace outside strings, no duplicate keys, no keys that start
 * with a digit (`JSON.parse` moves array-index keys first), strings with only the escapes
 * `JSON.stringify` uses (`\"`, `\\`, `\b`, `\f`, `\n`, `\r`, `\t`), numbers with at most 15
 * significant digits, no exponent, no trailing fraction zeros, no `-0`, none below 1e-6.
 * Anything else (also deeper than 64 levels, or more than 512 keys open at once) is false:
 * the caller takes the slow path, which is always right.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isCanonicalJson } from "./raw_json.ts";
 * const text = (s: string) => new TextEncoder().encode(s);
 * assert.equal(isCanonicalJson(text('{"a":[1,2.5,"x"],"b":null}')), true);
 * assert.equal(isCanonicalJson(text('{"a": 1}')), false); // whitespace
 * assert.equal(isCanonicalJson(text('{"a":1.50}')), false); // written back as 1.5
 * ```
 */
export function isCanonicalJson(bytes: Uint8Array): boolean {
  if (bytes.length === 0) return false;
  text = bytes;
  pos = 0;
  keyTop = 0;
  const ok = value(0) && pos === bytes.length;
  text = EMPTY;
  return ok;
}

function value(depth: number): boolean {
  const c = text[pos];
  if (c === 0x22) return string();
  if (c === 0x7b) return object(depth);
  if (c === 0x5b) return array(depth);
  if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return number();
  if (c === 0x74) return word(TRUE);
  if (c === 0x6e) return word(NULL);
  return c === 0x66 && word(FALSE);
}

const TRUE = [0x74, 0x72, 0x75, 0x65];
const NULL = [0x6e, 0x75, 0x6c, 0x6c];
const FALSE = [0x66, 0x61, 0x6c, 0x73, 0x65];

function word(literal: number[]): boolean {
  for (let i = 1; i < literal.length; i++) if (text[pos + i] !== literal[i]) return false;
  pos += literal.length;
  return true;
}

function object(depth: number): boolean {
  if (depth >= MAX_DEPTH) return false;
  pos++;
  if (text[pos] === 0x7d) {
    pos++;
    return true;
  }
  const base = keyTop;
  for (;;) {
    const first = text[pos + 1];
    // Array-index keys ("0", "17") are moved ahead of the others by JSON.parse.
    if (text[pos] !== 0x22 || (first >= 0x30 && first <= 0x39)) return false;
    const start = pos;
    if (!string() || !newKey(base, start + 1, pos - 1)) return false;
    if (text[pos] !== 0x3a) return false;
    pos++;
    if (!value(depth + 1)) return false;
    const c = text[pos++];
    if (c === 0x2c) continue;
    keyTop = base;
    return c === 0x7d;
  }
}

/** Records the key `text[start, end)` of the object whose keys begin at `base`; false if seen. */
function newKey(base: number, start: number, end: number): boolean {
  const length = end - start;
  for (let k = base; k < keyTop; k++) {
    if (keyEnd[k] - keyStart[k] !== length) continue;
    // Keys compare as written: with only the escapes allowed, equal bytes are an equal key.
    const other = keyStart[k];
    let i = 0;
    while (i < length && text[other + i] === text[start + i]) i++;
    if (i === length) return false;
  }
  if (keyTop >= MAX_KEYS) return false;
  keyStart[keyTop] = start;
  keyEnd[keyTop++] = end;
  return true;
}

function array(depth: number): boolean {
  if (depth >= MAX_DEPTH) return false;
  pos++;
  if (text[pos] === 0x5d) {
    pos++;
    return true;
  }
  for (;;) {
    if (!value(depth + 1)) return false;
    const c = text[pos++];
    if (c === 0x2c) continue;
    return c === 0x5d;
  }
}

/** Plain ASCII, the common case in a string: neither a quote, a backslash nor a control. */
const PLAIN = new Uint8Array(256);
for (let c = 0x20; c < 0x80; c++) PLAIN[c] = c === 0x22 || c === 0x5c ? 0 : 1;

/** A string from its opening quote; pos ends after the closing one. */
function string(): boolean {
  const b = text;
  const n = b.length;
  let i = pos + 1;
  while (i < n) {
    const c = b[i];
    if (PLAIN[c] === 1) {
      i++;
      continue;
    }
    if (c === 0x22) {
      pos = i + 1;
      return true;
    }
    if (c === 0x5c) {
      const e = b[i + 1];
      // The escapes JSON.stringify writes; \/ and \uXXXX come back in another form.
      if (
        e === 0x22 || e === 0x5c || e === 0x6e || e === 0x74 || e === 0x72 || e === 0x62 ||
        e === 0x66
      ) {
        i += 2;
        continue;
      }
      return false;
    }
    if (c < 0x80) return false; // a control character
    i = utf8Sequence(b, i, c);
    if (i < 0) return false;
  }
  return false;
}

const isCont = (c: number) => (c & 0xc0) === 0x80;

/** The index after the well-formed UTF-8 sequence at `i` (lead byte `c`), or -1. */
function utf8Sequence(b: Uint8Array, i: number, c: number): number {
  const b1 = b[i + 1];
  if (c >= 0xc2 && c <= 0xdf) return isCont(b1) ? i + 2 : -1;
  const b2 = b[i + 2];
  if (c >= 0xe0 && c <= 0xef) {
    const low = c === 0xe0 ? 0xa0 : 0x80;
    const high = c === 0xed ? 0x9f : 0xbf; // no UTF-16 surrogates
    return b1 >= low && b1 <= high && isCont(b2) ? i + 3 : -1;
  }
  if (c >= 0xf0 && c <= 0xf4) {
    const low = c === 0xf0 ? 0x90 : 0x80;
    const high = c === 0xf4 ? 0x8f : 0xbf;
    return b1 >= low && b1 <= high && isCont(b2) && isCont(b[i + 3]) ? i + 4 : -1;
  }
  return -1;
}

const isDigit = (c: number) => c >= 0x30 && c <= 0x39;

/** A number JavaScript writes back the same: see {@linkcode isCanonicalJson}. */
function number(): boolean {
  const t = text;
  let i = pos;
  const negative = t[i] === 0x2d;
  if (negative) i++;
  let significant: number;
  const lead = t[i];
  if (lead === 0x30) {
    i++;
    significant = 0;
  } else if (lead >= 0x31 && lead <= 0x39) {
    const start = i;
    while (isDigit(t[i])) i++;
    significant = i - start;
  } else return false;
  if (t[i] === 0x2e) {
    const start = ++i;
    while (isDigit(t[i])) i++;
    if (i === start || t[i - 1] === 0x30) return false; // "1." or a trailing zero
    if (significant === 0) {
      let z = start;
      while (t[z] === 0x30) z++;
      if (z - start > 5) return false; // below 1e-6 JavaScript writes an exponent
      significant = i - z;
    } else significant += i - start;
  } else if (significant === 0 && negative) return false; // -0 is written 0
  const next = t[i];
  if (next === 0x65 || next === 0x45 || isDigit(next)) return false;
  if (significant > 15) return false;
  pos = i;
  return true;
}
