/**
 * `consume`'s view of one subscription over several topics (and every partition of each): the
 * client's {@linkcode MultiTopicConsumer} (one consumer per partition, merged into one bounded
 * queue, acks routed back), with the command line's rules for positions.
 *
 * @module
 */
import type {
  ConsumerOptions,
  Message,
  MessageId,
  PulsarClient,
  Transaction,
} from "../pulsar/mod.ts";
import { MultiTopicConsumer } from "../pulsar/mod.ts";
import { UsageError } from "../errors.ts";

/**
 * Reads several topics under one subscription as one stream.
 *
 * @example
 * ```ts ignore
 * const merged = await MergedReceiver.subscribe(client, ["a", "b"], { subscription: "s" });
 * const msg = await merged.receive();
 * merged.ack(msg);
 * await merged.close();
 * ```
 */
export class MergedReceiver {
  readonly #consumer: MultiTopicConsumer;

  private constructor(consumer: MultiTopicConsumer) {
    this.#consumer = consumer;
  }

  /** Subscribes to every partition of every topic under one subscription. */
  static async subscribe(
    client: PulsarClient,
    topics: string[],
    options: Omit<ConsumerOptions, "topic" | "topics" | "topicsPattern">,
  ): Promise<MergedReceiver> {
    // A list of topics always gives the multi-topic consumer, even for one unpartitioned topic.
    const consumer = await client.subscribe({ ...options, topics });
    if (!(consumer instanceof MultiTopicConsumer)) {
      await consumer.close();
      throw new TypeError("expected a multi-topic consumer for a list of topics");
    }
    return new MergedReceiver(consumer);
  }

  /** The topics (partitions) read, as the broker names them (`…-partition-N`). */
  get topics(): string[] {
    return this.#consumer.topics;
  }

  /** The topics (partitions) this subscriber is active on (Failover: the ones it gets). */
  get activeTopics(): string[] {
    return this.#consumer.activeTopics;
  }

  /** Messages waiting in the merged queue. */
  get queued(): number {
    return this.#consumer.queued;
  }

  /** The next message from any partition; throws TimeoutError after `timeoutMs`. */
  receive(timeoutMs?: number): Promise<Message> {
    return this.#consumer.receive(timeoutMs);
  }

  /** True when a message is queued or any partition has one after its last received. */
  hasMessageAvailable(): Promise<boolean> {
    return this.#consumer.hasMessageAvailable();
  }

  /** Acknowledges a message at the partition it came from (an id is routed by its ledger). */
  ack(target: Message | string): void {
    this.#consumer.ack(target);
  }

  /** True when the subscription holds nothing unacknowledged on any partition. */
  allAcknowledged(): Promise<boolean> {
    return this.#consumer.allAcknowledged();
  }

  /** Acknowledges a message inside a transaction (effective when it commits). */
  ackInTransaction(target: Message, txn: Transaction): Promise<void> {
    return this.#consumer.ackInTransaction(target, txn);
  }

  /** Moves every partition to a publish time, or the one partition to a message id. */
  async seek(position: MessageId | number): Promise<void> {
    if (typeof position !== "number" && this.#consumer.topics.length !== 1) {
      throw new UsageError("-o <message id> needs a single topic; use -o s@<epoch ms> for several");
    }
    await this.#consumer.seek(position);
  }

  flushAcks(): Promise<void> {
    return this.#consumer.flushAcks();
  }

  close(): Promise<void> {
    return this.#consumer.close();
  }
}
