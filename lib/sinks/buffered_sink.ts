/**
 * Store-and-forward around any sink (`--buffer-dir DIR --buffer-max 2GiB`): every event is
 * appended to a durable on-disk queue ({@linkcode SegmentQueue}) and counts as delivered
 * upstream (the source may acknowledge it) once it is fsynced there; a forwarder sends the queue,
 * oldest first, to the real destination, and moves the queue's cursor past what the destination
 * confirmed. While the destination is unreachable (the broker down, S3 refusing, MQTT away) the
 * queue grows on disk and memory stays bounded; when it returns, forwarding resumes in order.
 * After kill -9 the next start replays the queue first (from the last saved cursor: a batch
 * forwarded just before the kill may be forwarded twice).
 *
 * When the queue holds `maxBytes`, appends wait: the terminal stops reading its input
 * (backpressure), nothing is dropped. A destination that rejects an event is retried with backoff
 * (0.5 s doubling to 30 s, said on stderr); an event the destination can never take (an
 * `InputError`: a missing topic-template field, a record the encoder refuses) is written to
 * stderr with its id and left out, so that it cannot block everything behind it.
 *
 * @module
 */
import type { Envelope } from "../envelope.ts";
import { describeError, InputError, UsageError } from "../errors.ts";
import { parseBytes, parseDuration } from "../units.ts";
import { SegmentQueue, type StoredRecord } from "./buffer_segments.ts";
import type { Sink } from "./types.ts";

/** The store-and-forward flags every terminal command takes, as `parseFlags` options. */
export const BUFFER_FLAGS = {
  "buffer-dir": { type: "string" },
  "buffer-max": { type: "string" },
  "buffer-drain-timeout": { type: "string" },
} as const;

/** Help for {@linkcode BUFFER_FLAGS}. */
export const BUFFER_HELP = `Store and forward (docs/sinks.md#store-and-forward):
  --buffer-dir <dir>    store every event durably in <dir> first (segment files with CRC-32C
                        checksums, fsynced before the event counts as delivered) and forward
                        from there, in order; while the destination is unreachable the buffer
                        grows and the pipeline goes on; after a crash it is replayed first
  --buffer-max <size>   most bytes stored (default 2GiB); when full, reading waits
  --buffer-drain-timeout <d>  at exit, how long to keep forwarding before leaving the rest
                        stored for the next start (default 30s)`;

/** {@linkcode BufferedSinkOptions} from the flags, or undefined without `--buffer-dir`. */
export function bufferOptions(
  values: { "buffer-dir"?: string; "buffer-max"?: string; "buffer-drain-timeout"?: string },
  log: (message: string) => void,
): BufferedSinkOptions | undefined {
  if (values["buffer-dir"] === undefined) {
    if (values["buffer-max"] !== undefined) throw new UsageError("--buffer-max needs --buffer-dir");
    return undefined;
  }
  return {
    dir: values["buffer-dir"],
    maxBytes: values["buffer-max"] === undefined
      ? undefined
      : parseBytes(values["buffer-max"], "--buffer-max"),
    drainTimeoutMs: values["buffer-drain-timeout"] === undefined
      ? undefined
      : parseDuration(values["buffer-drain-timeout"], "--buffer-drain-timeout"),
    log,
  };
}

/** Options of {@linkcode BufferedSink.open}. */
export interface BufferedSinkOptions {
  /** The queue's directory. */
  dir: string;
  /** Most bytes the queue holds (default 2 GiB). */
  maxBytes?: number;
  /** Segment size (default 64 MiB, at most a quarter of maxBytes). */
  segmentBytes?: number;
  /** At close, how long to keep forwarding before leaving the rest on disk (default 30 s). */
  drainTimeoutMs?: number;
  /** Records forwarded per batch (default 500). */
  batch?: number;
  /** Notices and warnings. */
  log: (message: string) => void;
  /**
   * Tells an error that no retry can fix (a missing bucket, refused credentials) from an
   * unreachable destination. On such an error forwarding stops, what is stored stays on disk, and
   * the next `send` fails with it. Default: every error is retried.
   */
  refused?: (err: unknown) => boolean;
}

/** A sink that stores events durably and forwards them to `open()`'s sink. */
export class BufferedSink implements Sink {
  readonly description: string;
  readonly #queue: SegmentQueue;
  readonly #open: () => Promise<Sink>;
  readonly #options: BufferedSinkOptions;
  readonly #stop = new AbortController();
  readonly #stopped = new Promise<false>((resolve) =>
    this.#stop.signal.addEventListener("abort", () => resolve(false), { once: true })
  );
  #inner: Sink | undefined;
  #forwarding: Promise<void>;
  #forwarded = 0;
  #skipped = 0;
  #refusal: unknown;

  private constructor(queue: SegmentQueue, open: () => Promise<Sink>, o: BufferedSinkOptions) {
    this.#queue = queue;
    this.#open = open;
    this.#options = o;
    this.description = `buffer ${o.dir}`;
    if (queue.records > 0) {
      o.log(`buffer: ${queue.records} event(s) stored in ${o.dir}; forwarding them first`);
    }
    this.#forwarding = this.#forward();
  }

  /**
   * Opens the queue in `options.dir` and starts forwarding to the sink `open` makes (called
   * again, with backoff, while it throws: the destination may be down when this starts).
   */
  static async open(
    open: () => Promise<Sink>,
    options: BufferedSinkOptions,
  ): Promise<BufferedSink> {
    const queue = await SegmentQueue.open(options.dir, {
      maxBytes: options.maxBytes,
      segmentBytes: options.segmentBytes,
      log: options.log,
    });
    return new BufferedSink(queue, open, options);
  }

  /** Events stored and not yet forwarded, their bytes, and the age of the oldest (ms). */
  stats(): { buffered: number; bytes: number; oldestAgeMs: number; forwarded: number } {
    const oldest = this.#queue.oldestAppendedAt;
    return {
      buffered: this.#queue.records,
      bytes: this.#queue.bytes,
      oldestAgeMs: oldest === undefined ? 0 : Math.max(0, Date.now() - oldest),
      forwarded: this.#forwarded,
    };
  }

  /** Stores the event; resolves once it is durable in the queue. */
  send(event: Envelope): Promise<void> {
    if (this.#refusal !== undefined) return Promise.reject(this.#refusal);
    return this.#queue.append(JSON.stringify(event));
  }

  /** Stored events are durable as soon as `send` resolves: nothing to do. */
  flush(): Promise<void> {
    return Promise.resolve();
  }

  /**
   * Keeps forwarding until the queue is empty or `drainTimeoutMs` passed, then stops; what is
   * left stays on disk for the next start (said on stderr).
   */
  async close(): Promise<void> {
    const deadline = Date.now() + (this.#options.drainTimeoutMs ?? 30_000);
    while (this.#queue.records > 0 && this.#refusal === undefined && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    this.#stop.abort();
    await this.#forwarding;
    await this.#queue.close();
    if (this.#queue.records > 0) {
      this.#options.log(
        `buffer: ${this.#queue.records} event(s) stay stored in ${this.#options.dir}; ` +
          `they are forwarded when a sink with this --buffer-dir starts again`,
      );
    }
    await this.#inner?.close().catch((err) =>
      this.#options.log(`buffer: closing the destination: ${describeError(err)}`)
    );
  }

  async #sleep(ms: number): Promise<void> {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.#stop.signal.addEventListener("abort", () => {
        clearTimeout(timer);
        resolve();
      }, { once: true });
    });
  }

  async #destination(): Promise<Sink | undefined> {
    let delay = 500;
    while (!this.#inner && !this.#stop.signal.aborted) {
      try {
        this.#inner = await this.#open();
      } catch (err) {
        if (this.#options.refused?.(err)) {
          this.#refusal = err;
          this.#options.log(`buffer: the destination refused (${describeError(err)})`);
          return undefined;
        }
        this.#options.log(
          `buffer: destination unreachable (${describeError(err)}); events are stored ` +
            `meanwhile; retrying in ${delay / 1000} s`,
        );
        await this.#sleep(delay);
        delay = Math.min(delay * 2, 30_000);
      }
    }
    return this.#inner;
  }

  async #forward(): Promise<void> {
    const signal = this.#stop.signal;
    let from = this.#queue.cursor;
    while (!signal.aborted) {
      const records = await this.#queue.read(from, this.#options.batch ?? 500, signal);
      if (records.length === 0) continue;
      const inner = await Promise.race([this.#destination(), this.#stopped.then(() => undefined)]);
      if (!inner) return; // stopped, or refused
      // A destination that holds its sends while it is away must not hold up a stop.
      if (!(await Promise.race([this.#sendAll(inner, records), this.#stopped]))) return;
      from = records[records.length - 1].next;
      await this.#queue.commit(from, records);
      this.#forwarded += records.length;
    }
  }

  /** Sends a batch; retries what the destination rejected; false when stopped first. */
  async #sendAll(inner: Sink, records: StoredRecord[]): Promise<boolean> {
    let todo = records;
    let delay = 500;
    while (todo.length > 0) {
      const results = await Promise.allSettled(
        todo.map((r) => inner.send(JSON.parse(r.body) as Envelope)),
      );
      const failed: StoredRecord[] = [];
      results.forEach((result, i) => {
        if (result.status === "fulfilled") return;
        if (result.reason instanceof InputError) {
          this.#skipped++;
          const id = (JSON.parse(todo[i].body) as Envelope).id;
          this.#options.log(
            `buffer: the destination cannot take event${id ? ` ${id}` : ""} ` +
              `(${describeError(result.reason)}): left out`,
          );
        } else failed.push(todo[i]);
      });
      if (failed.length === 0) return true;
      this.#options.log(
        `buffer: ${failed.length} event(s) not delivered (${
          describeError(
            (results.find((r) => r.status === "rejected") as PromiseRejectedResult)
              .reason,
          )
        }); retrying in ${delay / 1000} s`,
      );
      await this.#sleep(delay);
      if (this.#stop.signal.aborted) return false;
      delay = Math.min(delay * 2, 30_000);
      todo = failed;
    }
    return true;
  }

  /** Events the destination could never take (left out, each said on stderr). */
  get skipped(): number {
    return this.#skipped;
  }
}
