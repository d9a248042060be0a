/**
 * The batching machinery shared by the S3 and file sinks: events are grouped by their rendered
 * prefix into batches that roll at a count, a size or an age, each batch is encoded into one object
 * with a unique name and handed to an {@linkcode ObjectStore}. The promise `send` returns settles
 * when the object holding that event is durably stored, so acknowledgements never run ahead of
 * the data.
 *
 * @module
 */
import type { Envelope } from "../envelope.ts";
import { EdgepipeError } from "../errors.ts";
import { payloadOf, type PayloadShape, RECORD_SHAPE } from "../delivered_record.ts";
import { type BatchEncoder, type Encoding, newBatchEncoder } from "./encode.ts";
import { newWriterId, objectKey, type PrefixTemplate } from "./object_naming.ts";
import type { Sink } from "./types.ts";

/** Where finished batches go: a bucket, a directory. */
export interface ObjectStore {
  /** For logs and plans, e.g. `s3://bucket` or `file:///data/out`. */
  readonly description: string;
  /** Stores `bytes` under `key`, durably, then resolves. Repeating a put with the same bytes is safe. */
  put(key: string, bytes: Uint8Array, encoding: Encoding): Promise<void>;
  /** Releases connections. */
  close?(): Promise<void>;
}

/** When batches roll and how they are named. */
export interface BatchingOptions {
  /** Renders the prefix (directory part of the name) for each event. */
  prefix: PrefixTemplate;
  /** How a batch is encoded (`ndjson`, `ndjson.gz`, `ndjson.zst`, `parquet`). */
  encoding: Encoding;
  /** What each stored record is (`docs/envelope.md`); default the flat record. */
  payload?: PayloadShape;
  /** Roll after this many events. Default 10 000. */
  maxEvents?: number;
  /** Roll after about this many uncompressed bytes. Default 16 MiB. */
  maxBytes?: number;
  /** Roll this long after a batch's first event. Default 10 s. */
  maxAgeMs?: number;
  /** Names this writer in object keys; a new random one per process by default. */
  writerId?: string;
  /** Batches being encoded or stored at once. Default 2. */
  maxInFlight?: number;
}

/**
 * How many events a terminal must be able to hold unsettled for this sink to work at full size:
 * every batch it may be storing at once plus one filling. A sink's `send` settles only when the
 * object holding the event is stored, so a smaller bound stalls the terminal before a batch is
 * full; it then seals short objects on its idle nudge.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { eventsToFill } from "./batching_sink.ts";
 * assert.equal(eventsToFill({}), 30_000); // 10,000-event objects, two storing, one filling
 * assert.equal(eventsToFill({ maxEvents: 5000, maxInFlight: 1 }), 10_000);
 * ```
 */
export function eventsToFill(options: Pick<BatchingOptions, "maxEvents" | "maxInFlight">): number {
  return (options.maxEvents ?? DEFAULT_MAX_EVENTS) *
    ((options.maxInFlight ?? DEFAULT_BATCHES_IN_FLIGHT) + 1);
}

const DEFAULT_MAX_EVENTS = 10_000;
const DEFAULT_BATCHES_IN_FLIGHT = 2;

/** A batch that could not be stored; every event in it stays unacknowledged. */
export class BatchStoreError extends EdgepipeError {}

interface OpenBatch {
  prefix: string;
  encoder: BatchEncoder;
  bytes: number;
  timer?: ReturnType<typeof setTimeout>;
  done: Promise<void>;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * A {@linkcode Sink} that writes batches of events as objects.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { BatchingSink, type ObjectStore } from "./batching_sink.ts";
 * import { PrefixTemplate } from "./object_naming.ts";
 * const stored = new Map<string, Uint8Array>();
 * const store: ObjectStore = {
 *   description: "memory",
 *   put: (key, bytes) => Promise.resolve(void stored.set(key, bytes)),
 * };
 * const sink = new BatchingSink(store, {
 *   prefix: new PrefixTemplate("events/"),
 *   encoding: "ndjson",
 *   writerId: "w",
 * });
 * const delivered = sink.send({ id: "a", value: 1 });
 * await sink.flush();
 * await delivered;
 * assert.ok(stored.has("events/w-000000000.ndjson"));
 * ```
 */
export class BatchingSink implements Sink {
  readonly description: string;
  /** This writer's id, part of every object name. */
  readonly writerId: string;
  readonly #store: ObjectStore;
  readonly #options: Required<Omit<BatchingOptions, "writerId">>;
  readonly #open = new Map<string, OpenBatch>();
  readonly #inFlight = new Set<Promise<void>>();
  #slots: number;
  #waitingForSlot: (() => void)[] = [];
  #sequence = 0;
  #failure: unknown;

  /** Batches events into objects of `store`. */
  constructor(store: ObjectStore, options: BatchingOptions) {
    this.#store = store;
    this.writerId = options.writerId ?? newWriterId();
    this.#options = {
      prefix: options.prefix,
      encoding: options.encoding,
      payload: options.payload ?? RECORD_SHAPE,
      maxEvents: options.maxEvents ?? DEFAULT_MAX_EVENTS,
      maxBytes: options.maxBytes ?? 16 * 1024 * 1024,
      maxAgeMs: options.maxAgeMs ?? 10_000,
      maxInFlight: options.maxInFlight ?? DEFAULT_BATCHES_IN_FLIGHT,
    };
    this.#slots = this.#options.maxInFlight;
    this.description = `${store.description}/${options.prefix.source} (${options.encoding})`;
  }

  /** Objects started so far (the next sequence number). */
  get objectsStarted(): number {
    return this.#sequence;
  }

  send(event: Envelope): Promise<void> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    let prefix: string;
    let payload: unknown;
    try {
      prefix = this.#options.prefix.render(event);
      payload = payloadOf(event, this.#options.payload);
    } catch (err) {
      return Promise.reject(err);
    }
    let batch = this.#open.get(prefix);
    if (!batch) {
      batch = this.#newBatch(prefix);
      this.#open.set(prefix, batch);
    }
    batch.bytes += batch.encoder.add(payload);
    if (batch.encoder.count >= this.#options.maxEvents || batch.bytes >= this.#options.maxBytes) {
      this.#seal(batch);
    }
    return batch.done;
  }

  async flush(): Promise<void> {
    for (const batch of [...this.#open.values()]) this.#seal(batch);
    while (this.#inFlight.size > 0) {
      const results = await Promise.allSettled([...this.#inFlight]);
      const failed = results.find((r) => r.status === "rejected");
      if (failed) throw (failed as PromiseRejectedResult).reason;
    }
    if (this.#failure !== undefined) throw this.#failure;
  }

  async close(): Promise<void> {
    try {
      await this.flush();
    } finally {
      await this.#store.close?.();
    }
  }

  #newBatch(prefix: string): OpenBatch {
    let resolve!: () => void;
    let reject!: (err: unknown) => void;
    const done = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    // Callers may drop a send's promise (e.g. after the source has stopped); never crash on it.
    done.catch(() => {});
    const batch: OpenBatch = {
      prefix,
      encoder: newBatchEncoder(this.#options.encoding, this.#options.payload),
      bytes: 0,
      done,
      resolve,
      reject,
    };
    batch.timer = setTimeout(() => this.#seal(batch), this.#options.maxAgeMs);
    return batch;
  }

  #seal(batch: OpenBatch): void {
    if (this.#open.get(batch.prefix) !== batch) return;
    this.#open.delete(batch.prefix);
    clearTimeout(batch.timer);
    const key = objectKey(batch.prefix, this.writerId, this.#sequence++, this.#options.encoding);
    const stored = this.#storeBatch(batch, key);
    this.#inFlight.add(stored);
    stored.then(batch.resolve, (err) => {
      this.#failure ??= err;
      batch.reject(err);
    }).finally(() => this.#inFlight.delete(stored));
  }

  async #storeBatch(batch: OpenBatch, key: string): Promise<void> {
    await this.#acquireSlot();
    try {
      const bytes = await batch.encoder.finish();
      await this.#store.put(key, bytes, this.#options.encoding);
    } catch (cause) {
      if (cause instanceof EdgepipeError) throw cause;
      throw new BatchStoreError(`storing ${key} in ${this.#store.description} failed`, { cause });
    } finally {
      this.#releaseSlot();
    }
  }

  #acquireSlot(): Promise<void> {
    if (this.#slots > 0) {
      this.#slots--;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.#waitingForSlot.push(resolve));
  }

  #releaseSlot(): void {
    const next = this.#waitingForSlot.shift();
    if (next) next();
    else this.#slots++;
  }
}
