/**
 * The envelope writer of `consume`: each envelope as one JSON line, written into a reused byte
 * buffer, with payloads that are already JSON text ({@linkcode RawJson}) copied in as bytes, not
 * parsed and serialised again. The line is the same as `JSON.stringify(envelope)`.
 *
 * @module
 */
import type { Envelope } from "../envelope.ts";
import { BrokenPipeError, type ByteSink } from "../ndjson.ts";
import { RawJson } from "../sources/raw_json.ts";
import type { Sink } from "./types.ts";

/** Options of {@linkcode EnvelopeLineSink}. */
export interface EnvelopeLineSinkOptions {
  /** Where bytes go (default `Deno.stdout`). */
  output?: ByteSink;
  /** Bytes gathered before a write (default 64 KiB); smaller batches go on the next tick. */
  bufferBytes?: number;
}

interface Batch {
  done: Promise<void>;
  resolve: () => void;
  reject: (error: unknown) => void;
}

const CLOSE = 0x7d;
const NEWLINE = 0x0a;

/**
 * Writes envelopes as NDJSON lines; `send` resolves when the line has been written.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { EnvelopeLineSink } from "./envelope_lines.ts";
 * import { RawJson } from "../sources/raw_json.ts";
 * const chunks: Uint8Array[] = [];
 * const sink = new EnvelopeLineSink({
 *   output: { write: (bytes) => (chunks.push(bytes.slice()), Promise.resolve(bytes.length)) },
 * });
 * await sink.send({ id: "x", value: new RawJson(new TextEncoder().encode('{"a":1}')) });
 * assert.equal(new TextDecoder().decode(chunks[0]), '{"id":"x","value":{"a":1}}\n');
 * ```
 */
export class EnvelopeLineSink implements Sink {
  readonly description: string;
  readonly #output: ByteSink;
  readonly #bufferBytes: number;
  readonly #encoder = new TextEncoder();
  /** Buffers whose write finished, for reuse. */
  readonly #spare: Uint8Array[] = [];
  #buffer: Uint8Array;
  #length = 0;
  #batch: Batch | undefined;
  #scheduled = false;
  #chain: Promise<void> = Promise.resolve();
  #broken: BrokenPipeError | undefined;
  /** The last key names and topic seen, as JSON text: an envelope's fields repeat. */
  #names = new Map<string, string>();
  #topic = "";
  #topicJson = '""';

  /** Writes to `options.output` (default stdout). */
  constructor(options: EnvelopeLineSinkOptions = {}) {
    this.#output = options.output ?? Deno.stdout;
    this.#bufferBytes = options.bufferBytes ?? 64 * 1024;
    this.#buffer = new Uint8Array(this.#bufferBytes * 2);
    this.description = options.output ? "output" : "stdout";
  }

  send(event: Envelope): Promise<void> {
    if (this.#broken) return Promise.reject(this.#broken);
    const start = this.#length;
    try {
      this.#append(event);
    } catch (err) {
      this.#length = start;
      return Promise.reject(err);
    }
    const batch = this.#batch ??= newBatch();
    if (this.#length >= this.#bufferBytes) this.#writeBatch();
    else if (!this.#scheduled) {
      // Gather whatever else arrives in this turn of the event loop into the same write.
      this.#scheduled = true;
      setTimeout(() => {
        this.#scheduled = false;
        this.#writeBatch();
      }, 0);
    }
    return batch.done;
  }

  flush(): Promise<void> {
    this.#writeBatch();
    return this.#chain;
  }

  close(): Promise<void> {
    return this.flush();
  }

  /** The line of `event`, as JSON.stringify writes it, at the end of the buffer. */
  #append(event: Envelope): void {
    let text = "{";
    let first = true;
    for (const name in event) {
      const v = (event as Record<string, unknown>)[name];
      let json: string | undefined;
      if (typeof v === "string") {
        if (name === "topic" && v === this.#topic) json = this.#topicJson;
        else {
          json = JSON.stringify(v);
          if (name === "topic") [this.#topic, this.#topicJson] = [v, json];
        }
      } else if (typeof v === "number") json = Number.isFinite(v) ? String(v) : "null";
      else if (v === null) json = "null";
      else if (v instanceof RawJson) {
        text += `${first ? "" : ","}${this.#name(name)}:`;
        first = false;
        this.#text(text);
        this.#bytes(v.bytes);
        text = "";
        continue;
      } else json = JSON.stringify(v); // undefined for undefined and functions: left out
      if (json === undefined) continue;
      text += `${first ? "" : ","}${this.#name(name)}:${json}`;
      first = false;
    }
    this.#text(text);
    this.#room(2);
    this.#buffer[this.#length++] = CLOSE;
    this.#buffer[this.#length++] = NEWLINE;
  }

  #name(name: string): string {
    let json = this.#names.get(name);
    if (json === undefined) {
      if (this.#names.size > 256) this.#names.clear();
      this.#names.set(name, json = JSON.stringify(name));
    }
    return json;
  }

  #text(text: string): void {
    if (text.length === 0) return;
    this.#room(text.length * 3);
    const { written } = this.#encoder.encodeInto(text, this.#buffer.subarray(this.#length));
    this.#length += written;
  }

  #bytes(bytes: Uint8Array): void {
    this.#room(bytes.length);
    this.#buffer.set(bytes, this.#length);
    this.#length += bytes.length;
  }

  /** Makes room for `n` more bytes (a line larger than the buffer grows it). */
  #room(n: number): void {
    if (this.#length + n <= this.#buffer.length) return;
    const grown = new Uint8Array(Math.max(this.#buffer.length * 2, this.#length + n));
    grown.set(this.#buffer.subarray(0, this.#length));
    this.#buffer = grown;
  }

  #writeBatch(): void {
    const batch = this.#batch;
    if (!batch) return;
    this.#batch = undefined;
    const full = this.#buffer;
    const bytes = full.subarray(0, this.#length);
    this.#buffer = this.#spare.pop() ?? new Uint8Array(this.#bufferBytes * 2);
    this.#length = 0;
    this.#chain = this.#chain.then(async () => {
      if (this.#broken) throw this.#broken;
      let offset = 0;
      try {
        while (offset < bytes.length) offset += await this.#output.write(bytes.subarray(offset));
      } catch (cause) {
        if (cause instanceof Deno.errors.BrokenPipe) {
          this.#broken = new BrokenPipeError("downstream closed the pipe", { cause });
          throw this.#broken;
        }
        throw cause;
      }
      if (this.#spare.length < 4) this.#spare.push(full);
    }).then(batch.resolve, (error) => {
      batch.reject(error);
      throw error;
    });
    // The chain carries the failure to flush(); keep it from being reported as unhandled twice.
    this.#chain.catch(() => {});
  }
}

function newBatch(): Batch {
  let resolve!: () => void;
  let reject!: (error: unknown) => void;
  const done = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // Callers may drop a send's promise after flush() reported the failure.
  done.catch(() => {});
  return { done, resolve, reject };
}
