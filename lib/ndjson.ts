/**
 * NDJSON in and out: {@linkcode NdjsonReader}, the input layer of every stage (large chunks, one
 * UTF-8 decode per chunk, one `JSON.parse` per line, bad lines as values rather than exceptions);
 * a simple line reader for small inputs; and a buffered writer that turns a closed downstream
 * pipe into {@linkcode BrokenPipeError}.
 *
 * @module
 */
import { EdgepipeError, InputError } from "./errors.ts";
import { type Envelope, isControl, type Item } from "./envelope.ts";
import { concatBytes } from "./concat_bytes.ts";

export { BadLine, type LineBatch, MAX_NESTING, NdjsonReader } from "./ndjson_reader.ts";
export type { ByteSource, NdjsonReaderOptions, ParseMode } from "./ndjson_reader.ts";

/** Default upper bound for one input line: 16 MiB. */
export const DEFAULT_MAX_LINE_BYTES = 16 * 1024 * 1024;

/** One raw input line with its 1-based number. */
export interface Line {
  /** The line without its line break. */
  text: string;
  /** 1-based line number. */
  number: number;
}

const NEWLINE = 0x0a;

/**
 * Splits a byte stream into lines. A line that is not valid UTF-8 or longer than `maxLineBytes`
 * throws an {@linkcode InputError} naming its line number; a final line without `\n` is kept.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readLines } from "./ndjson.ts";
 * const bytes = new TextEncoder().encode('{"a":1}\n{"a":2}\n');
 * const lines = [];
 * for await (const line of readLines(ReadableStream.from([bytes]))) lines.push(line.text);
 * assert.deepEqual(lines, ['{"a":1}', '{"a":2}']);
 * ```
 */
export async function* readLines(
  source: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>,
  { maxLineBytes = DEFAULT_MAX_LINE_BYTES }: { maxLineBytes?: number } = {},
): AsyncGenerator<Line> {
  const decoder = new TextDecoder("utf-8", { fatal: true });
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  let number = 0;
  const decode = (bytes: Uint8Array): string => {
    try {
      return decoder.decode(bytes);
    } catch (cause) {
      throw new InputError("invalid UTF-8", { line: number, cause });
    }
  };
  const tooLong = () =>
    new InputError(`line longer than ${maxLineBytes} bytes (raise it with --max-line-bytes)`, {
      line: number + 1,
    });

  for await (const chunk of source) {
    let start = 0;
    while (start < chunk.length) {
      const end = chunk.indexOf(NEWLINE, start);
      if (end === -1) {
        pendingBytes += chunk.length - start;
        if (pendingBytes > maxLineBytes) throw tooLong();
        pending.push(chunk.subarray(start));
        break;
      }
      let bytes = chunk.subarray(start, end);
      if (pending.length > 0) {
        if (pendingBytes + bytes.length > maxLineBytes) throw tooLong();
        pending.push(bytes);
        bytes = concatBytes(pending, pendingBytes + bytes.length);
        pending = [];
        pendingBytes = 0;
      } else if (bytes.length > maxLineBytes) {
        throw tooLong();
      }
      number++;
      if (bytes.length > 0 && bytes[bytes.length - 1] === 0x0d) bytes = bytes.subarray(0, -1);
      yield { text: decode(bytes), number };
      start = end + 1;
    }
  }
  if (pendingBytes > 0) {
    number++;
    yield { text: decode(concatBytes(pending, pendingBytes)), number };
  }
}

/**
 * Parses one NDJSON line into a stream item. Control records and objects with a `value` field
 * pass as they are; any other JSON object becomes the `value` of a new envelope. Anything that is
 * not a JSON object is an {@linkcode InputError}.
 */
export function parseItem(line: Line): Item {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line.text);
  } catch (cause) {
    throw new InputError(`not valid JSON: ${(cause as Error).message}`, {
      line: line.number,
      cause,
    });
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new InputError(
      `expected a JSON object (an envelope), got ${
        Array.isArray(parsed) ? "an array" : typeof parsed === "object" ? "null" : typeof parsed
      }`,
      { line: line.number },
    );
  }
  if (isControl(parsed) || "value" in parsed) return parsed as Item;
  return { value: parsed } as Envelope;
}

/** Raised when the reader of our stdout went away (`| head`): a clean end, not a failure. */
export class BrokenPipeError extends EdgepipeError {}

/** Anything a {@linkcode LineWriter} can write to. */
export interface ByteSink {
  /** Writes some of `bytes`, resolving to how many were written (as `Deno.stdout.write`). */
  write(bytes: Uint8Array): Promise<number>;
}

/** The promise the fast path of {@linkcode LineWriter.writeLine} hands out: nothing to wait for. */
const WRITTEN: Promise<void> = Promise.resolve();

/**
 * How long a buffered line may wait for more before a {@linkcode LineWriter} writes it out anyway,
 * in milliseconds: the bound on the output delay of every stage, whatever the input rate.
 */
export const DEFAULT_MAX_DELAY_MS = 100;

/**
 * Buffers lines and writes them in large chunks. `write` only waits when the buffer is full, so
 * backpressure from a slow reader reaches the caller; `flush` waits until every byte is written.
 * No line waits longer than `maxDelayMs` (default 100 ms): the first line after a write arms one
 * timer, which writes out whatever has gathered by then. So a steady stream too slow to fill the
 * buffer still moves on, and a fast one is written in full chunks with one timer per chunk.
 *
 * Lines gather as one string and are encoded once per chunk: cheaper than encoding each line
 * into a byte buffer (a call into the runtime per line), and a line that fits costs no promise.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { LineWriter } from "./ndjson.ts";
 * const chunks: string[] = [];
 * const out = new LineWriter({
 *   write: (bytes) => Promise.resolve(chunks.push(new TextDecoder().decode(bytes)) && bytes.length),
 * });
 * await out.writeLine('{"a":1}');
 * await out.write({ b: "ü" });
 * assert.equal(chunks.length, 0); // still buffered
 * await out.flush();
 * assert.deepEqual(chunks, ['{"a":1}\n{"b":"ü"}\n']);
 * await out.writeLine('{"c":3}');
 * await new Promise((resolve) => setTimeout(resolve, 150)); // no flush: the timer writes it
 * assert.deepEqual(chunks, ['{"a":1}\n{"b":"ü"}\n', '{"c":3}\n']);
 * ```
 */
export class LineWriter {
  #sink: ByteSink;
  #encoder = new TextEncoder();
  #bufferBytes: number;
  #maxDelayMs: number;
  #text = "";
  #chain: Promise<void> = Promise.resolve();
  /** The timer that writes out the oldest buffered line in time, while one is armed. */
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** The timer went off while a write was still in flight: its flush waits for that write. */
  #deferred = false;
  /** Why a write the timer started failed; every later call reports it. */
  #failure: unknown;

  /**
   * Writes to `sink` (default stdout) through a buffer of `bufferBytes`; a line waits at most
   * `maxDelayMs` to be written (`Infinity`: until the buffer fills or `flush` is called).
   */
  constructor(
    sink: ByteSink = Deno.stdout,
    bufferBytes = 64 * 1024,
    maxDelayMs = DEFAULT_MAX_DELAY_MS,
  ) {
    this.#sink = sink;
    this.#bufferBytes = bufferBytes;
    this.#maxDelayMs = maxDelayMs;
  }

  /** Characters waiting in the buffer (as many bytes for ASCII, at most three times as many). */
  get buffered(): number {
    return this.#text.length;
  }

  /** Appends `text` and a newline; writes out when the buffer fills or the oldest line is due. */
  writeLine(text: string): Promise<void> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    this.#text += text + "\n";
    if (this.#text.length >= this.#bufferBytes) return this.flush();
    if (this.#timer === undefined && !this.#deferred && this.#maxDelayMs !== Infinity) {
      this.#timer = setTimeout(this.#due, this.#maxDelayMs);
    }
    return WRITTEN;
  }

  /** Serialises an item as one line. */
  write(item: unknown): Promise<void> {
    return this.writeLine(JSON.stringify(item));
  }

  /** Writes everything buffered so far. */
  flush(): Promise<void> {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    if (this.#text.length === 0) return this.#chain;
    const bytes = this.#encoder.encode(this.#text);
    this.#text = "";
    return this.#writeAll(bytes);
  }

  /**
   * The oldest buffered line is due. A write still in flight (a slow reader) finishes first, so
   * that at most one chunk is on its way besides the buffer: memory stays bounded.
   */
  #due = () => {
    this.#timer = undefined;
    this.#deferred = true;
    const fail = (error: unknown) => {
      this.#failure ??= error;
    };
    this.#chain.then(() => {
      this.#deferred = false;
      if (this.#text.length > 0) this.flush().catch(fail);
    }, (error) => {
      this.#deferred = false;
      fail(error);
    });
  };

  #writeAll(bytes: Uint8Array): Promise<void> {
    this.#chain = this.#chain.then(async () => {
      let offset = 0;
      try {
        while (offset < bytes.length) offset += await this.#sink.write(bytes.subarray(offset));
      } catch (cause) {
        if (cause instanceof Deno.errors.BrokenPipe) {
          throw new BrokenPipeError("downstream closed the pipe", { cause });
        }
        throw cause;
      }
    });
    return this.#chain;
  }
}
