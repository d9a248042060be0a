/**
 * A reader: a non-durable subscription that starts at the earliest or latest message, after a
 * given message id, or at a publish time, and can tell whether more messages exist right now
 * (`hasMessageAvailable`, for bounded reads like kcat's `-e`).
 *
 * @module
 */
import type { Consumer } from "./consumer.ts";
import type { MessageDecryptor } from "./crypto/message_crypto.ts";
import type { MultiTopicConsumer } from "./multi_topic_consumer.ts";
import { ConsumerClosedError } from "./errors.ts";
import type { Message } from "./message.ts";
import { MessageId } from "./message_id.ts";

/** Where a reader starts. */
export type ReaderStartPosition =
  | "earliest"
  | "latest"
  | { afterMessageId: MessageId | string }
  | { publishTime: number };

/** Options of `client.createReader`. */
export interface ReaderOptions {
  /** The topic to read. */
  topic: string;
  /** Where reading starts. */
  startAt: ReaderStartPosition;
  /** Messages prefetched per partition. Default 1000. */
  receiverQueueSize?: number;
  /** A name for the reader in the broker's stats. */
  readerName?: string;
  /** Reads the compacted view of the topic (latest message per key). */
  readCompacted?: boolean;
  /** Decrypts end-to-end encrypted messages (see `ConsumerOptions.decryptor`). */
  decryptor?: MessageDecryptor;
}

/**
 * Reads a topic from a chosen position without leaving a subscription behind.
 *
 * @example
 * ```ts
 * import { PulsarClient } from "./client.ts";
 * // Needs a running broker: type-checked here, not run.
 * async function example() {
 *   const client = new PulsarClient({ serviceUrl: "pulsar://127.0.0.1:6650" });
 *   const reader = await client.createReader({ topic: "orders", startAt: "earliest" });
 *   while (await reader.hasMessageAvailable()) console.log((await reader.readNext()).text());
 *   await reader.close();
 * }
 * void example;
 * ```
 */
export class Reader implements AsyncIterable<Message> {
  readonly #partitions: Consumer[];
  readonly #merged: Consumer | MultiTopicConsumer;
  /** Last message read per partition. */
  readonly #lastRead = new Map<string, MessageId>();

  /** A reader over the partitions of `topic` (create it with `client.createReader`). */
  constructor(
    readonly topic: string,
    partitions: Consumer[],
    merged: Consumer | MultiTopicConsumer,
  ) {
    this.#partitions = partitions;
    this.#merged = merged;
  }

  /** The next message; waits up to `timeoutMs` (forever when undefined). */
  async readNext(timeoutMs?: number): Promise<Message> {
    const msg = await this.#merged.receive(timeoutMs);
    this.#lastRead.set(msg.topic, msg.id);
    return msg;
  }

  /** Reads messages one by one until the reader closes. */
  async *[Symbol.asyncIterator](): AsyncIterator<Message> {
    for (;;) {
      try {
        yield await this.readNext();
      } catch (error) {
        if (error instanceof ConsumerClosedError) return;
        throw error;
      }
    }
  }

  /** True when a message after the last one read exists on the broker (or is prefetched). */
  async hasMessageAvailable(): Promise<boolean> {
    // Partitions hand their messages on to the merged queue as soon as they arrive.
    if (this.#merged.queued > 0) return true;
    // Compare with what the user read, not with what each partition handed to the merged queue.
    const answers = await Promise.all(
      this.#partitions.map((c) => c.hasMessageAvailable(this.#lastRead.get(c.topic))),
    );
    return answers.some(Boolean);
  }

  /** Moves the reader to a message id (inclusive) or a publish time. */
  async seek(position: MessageId | string | number): Promise<void> {
    await this.#merged.seek(position);
    this.#lastRead.clear();
  }

  /** Id of the last message in the topic (the newest over partitions). */
  async getLastMessageId(): Promise<MessageId> {
    const ids = await Promise.all(this.#partitions.map((c) => c.getLastMessageId()));
    return ids.sort(MessageId.compare).at(-1) ?? MessageId.earliest;
  }

  /** Closes the reader. */
  close(): Promise<void> {
    return this.#merged.close();
  }
}
