/**
 * The NDJSON input layer every stage reads through. It is the hottest path of every command, so
 * it works a chunk at a time: the source is read in large chunks, lines are found with
 * `indexOf` on the bytes, all complete lines of a chunk are decoded with one UTF-8 decode (only a
 * chunk that is not valid UTF-8 is decoded again line by line, to find the bad lines), and each
 * line is parsed with one `JSON.parse`. A batch of parsed lines is handed out per chunk, so no
 * promise is made per line.
 *
 * Bad lines never throw here: they come out as {@linkcode BadLine} values in their place, with
 * their number, their raw bytes and the reason, for the stage's `--on-error` policy. A bad line
 * is one that is not UTF-8, longer than the limit, not JSON, nested deeper than
 * {@linkcode MAX_NESTING}, or (mode `item`) not a JSON object. Blank and whitespace-only lines are
 * skipped (they keep their line numbers). A UTF-8 byte order mark at the very start of the input
 * is skipped; `\r\n` line ends are accepted.
 *
 * @module
 */
import { type Envelope, isControl, type Item } from "./envelope.ts";
import { InputError } from "./errors.ts";
import { concatBytes } from "./concat_bytes.ts";

/** The chunks as one array; a single chunk as it is (the reader owns its pending chunks). */
const joined = (parts: Uint8Array[], length: number): Uint8Array =>
  parts.length === 1 ? parts[0] : concatBytes(parts, length);

/** Deepest nesting of arrays and objects accepted in one line; deeper lines are bad lines. */
export const MAX_NESTING = 1000;

/** What a line becomes: `item` an envelope or control record, `json` any JSON value, `text` the text. */
export type ParseMode = "item" | "json" | "text";

/** A line that could not be read: where, why, and what it held. */
export class BadLine {
  /** A bad line: its number, why it is bad, its text or (not UTF-8) its bytes. */
  constructor(
    /** 1-based line number. */
    readonly number: number,
    /** Why it is bad (its message names the line). */
    readonly error: InputError,
    /** The line as text, when it is valid UTF-8. */
    readonly text: string | undefined,
    /** The raw bytes, when it is not valid UTF-8 (or, for an over-long line, its start). */
    readonly bytes: Uint8Array | undefined,
  ) {}
}

/** The lines of one chunk, in order. `values[i]` is a parsed line or a {@linkcode BadLine}. */
export interface LineBatch {
  /** Parsed lines (per the mode), a {@linkcode BadLine} in place of each bad one. */
  values: unknown[];
  /** 1-based line numbers. */
  numbers: number[];
  /** Each line's text (without its line end); empty for bad lines that are not UTF-8. */
  texts: string[];
}

/** Where bytes come from: a stream, an async iterable of chunks, or a reader such as `Deno.stdin`. */
export type ByteSource =
  | ReadableStream<Uint8Array>
  | AsyncIterable<Uint8Array>
  | { read(buffer: Uint8Array): Promise<number | null> };

/** Options of {@linkcode NdjsonReader}. */
export interface NdjsonReaderOptions {
  /** Longest accepted line in bytes (default 16 MiB); longer lines are bad lines. */
  maxLineBytes?: number;
  /** What each line becomes (default `item`). */
  mode?: ParseMode;
  /** Bytes read at once from a reader source (default 1 MiB). */
  chunkBytes?: number;
}

const NEWLINE = 0x0a;
const CR = 13;
/** Bytes of an over-long line kept for its dead letter. */
const SAMPLE_BYTES = 4096;

/**
 * Reads NDJSON in batches of lines.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { BadLine, NdjsonReader } from "./ndjson_reader.ts";
 * const bytes = new TextEncoder().encode('{"a":1}\n\nnot json\n{"value":2}\n');
 * const reader = new NdjsonReader(ReadableStream.from([bytes]));
 * const batch = (await reader.next())!;
 * assert.deepEqual(batch.numbers, [1, 3, 4]);
 * assert.deepEqual(batch.values[0], { value: { a: 1 } });
 * assert.ok(batch.values[1] instanceof BadLine && batch.values[1].error.message.startsWith("line 3:"));
 * assert.equal(await reader.next(), null);
 * ```
 */
export class NdjsonReader {
  readonly #maxLineBytes: number;
  readonly #mode: ParseMode;
  readonly #nextChunk: () => Promise<Uint8Array | null>;
  readonly #decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
  #pending: Uint8Array[] = [];
  #pendingBytes = 0;
  /** The start of an over-long line whose rest is being skipped, if one is. */
  #skipping: Uint8Array | undefined;
  #number = 0;
  #done = false;
  #batch: LineBatch = { values: [], numbers: [], texts: [] };

  /** Reads `source`; a `read(buffer)` source is read `chunkBytes` at a time into one buffer. */
  constructor(source: ByteSource, options: NdjsonReaderOptions = {}) {
    this.#maxLineBytes = options.maxLineBytes ?? 16 * 1024 * 1024;
    this.#mode = options.mode ?? "item";
    this.#nextChunk = chunksOf(source, options.chunkBytes ?? 1024 * 1024);
  }

  /** The next batch of lines (never empty), or `null` at the end of the input. */
  async next(): Promise<LineBatch | null> {
    while (!this.#done) {
      const chunk = await this.#nextChunk();
      if (chunk === null) {
        this.#done = true;
        this.#finish();
      } else this.#split(chunk);
      if (this.#batch.values.length > 0) {
        const batch = this.#batch;
        this.#batch = { values: [], numbers: [], texts: [] };
        return batch;
      }
    }
    return null;
  }

  #split(chunk: Uint8Array): void {
    let start = 0;
    const first = chunk.indexOf(NEWLINE, start);
    if (first === -1) return this.#hold(chunk.subarray(start));
    if (this.#skipping !== undefined) {
      this.#tooLong(this.#skipping);
      this.#skipping = undefined;
      start = first + 1;
    } else if (this.#pendingBytes > 0) {
      this.#hold(chunk.subarray(start, first));
      const bytes = this.#skipping ?? joined(this.#pending, this.#pendingBytes);
      this.#pending = [];
      this.#pendingBytes = 0;
      if (this.#skipping !== undefined) {
        this.#skipping = undefined;
        this.#tooLong(bytes);
      } else this.#lineBytes(bytes);
      start = first + 1;
    }
    const last = chunk.lastIndexOf(NEWLINE);
    if (last >= start) this.#region(chunk.subarray(start, last + 1));
    this.#hold(chunk.subarray(last + 1));
  }

  /** Complete lines, each ending in `\n`: decoded at once, or line by line if that fails. */
  #region(bytes: Uint8Array): void {
    let text: string;
    try {
      text = this.#decoder.decode(bytes);
    } catch {
      let start = 0;
      while (start < bytes.length) {
        const end = bytes.indexOf(NEWLINE, start);
        this.#lineBytes(bytes.subarray(start, end));
        start = end + 1;
      }
      return;
    }
    let start = 0;
    const end = text.length;
    while (start < end) {
      const newline = text.indexOf("\n", start);
      this.#line(text.slice(start, newline));
      start = newline + 1;
    }
  }

  /** One line's bytes, decoded on their own. */
  #lineBytes(bytes: Uint8Array): void {
    let text: string;
    try {
      text = this.#decoder.decode(bytes);
    } catch (cause) {
      const number = ++this.#number;
      const error = new InputError("not valid UTF-8 (the dead letter keeps its bytes in base64)", {
        line: number,
        cause,
      });
      this.#push(new BadLine(number, error, undefined, bytes.slice()), number, "");
      return;
    }
    this.#line(text);
  }

  #line(raw: string): void {
    const number = ++this.#number;
    let text = raw.charCodeAt(raw.length - 1) === CR ? raw.slice(0, -1) : raw;
    if (number === 1 && text.charCodeAt(0) === 0xfeff) text = text.slice(1); // a byte order mark
    if (text.length * 3 > this.#maxLineBytes && utf8Length(text) > this.#maxLineBytes) {
      return this.#bad(number, text, this.#longMessage());
    }
    if (this.#mode === "text") return this.#push(text, number, text);
    if (text.length === 0 || (text.charCodeAt(0) <= 32 && text.trim() === "")) return;
    if (text.length > 2 * MAX_NESTING && nestedDeeper(text, MAX_NESTING)) {
      return this.#bad(number, text, `nested deeper than ${MAX_NESTING} levels`);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (cause) {
      return this.#bad(number, text, `not valid JSON: ${(cause as Error).message}`, cause);
    }
    this.#push(this.#mode === "json" ? parsed : toItem(parsed, number, text), number, text);
  }

  #bad(number: number, text: string, message: string, cause?: unknown): void {
    const error = new InputError(message, { line: number, cause });
    this.#push(new BadLine(number, error, text, undefined), number, text);
  }

  #push(value: unknown, number: number, text: string): void {
    this.#batch.values.push(value);
    this.#batch.numbers.push(number);
    this.#batch.texts.push(text);
  }

  /** Keeps the start of a line that continues in the next chunk (bounded by the line limit). */
  #hold(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    if (this.#skipping !== undefined) return;
    if (this.#pendingBytes + bytes.length > this.#maxLineBytes) {
      const sample = concatBytes([...this.#pending, bytes], this.#pendingBytes + bytes.length)
        .subarray(0, SAMPLE_BYTES).slice();
      this.#pending = [];
      this.#pendingBytes = 0;
      this.#skipping = sample;
      return;
    }
    this.#pending.push(bytes.slice());
    this.#pendingBytes += bytes.length;
  }

  #tooLong(sample: Uint8Array): void {
    const number = ++this.#number;
    const error = new InputError(this.#longMessage(), { line: number });
    this.#push(new BadLine(number, error, undefined, sample), number, "");
  }

  #longMessage(): string {
    return `line longer than ${this.#maxLineBytes} bytes (raise it with --max-line-bytes)`;
  }

  #finish(): void {
    if (this.#skipping !== undefined) {
      this.#tooLong(this.#skipping);
      this.#skipping = undefined;
    } else if (this.#pendingBytes > 0) {
      const bytes = joined(this.#pending, this.#pendingBytes);
      this.#pending = [];
      this.#pendingBytes = 0;
      this.#lineBytes(bytes);
    }
  }
}

/**
 * A parsed line as a stream item: control records and objects with a `value` field as they are,
 * any other object as the `value` of a new envelope (so `item !== parsed` tells it was wrapped);
 * anything else is a {@linkcode BadLine}.
 */
export function toItem(parsed: unknown, number: number, text: string): Item | BadLine {
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    const got = Array.isArray(parsed) ? "an array" : parsed === null ? "null" : typeof parsed;
    const error = new InputError(`expected a JSON object (an envelope), got ${got}`, {
      line: number,
    });
    return new BadLine(number, error, text, undefined);
  }
  return isControl(parsed) || "value" in parsed ? parsed as Item : { value: parsed } as Envelope;
}

function chunksOf(source: ByteSource, chunkBytes: number): () => Promise<Uint8Array | null> {
  if ("read" in source && typeof source.read === "function") {
    const reader = source as { read(buffer: Uint8Array): Promise<number | null> };
    // One buffer for every read: lines are decoded (copied) or copied out before the next read.
    const buffer = new Uint8Array(chunkBytes);
    return async () => {
      const n = await reader.read(buffer);
      return n === null ? null : buffer.subarray(0, n);
    };
  }
  const iterator = (source as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
  return async () => {
    const result = await iterator.next();
    return result.done ? null : result.value;
  };
}

/** UTF-8 length of `text` (lone surrogates count as the 3 bytes of U+FFFD). */
function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c < 0xdc00 && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next < 0xe000) {
        bytes += 4;
        i++;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
}

/** Whether the arrays and objects in `text` nest deeper than `max` (brackets in strings aside). */
function nestedDeeper(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92) i++; // backslash: skip the escaped character
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 91 || c === 123) {
      if (++depth > max) return true;
    } else if (c === 93 || c === 125) depth--;
  }
  return false;
}
