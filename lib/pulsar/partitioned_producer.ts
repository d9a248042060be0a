/**
 * A producer for a partitioned topic: one producer per partition, messages routed by key with the
 * Java client's hash (JavaStringHash + signSafeMod by default, Murmur3_32 on request), keyless
 * messages spread round-robin in runs so that batches still fill.
 *
 * @module
 */
import { type HashingScheme, partitionFor, signSafeMod } from "./routing.ts";
import type { MessageId } from "./message_id.ts";
import type { Producer, ProducerMessage, SendOptions } from "./producer.ts";

export type { HashingScheme };

/** The send side every producer offers, partitioned or not. */
export interface MessageProducer {
  /** The topic sent to. */
  readonly topic: string;
  /**
   * Sends one message; resolves with its id once the broker stored it. With `options.txn` it
   * joins that transaction.
   */
  send(message: ProducerMessage, options?: SendOptions): Promise<MessageId>;
  /** Resolves when the producer is connected. */
  ready(): Promise<void>;
  /** Sends what is batched and waits for the receipts. */
  flush(): Promise<void>;
  /** Flushes and closes. */
  close(): Promise<void>;
}

/**
 * Routes messages over the producers of each partition.
 *
 * @example
 * ```ts
 * import { PulsarClient } from "./client.ts";
 * // Needs a running broker: type-checked here, not run.
 * async function example() {
 *   const client = new PulsarClient({ serviceUrl: "pulsar://127.0.0.1:6650" });
 *   const producer = await client.createProducer({ topic: "partitioned-orders" });
 *   await producer.send({ payload: "x", key: "user-1" }); // the partition Java would pick
 * }
 * void example;
 * ```
 */
export class PartitionedProducer implements MessageProducer {
  readonly #partitions: Producer[];
  readonly #hashing: HashingScheme;
  readonly #switchMs: number;
  #roundRobinStart = Math.floor(Math.random() * 1_000_000);

  /** Sends to `partitions`, picking one per key as the Java client does. */
  constructor(
    /** The partitioned topic's name (without partition suffix). */
    readonly topic: string,
    partitions: Producer[],
    hashing: HashingScheme = "JavaStringHash",
    /** Keyless messages stay on one partition for this long, like the Java client's batching router. */
    switchMs = 1,
  ) {
    this.#partitions = partitions;
    this.#hashing = hashing;
    this.#switchMs = Math.max(1, switchMs);
  }

  /** Number of partitions. */
  get partitionCount(): number {
    return this.#partitions.length;
  }

  /** Partition index a message with `key` goes to. */
  partitionOf(key: string | undefined): number {
    const n = this.#partitions.length;
    if (key !== undefined && key !== "") return partitionFor(key, n, this.#hashing);
    return signSafeMod(this.#roundRobinStart + Math.floor(Date.now() / this.#switchMs), n);
  }

  /** Sends to the key's partition (round robin without a key). */
  send(message: ProducerMessage, options?: SendOptions): Promise<MessageId> {
    return this.#partitions[this.partitionOf(message.key)].send(message, options);
  }

  /** Resolves when every partition's producer is connected. */
  async ready(): Promise<void> {
    await Promise.all(this.#partitions.map((p) => p.ready()));
  }

  /** Flushes every partition. */
  async flush(): Promise<void> {
    await Promise.all(this.#partitions.map((p) => p.flush()));
  }

  /** Closes every partition's producer. */
  async close(): Promise<void> {
    await Promise.all(this.#partitions.map((p) => p.close()));
  }
}
