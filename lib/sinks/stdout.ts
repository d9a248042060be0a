/**
 * A sink that writes one line per event to stdout (or any byte sink). An event counts as
 * delivered once its line has been written out of the process.
 *
 * @module
 */
import type { Envelope } from "../envelope.ts";
import { payloadOf, type PayloadShape, RECORD_SHAPE } from "../delivered_record.ts";
import { BrokenPipeError, type ByteSink } from "../ndjson.ts";
import type { Sink } from "./types.ts";

/** Options of {@linkcode StdoutSink}. */
export interface StdoutSinkOptions {
  /** Where bytes go (default `Deno.stdout`). */
  output?: ByteSink;
  /** Turns an event into its line (default: its payload as JSON, see `payload`). */
  format?: (event: Envelope) => string;
  /**
   * What a line holds when there is no `format` (`docs/envelope.md`): default the flat record;
   * `{ kind: "envelope" }` for the envelope as it is (what `consume` prints).
   */
  payload?: PayloadShape;
  /** Written after each line (default `\n`; `consume -f` formats end lines themselves). */
  separator?: string;
  /** Bytes gathered before a write (default 64 KiB). Smaller batches are written on the next tick. */
  bufferBytes?: number;
}

interface Batch {
  lines: string[];
  bytes: number;
  done: Promise<void>;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * Writes events as lines; `send` resolves when the line is written.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { StdoutSink } from "./stdout.ts";
 * const chunks: Uint8Array[] = [];
 * const sink = new StdoutSink({
 *   output: { write: (bytes) => (chunks.push(bytes.slice()), Promise.resolve(bytes.length)) },
 * });
 * await sink.send({ id: "x", value: { a: 1 }, score: { p: 0.5 } });
 * assert.equal(new TextDecoder().decode(chunks[0]), '{"a":1,"score":{"p":0.5}}\n');
 * ```
 */
export class StdoutSink implements Sink {
  readonly description: string;
  readonly #output: ByteSink;
  readonly #format: (event: Envelope) => string;
  readonly #bufferBytes: number;
  readonly #separator: string;
  readonly #encoder = new TextEncoder();
  #batch: Batch | undefined;
  #scheduled = false;
  #chain: Promise<void> = Promise.resolve();
  #broken: BrokenPipeError | undefined;

  /** Writes to `options.output` (default stdout). */
  constructor(options: StdoutSinkOptions = {}) {
    this.#output = options.output ?? Deno.stdout;
    const shape = options.payload ?? RECORD_SHAPE;
    this.#format = options.format ??
      (shape.kind === "envelope"
        ? (event) => JSON.stringify(event)
        : (event) => JSON.stringify(payloadOf(event, shape)));
    this.#bufferBytes = options.bufferBytes ?? 64 * 1024;
    this.#separator = options.separator ?? "\n";
    this.description = options.output ? "output" : "stdout";
  }

  send(event: Envelope): Promise<void> {
    if (this.#broken) return Promise.reject(this.#broken);
    let line: string;
    try {
      line = this.#format(event);
    } catch (err) {
      return Promise.reject(err);
    }
    const batch = this.#batch ??= newBatch();
    batch.lines.push(line);
    batch.bytes += line.length + 1;
    if (batch.bytes >= this.#bufferBytes) this.#writeBatch();
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

  #writeBatch(): void {
    const batch = this.#batch;
    if (!batch) return;
    this.#batch = undefined;
    const bytes = this.#encoder.encode(
      batch.lines.join(this.#separator) + this.#separator,
    );
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
  return { lines: [], bytes: 0, done, resolve, reject };
}
