/**
 * A sink that produces events to a Pulsar topic. An event counts as delivered when the broker has
 * acknowledged (persisted) its message.
 *
 * @module
 */
import { type Envelope, getPath } from "../envelope.ts";
import { EdgepipeError } from "../errors.ts";
import type { DeadLetter, DeadLetterSink } from "../dead_letter.ts";
import type {
  Compression,
  CreateProducerOptions,
  MessageProducer,
  ProducerMessage,
  PulsarClient,
} from "../pulsar/mod.ts";
import type { Sink } from "./types.ts";

/** How an event's `value` becomes the message payload. */
export type PayloadEncoding = "auto" | "json" | "base64";

/** How messages are spread over the partitions of a partitioned topic. */
export type Routing = "java-hash" | "murmur3" | "round-robin";

/** An event that cannot become a message (no value, a bad base64 payload, a bad event time). */
export class EncodeError extends EdgepipeError {}

/** Options of {@linkcode PulsarSink.open}. */
export interface PulsarSinkOptions {
  topic: string;
  /** `auto` (default): strings as they are, anything else as JSON; `json`: always JSON. */
  payload?: PayloadEncoding;
  /** Key from this path of the event's value (default: the envelope's `key`). */
  keyField?: string;
  /** One key for every message. */
  key?: string;
  /** Event time from this path of the event's value (default: the envelope's `eventTime`). */
  timeField?: string;
  /** Properties added to every message (the envelope's own properties are kept). */
  properties?: Record<string, string>;
  compression?: Compression;
  batchMaxMessages?: number;
  /** Longest a message waits for its batch, ms. */
  batchDelayMs?: number;
  /** Default `java-hash`: the same partition a Java producer picks for the key. */
  routing?: Routing;
  producerName?: string;
  /** Send messages over the broker's size limit as chunks (batching off). */
  chunking?: boolean;
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
  #next = 0;
  #sentToCurrent = 0;
  /** Messages built by `prepare`, so that checking an event early costs no second encoding. */
  #prepared = new WeakMap<Envelope, ProducerMessage>();

  private constructor(producers: MessageProducer[], options: PulsarSinkOptions) {
    this.#producers = producers;
    this.#options = options;
    this.description = `topic ${options.topic}`;
  }

  /** Creates the producer(s); round-robin routing gets one per partition. */
  static async open(client: PulsarClient, options: PulsarSinkOptions): Promise<PulsarSink> {
    const base: Omit<CreateProducerOptions, "topic"> = {
      ...(options.compression ? { compression: options.compression } : {}),
      ...(options.batchMaxMessages !== undefined
        ? { batchingMaxMessages: options.batchMaxMessages, batching: options.batchMaxMessages > 1 }
        : {}),
      ...(options.batchDelayMs !== undefined ? { batchingMaxDelayMs: options.batchDelayMs } : {}),
      ...(options.producerName ? { producerName: options.producerName } : {}),
      ...(options.chunking ? { chunking: true, batching: false } : {}),
      hashingScheme: options.routing === "murmur3" ? "Murmur3_32Hash" : "JavaStringHash",
    };
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
          throw error;
        }
        return new PulsarSink(producers, options);
      }
    }
    return new PulsarSink(
      [await client.createProducer({ ...base, topic: options.topic })],
      options,
    );
  }

  send(event: Envelope): Promise<void> {
    let message = this.#prepared.get(event);
    try {
      if (message) this.#prepared.delete(event);
      else message = this.toMessage(event);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#route().send(message).then(() => {});
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
 * The message an event becomes under the sink's options: payload, key, event time, properties.
 * Throws {@linkcode EncodeError} when it cannot.
 *
 * @example
 * ```ts
 * import { toProducerMessage } from "./pulsar.ts";
 * const message = toProducerMessage({ key: "k", eventTime: 5, value: "x" }, { topic: "t" });
 * console.assert(message.key === "k" && message.eventTime === 5);
 * ```
 */
export function toProducerMessage(
  event: Envelope,
  options: Omit<PulsarSinkOptions, "topic"> & { topic?: string },
): ProducerMessage {
  const message: ProducerMessage = { payload: encodePayload(event.value, options.payload) };
  const key = options.key ??
    (options.keyField !== undefined ? getPath(event.value, options.keyField) : event.key);
  if (key !== undefined && key !== null && key !== "") message.key = String(key);
  const time = options.timeField !== undefined
    ? getPath(event.value, options.timeField)
    : event.eventTime;
  if (time !== undefined && time !== null) message.eventTime = eventTimeOf(time);
  const properties = { ...(event.properties ?? {}), ...(options.properties ?? {}) };
  if (Object.keys(properties).length > 0) message.properties = properties;
  return message;
}

/**
 * The payload bytes of a value.
 *
 * @example
 * ```ts
 * import { encodePayload } from "./pulsar.ts";
 * console.assert(new TextDecoder().decode(encodePayload({ a: 1 })) === '{"a":1}');
 * console.assert(new TextDecoder().decode(encodePayload("plain text")) === "plain text");
 * ```
 */
export function encodePayload(value: unknown, encoding: PayloadEncoding = "auto"): Uint8Array {
  if (value === undefined) throw new EncodeError("event has no value to produce");
  if (encoding === "base64") {
    if (typeof value !== "string") {
      throw new EncodeError("--payload base64 needs the value to be a base64 string");
    }
    try {
      return Uint8Array.from(atob(value), (c) => c.charCodeAt(0));
    } catch (cause) {
      throw new EncodeError("value is not valid base64", { cause });
    }
  }
  if (encoding === "auto" && typeof value === "string") return utf8.encode(value);
  return utf8.encode(JSON.stringify(value));
}

function eventTimeOf(value: unknown): number {
  const ms = typeof value === "string" && !/^\d+$/.test(value) ? Date.parse(value) : Number(value);
  if (!Number.isSafeInteger(ms) || ms <= 0) {
    throw new EncodeError(`event time ${JSON.stringify(value)} is not epoch ms or an ISO date`);
  }
  return ms;
}

/** Dead letters written to a Pulsar topic, each acknowledged by the broker before `write` ends. */
export class PulsarDeadLetterSink implements DeadLetterSink {
  readonly #producer: Promise<MessageProducer>;

  constructor(client: PulsarClient, topic: string) {
    this.#producer = client.createProducer({ topic });
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
