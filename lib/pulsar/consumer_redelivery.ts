/**
 * The redelivery side of a consumer: negative acks (redelivered after a delay), the ack timeout
 * (redelivered when not acked in time) and the dead-letter topic for messages redelivered too
 * often. Moving a message to the dead-letter topic retries with backoff a bounded number of
 * times, then gives up with a {@linkcode DeadLetterError} for the consumer to surface. The broker
 * is reached only through {@linkcode RedeliverySeam}, so it is tested without one.
 *
 * @module
 */
import type { ClientStatus } from "./client_status.ts";
import { Backoff, type BackoffOptions, sleep } from "./backoff.ts";
import { DeadLetterError } from "./consumer_errors.ts";
import type { DeadLetterPolicy } from "./consumer_options.ts";
import { describeError } from "../errors.ts";
import type { Message } from "./message.ts";
import { MessageId } from "./message_id.ts";
import type { Producer, ProducerOptions } from "./producer.ts";

/** What redelivery needs from its consumer. */
export interface RedeliverySeam {
  /** Asks the broker to send these messages again. */
  redeliver(messages: Message[]): void;
  /** Acknowledges a message (it reached the dead-letter topic). */
  ack(msg: Message): void;
  /** Gives up: the consumer surfaces `error` to its user. */
  fail(error: DeadLetterError): void;
  createProducer(options: ProducerOptions): Promise<Producer>;
  /** Told of each retry of a dead-letter move, and of giving up (the client's status stream). */
  reportStatus?(status: ClientStatus): void;
}

/** Options of {@linkcode Redelivery}. */
export interface RedeliveryOptions {
  ackTimeoutMs: number;
  nackDelayMs: number;
  deadLetter?: DeadLetterPolicy & { deadLetterTopic: string };
  /** Delays between dead-letter attempts. */
  backoff?: BackoffOptions;
}

/** Default of `DeadLetterPolicy.maxSendAttempts`. */
export const DEFAULT_DEAD_LETTER_ATTEMPTS = 10;

interface Held {
  msg: Message;
  at: number;
}

/**
 * Nacks, ack timeout and dead letters of one consumer.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Redelivery } from "./consumer_redelivery.ts";
 * import { Message } from "./message.ts";
 * import { MessageId } from "./message_id.ts";
 * const again: Message[][] = [];
 * const redelivery = new Redelivery({ ackTimeoutMs: 0, nackDelayMs: 1 }, {
 *   redeliver: (messages) => void again.push(messages),
 *   ack: () => {},
 *   fail: () => {},
 *   createProducer: () => Promise.reject(new Error("unused")),
 * });
 * redelivery.nack(new Message("t", new MessageId(1n, 1n), new Uint8Array(), { publishTime: 0 }));
 * await new Promise((resolve) => setTimeout(resolve, 20));
 * assert.equal(again.length, 1);
 * await redelivery.close();
 * ```
 */
export class Redelivery {
  readonly #options: RedeliveryOptions;
  readonly #seam: RedeliverySeam;
  readonly #unacked = new Map<string, Held>();
  readonly #nacked = new Map<string, Held>();
  readonly #abort = new AbortController();
  #ackTimer?: ReturnType<typeof setInterval>;
  #nackTimer?: ReturnType<typeof setTimeout>;
  #producer?: Promise<Producer>;
  #closed?: Promise<void>;

  constructor(options: RedeliveryOptions, seam: RedeliverySeam) {
    this.#options = options;
    this.#seam = seam;
  }

  /** Messages held for the ack timeout or a nack delay. */
  get held(): number {
    return this.#unacked.size + this.#nacked.size;
  }

  /** Starts the ack-timeout check (called once connected). */
  start(): void {
    const timeout = this.#options.ackTimeoutMs;
    if (timeout > 0 && this.#ackTimer === undefined) {
      this.#ackTimer = setInterval(
        () => this.#redeliverExpired(timeout),
        Math.max(50, Math.min(1000, timeout / 4)),
      );
    }
  }

  /** A message was handed to the user. */
  delivered(msg: Message): void {
    if (this.#options.ackTimeoutMs > 0) this.#unacked.set(keyOf(msg.id), { msg, at: Date.now() });
  }

  /** A message was acknowledged. */
  acked(id: MessageId): void {
    if (this.#unacked.size === 0 && this.#nacked.size === 0) return;
    const key = keyOf(id);
    this.#unacked.delete(key);
    this.#nacked.delete(key);
  }

  /** Everything up to `id` was acknowledged. */
  ackedUpTo(id: MessageId): void {
    for (const [key, entry] of this.#unacked) {
      if (MessageId.compare(entry.msg.id, id) <= 0) this.#unacked.delete(key);
    }
  }

  /** Forgets the delivered messages (the broker resends them all). */
  clearUnacked(): void {
    this.#unacked.clear();
  }

  /** The message delivered with this id, while the ack timeout holds it. */
  find(id: MessageId): Message | undefined {
    return this.#unacked.get(keyOf(id))?.msg;
  }

  /** Redelivers `msg` after the nack delay (or dead-letters it when past its limit). */
  nack(msg: Message): void {
    const key = keyOf(msg.id);
    this.#unacked.delete(key);
    const delay = this.#options.nackDelayMs;
    this.#nacked.set(key, { msg, at: Date.now() + delay });
    if (this.#nackTimer === undefined) {
      this.#nackTimer = setTimeout(() => this.#redeliverNacked(), Math.max(1, delay));
    }
  }

  /** Stops the timers and closes the dead-letter producer. */
  close(): Promise<void> {
    if (this.#closed) return this.#closed;
    this.#abort.abort();
    clearInterval(this.#ackTimer);
    clearTimeout(this.#nackTimer);
    const producer = this.#producer;
    this.#closed = producer ? producer.then((p) => p.close()).catch(() => {}) : Promise.resolve();
    return this.#closed;
  }

  #redeliverNacked(): void {
    this.#nackTimer = undefined;
    if (this.#closed) return;
    const now = Date.now();
    const due: Message[] = [];
    let next = Infinity;
    for (const [key, entry] of this.#nacked) {
      if (entry.at <= now) {
        due.push(entry.msg);
        this.#nacked.delete(key);
      } else next = Math.min(next, entry.at);
    }
    if (due.length > 0) this.#redeliver(due);
    if (next !== Infinity) {
      this.#nackTimer = setTimeout(() => this.#redeliverNacked(), Math.max(1, next - now));
    }
  }

  #redeliverExpired(timeoutMs: number): void {
    if (this.#closed) return;
    const cutoff = Date.now() - timeoutMs;
    const due: Message[] = [];
    for (const [key, entry] of this.#unacked) {
      if (entry.at <= cutoff) {
        due.push(entry.msg);
        this.#unacked.delete(key);
      }
    }
    if (due.length > 0) this.#redeliver(due);
  }

  /** Redelivers messages, sending those past the dead-letter limit to the DLQ topic instead. */
  #redeliver(messages: Message[]): void {
    const policy = this.#options.deadLetter;
    let retry = messages;
    if (policy) {
      retry = messages.filter((m) => m.redeliveryCount < policy.maxRedeliverCount);
      for (const msg of messages) {
        if (msg.redeliveryCount >= policy.maxRedeliverCount) void this.#deadLetter(msg, policy);
      }
    }
    if (retry.length > 0) this.#seam.redeliver(retry);
  }

  /** Moves one message to the dead-letter topic: bounded attempts with backoff, then give up. */
  async #deadLetter(msg: Message, policy: DeadLetterPolicy & { deadLetterTopic: string }) {
    const attempts = Math.max(1, policy.maxSendAttempts ?? DEFAULT_DEAD_LETTER_ATTEMPTS);
    const backoff = new Backoff(this.#options.backoff);
    const topic = policy.deadLetterTopic;
    const started = Date.now();
    let lastError: unknown;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      if (this.#closed) return;
      if (attempt > 1) {
        const delayMs = backoff.next();
        const error = lastError instanceof Error ? lastError : new Error(String(lastError));
        this.#seam.reportStatus?.({ type: "reconnecting", topic, attempt, error, delayMs });
        await sleep(delayMs, this.#abort.signal);
      }
      if (this.#closed) return;
      const created = this.#producer ??= this.#seam.createProducer({
        topic: policy.deadLetterTopic,
        batching: false,
      });
      let producer: Producer;
      try {
        producer = await created;
      } catch (error) {
        // Not cached: the next attempt creates the producer anew.
        if (this.#producer === created) this.#producer = undefined;
        lastError = error;
        continue;
      }
      try {
        await producer.send(deadLetterMessage(msg));
      } catch (error) {
        lastError = error;
        continue;
      }
      if (!this.#closed) this.#seam.ack(msg);
      if (attempt > 1) {
        const afterMs = Date.now() - started;
        this.#seam.reportStatus?.({ type: "reconnected", topic, afterMs, attempts: attempt });
      }
      return;
    }
    if (this.#closed) return;
    const error = lastError instanceof Error ? lastError : new Error(String(lastError));
    this.#seam.reportStatus?.({ type: "gave-up", topic, error });
    this.#seam.fail(
      new DeadLetterError(
        `cannot move message ${msg.id.toHuman()} of ${msg.topic} to the dead-letter topic ` +
          `${policy.deadLetterTopic} after ${attempts} attempts: ${describeError(lastError)}`,
        { cause: lastError },
      ),
    );
  }
}

/** The dead-letter copy of a message, with the properties the Java client adds. */
function deadLetterMessage(msg: Message) {
  return {
    payload: msg.payload,
    ...(msg.key !== undefined ? { key: msg.key } : {}),
    properties: {
      ...msg.properties,
      REAL_TOPIC: msg.topic,
      ORIGIN_MESSAGE_ID: msg.id.toHuman(),
    },
    ...(msg.eventTime > 0 ? { eventTime: msg.eventTime } : {}),
  };
}

function keyOf(id: MessageId): string {
  return `${id.ledgerId}:${id.entryId}:${id.batchIndex}`;
}
