/**
 * A sink that produces events to a Pulsar topic. An event counts as delivered when the broker has
 * acknowledged (persisted) its message.
 *
 * @module
 */
import { type Envelope, getPath } from "../envelope.ts";
import { EdgepipeError } from "../errors.ts";
import { deliveredRecord, type PayloadShape, RecordShapeError } from "../delivered_record.ts";
import type { DeadLetter, DeadLetterSink } from "../dead_letter.ts";
import type {
  Compression,
  CreateProducerOptions,
  MessageEncryptor,
  MessageProducer,
  ProducerMessage,
  PulsarClient,
  Transaction,
} from "../pulsar/mod.ts";
import { BrokerError } from "../pulsar/mod.ts";
import type { Sink } from "./types.ts";
import { parseEventTime } from "../time/event_time.ts";
import { BrokerWaitNotice } from "./broker_wait.ts";
import { oneLineReason, SchemaDefinitionError, SchemaError } from "../schema/errors.ts";
import type { ProducerSchema } from "../schema/types.ts";

/** How the payload (see {@linkcode PayloadShape}) becomes the message bytes. */
export type PayloadEncoding = "auto" | "json" | "base64";

/** How messages are spread over the partitions of a partitioned topic. */
export type Routing = "java-hash" | "murmur3" | "round-robin";

/** An event that cannot become a message (no value, a bad base64 payload, a bad event time). */
export class EncodeError extends EdgepipeError {}

/** Options of {@linkcode PulsarSink.open}. */
export interface PulsarSinkOptions {
  /** The topic to produce to. */
  topic: string;
  /** What the payload is (default `record`, `docs/envelope.md`). */
  payload?: PayloadShape;
  /**
   * `auto` (default): a string payload as it is, anything else as JSON; `json`: always JSON;
   * `base64`: the payload is a base64 string of the bytes.
   */
  encoding?: PayloadEncoding;
  /** Key from this path of the event's value (default: the envelope's `key`). */
  keyField?: string;
  /** One key for every message. */
  key?: string;
  /** Event time from this path of the event's value (default: the envelope's `eventTime`). */
  timeField?: string;
  /** Properties added to every message (the envelope's own properties are kept). */
  properties?: Record<string, string>;
  /** Payload compression (default none). */
  compression?: Compression;
  /** End-to-end encryption (`--encrypt-key`): applied after compression. */
  encryption?: MessageEncryptor;
  /**
   * `key` (default): a batch holds a run of consecutive messages of one key, so Key_Shared
   * consumers keep key ownership and the topic keeps the order of the stream; `key-grouped`: a
   * batch holds every message of one key sent together (order per key only, as the Java
   * client's KEY_BASED batcher); `default`: messages sent together share a batch whatever their
   * keys; `off`: no batching.
   */
  batching?: "key" | "key-grouped" | "default" | "off";
  /** Most messages in one batch. */
  batchMaxMessages?: number;
  /** Longest a message waits for its batch, ms. */
  batchDelayMs?: number;
  /** Default `java-hash`: the same partition a Java producer picks for the key. */
  routing?: Routing;
  /** A stable producer name (lets the broker deduplicate resends). */
  producerName?: string;
  /**
   * Give up on a message the broker has not acknowledged within this long, ms (the send fails).
   * Default 0: never; during a broker outage sends wait for it to come back, and so does input.
   */
  sendTimeoutMs?: number;
  /** Where the outage lines go (one when sends start waiting, one when the broker is back). */
  log?: (message: string) => void;
  /** Send messages over the broker's size limit as chunks (batching off). */
  chunking?: boolean;
  /**
   * The schema the producer registers (or checks) at creation; each payload is encoded with it,
   * and one that does not fit is an {@linkcode EncodeError} (nothing half-encoded is sent).
   */
  schema?: ProducerSchema;
}

const utf8 = new TextEncoder();

/**
 * Produces events to one topic.
 *
 * @example
 * ```ts ignore
 * import { PulsarClient } from "../pulsar/mod.ts";
 * import { PulsarSink } from "./pulsar.ts";
 * const client = new PulsarClient({ serviceUrl: "pulsar://127.0.0.1:6650" });
 * const sink = await PulsarSink.open(client, { topic: "scored", compression: "ZSTD" });
 * await sink.send({ key: "SFO", value: { delay: 12 } });
 * await sink.close();
 * await client.close();
 * ```
 */
export class PulsarSink implements Sink {
  readonly description: string;
  readonly #producers: MessageProducer[];
  readonly #options: PulsarSinkOptions;
  readonly #outage: BrokerWaitNotice | undefined;
  #next = 0;
  #sentToCurrent = 0;
  #client?: PulsarClient;
  #txn?: Transaction;
  /** Messages built by `prepare`, so that checking an event early costs no second encoding. */
  #prepared = new WeakMap<Envelope, ProducerMessage>();

  private constructor(
    producers: MessageProducer[],
    options: PulsarSinkOptions,
    outage?: BrokerWaitNotice,
  ) {
    this.#producers = producers;
    this.#options = options;
    this.#outage = outage;
    this.description = `topic ${options.topic}`;
  }

  /** Creates the producer(s); round-robin routing gets one per partition. */
  static async open(client: PulsarClient, options: PulsarSinkOptions): Promise<PulsarSink> {
    const base: Omit<CreateProducerOptions, "topic"> = {
      ...(options.compression ? { compression: options.compression } : {}),
      ...(options.encryption ? { encryption: options.encryption } : {}),
      ...(options.batchMaxMessages !== undefined
        ? { batchingMaxMessages: options.batchMaxMessages, batching: options.batchMaxMessages > 1 }
        : {}),
      ...(options.batchDelayMs !== undefined ? { batchingMaxDelayMs: options.batchDelayMs } : {}),
      ...(options.batching === "off" ? { batching: false } : {}),
      batchingType: options.batching === "default" || options.batching === "key-grouped"
        ? options.batching
        : "key",
      ...(options.producerName ? { producerName: options.producerName } : {}),
      ...(options.chunking ? { chunking: true, batching: false } : {}),
      ...(options.schema ? { schema: options.schema.schema } : {}),
      hashingScheme: options.routing === "murmur3" ? "Murmur3_32Hash" : "JavaStringHash",
      sendTimeoutMs: options.sendTimeoutMs ?? 0,
    };
    const outage = brokerWaitNotice(options.log, options.sendTimeoutMs);
    base.onConnectionChange = outage.onConnectionChange;
    if (options.routing === "round-robin") {
      const partitions = await client.getPartitions(options.topic);
      if (partitions.length > 1) {
        const producers: MessageProducer[] = [];
        try {
          for (const topic of partitions) {
            producers.push(await client.createProducer({ ...base, topic }));
          }
        } catch (error) {
          await Promise.allSettled(producers.map((p) => p.close()));
          throw schemaRefusal(error, options.topic);
        }
        return new PulsarSink(producers, options, outage).#withClient(client);
      }
    }
    let producer: MessageProducer;
    try {
      producer = await client.createProducer({ ...base, topic: options.topic });
    } catch (error) {
      throw schemaRefusal(error, options.topic);
    }
    return new PulsarSink([producer], options, outage).#withClient(client);
  }

  #withClient(client: PulsarClient): this {
    this.#client = client;
    return this;
  }

  send(event: Envelope): Promise<void> {
    let message = this.#prepared.get(event);
    try {
      if (message) this.#prepared.delete(event);
      else message = this.toMessage(event);
    } catch (error) {
      return Promise.reject(error);
    }
    const txn = this.#txn;
    return this.#route().send(message, txn ? { txn } : undefined).then(() => {});
  }

  /** Sends from now on go inside transaction `txn` (opened by the source, "most:least"). */
  async joinTransaction(txn: string): Promise<void> {
    const coordinator = await this.#client!.transactions();
    this.#txn = coordinator.attach(txn);
  }

  /** Builds (and keeps for `send`) the message of an event; throws {@linkcode EncodeError}. */
  prepare(event: Envelope): ProducerMessage {
    const message = this.toMessage(event);
    this.#prepared.set(event, message);
    return message;
  }

  /** The message an event becomes; throws {@linkcode EncodeError} when it cannot. */
  toMessage(event: Envelope): ProducerMessage {
    return toProducerMessage(event, this.#options);
  }

  async flush(): Promise<void> {
    await Promise.all(this.#producers.map((p) => p.flush()));
  }

  async close(): Promise<void> {
    this.#outage?.close();
    await Promise.all(this.#producers.map((p) => p.close()));
  }

  #route(): MessageProducer {
    if (this.#producers.length === 1) return this.#producers[0];
    // Stay on a partition for a whole batch so that round-robin does not defeat batching.
    if (++this.#sentToCurrent > (this.#options.batchMaxMessages ?? 1000)) {
      this.#sentToCurrent = 1;
      this.#next = (this.#next + 1) % this.#producers.length;
    }
    return this.#producers[this.#next];
  }
}

/**
 * The message an event becomes under the sink's options: the delivered record
 * ({@linkcode deliveredRecord}) as payload, its key, event time and properties as metadata.
 * Throws {@linkcode EncodeError} when it cannot.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { toProducerMessage } from "./pulsar.ts";
 * const message = toProducerMessage(
 *   { id: "CAcQAA==", key: "k", eventTime: 5, value: { a: 1 }, score: { p: 0.5 } },
 *   { topic: "t" },
 * );
 * assert.equal(new TextDecoder().decode(message.payload as Uint8Array), '{"a":1,"score":{"p":0.5}}');
 * assert.equal(message.key, "k");
 * assert.equal(message.eventTime, 5);
 * ```
 */
export function toProducerMessage(
  event: Envelope,
  options: Omit<PulsarSinkOptions, "topic"> & { topic?: string },
): ProducerMessage {
  let record;
  try {
    record = deliveredRecord(event, options.payload);
  } catch (cause) {
    if (cause instanceof RecordShapeError) throw new EncodeError(cause.message, { cause });
    throw cause;
  }
  const encoded = options.schema
    ? encodeWithSchema(record.payload, options.schema)
    : { payload: encodePayload(record.payload, options.encoding) };
  const message: ProducerMessage = { payload: encoded.payload };
  const key = options.key ??
    (options.keyField !== undefined ? getPath(event.value, options.keyField) : record.key);
  if (key !== undefined && key !== null && key !== "") message.key = String(key);
  // A SEPARATED KEY_VALUE schema's key travels as the message key, base64 (as Java sends it).
  if (encoded.key !== undefined) {
    message.key = encodeBase64(encoded.key);
    message.keyIsBase64 = true;
  }
  const time = options.timeField !== undefined
    ? getPath(event.value, options.timeField)
    : record.eventTime;
  if (time !== undefined && time !== null) message.eventTime = eventTimeOf(time);
  const properties = { ...(record.properties ?? {}), ...(options.properties ?? {}) };
  if (Object.keys(properties).length > 0) message.properties = properties;
  return message;
}

/** A broker's refusal of the producer's schema as one line; any other error as it is. */
function schemaRefusal(error: unknown, topic: string): unknown {
  if (!(error instanceof BrokerError) || error.code !== "IncompatibleSchema") return error;
  // No cause: it would print the broker's multi-line text again after the one line.
  return new SchemaDefinitionError(
    `the broker refused the schema for ${topic}: ${oneLineReason(error.message)}`,
  );
}

/** The bytes of a payload in the producer's schema; {@linkcode EncodeError} when it does not fit. */
function encodeWithSchema(
  value: unknown,
  schema: ProducerSchema,
): { payload: Uint8Array; key?: Uint8Array } {
  if (value === undefined) throw new EncodeError("event has no payload to produce");
  let encoded;
  try {
    encoded = schema.codec.encode(value);
  } catch (cause) {
    if (cause instanceof SchemaError) throw new EncodeError(cause.message, { cause });
    throw cause;
  }
  return encoded;
}

function encodeBase64(bytes: Uint8Array): string {
  return btoa(Array.from(bytes, (b) => String.fromCharCode(b)).join(""));
}

/**
 * The bytes of a payload.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodePayload } from "./pulsar.ts";
 * assert.equal(new TextDecoder().decode(encodePayload({ a: 1 })), '{"a":1}');
 * assert.equal(new TextDecoder().decode(encodePayload("plain text")), "plain text");
 * assert.deepEqual(encodePayload("/wD+", "base64"), new Uint8Array([255, 0, 254]));
 * ```
 */
export function encodePayload(value: unknown, encoding: PayloadEncoding = "auto"): Uint8Array {
  if (value === undefined) throw new EncodeError("event has no payload to produce");
  if (encoding === "base64") {
    if (typeof value !== "string") {
      throw new EncodeError("--encoding base64 needs the payload to be a base64 string");
    }
    try {
      return Uint8Array.from(atob(value), (c) => c.charCodeAt(0));
    } catch (cause) {
      throw new EncodeError("payload is not valid base64", { cause });
    }
  }
  if (encoding === "auto" && typeof value === "string") return utf8.encode(value);
  return utf8.encode(JSON.stringify(value));
}

function eventTimeOf(value: unknown): number {
  let ms = Number.NaN;
  let cause: unknown;
  try {
    ms = parseEventTime(value);
  } catch (error) {
    cause = error;
  }
  if (!Number.isSafeInteger(ms) || ms <= 0) {
    throw new EncodeError(`event time ${JSON.stringify(value)} is not epoch ms or an ISO date`, {
      cause,
    });
  }
  return ms;
}

/**
 * The outage notice of a sink's producers: lines prefixed as the log does, with how to give up
 * (or that the sink gives up on its own after `sendTimeoutMs`).
 */
function brokerWaitNotice(
  log: ((message: string) => void) | undefined,
  sendTimeoutMs: number | undefined,
): BrokerWaitNotice {
  return new BrokerWaitNotice({
    log: log ?? ((message) => console.error(`edgepipe: ${message}`)),
    hint: sendTimeoutMs
      ? `giving up on a message after ${sendTimeoutMs / 1000} s`
      : "no send timeout is set: they wait as long as it takes",
  });
}

/** Dead letters written to a Pulsar topic, each acknowledged by the broker before `write` ends. */
export class PulsarDeadLetterSink implements DeadLetterSink {
  readonly #producer: Promise<MessageProducer>;

  constructor(client: PulsarClient, topic: string) {
    // Like the sinks: a dead letter waits for a broker that is away rather than being lost.
    this.#producer = client.createProducer({ topic, sendTimeoutMs: 0 });
    this.#producer.catch(() => {}); // reported by write()
  }

  async write(record: DeadLetter): Promise<void> {
    const producer = await this.#producer;
    await producer.send({
      payload: JSON.stringify(record),
      ...(record.key ? { key: record.key } : {}),
    });
  }

  async close(): Promise<void> {
    await (await this.#producer.catch(() => undefined))?.close();
  }
}

/** True when a `dead-letter=` target names a topic rather than a file. */
export function isTopicTarget(target: string): boolean {
  return /^(persistent|non-persistent):\/\//.test(target) || target.startsWith("topic:");
}

/** The topic a `dead-letter=topic:<name>` or `dead-letter=persistent://…` target names. */
export function topicOfTarget(target: string): string {
  return target.startsWith("topic:") ? target.slice("topic:".length) : target;
}
