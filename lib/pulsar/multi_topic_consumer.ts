/**
 * One subscription over many topics: the partitions of a partitioned topic, a list of topics, or
 * every topic of a namespace matching a regex (refreshed periodically). Each topic has its own
 * consumer; their messages meet in one queue, and acks find their way back by topic, partition
 * or ledger.
 *
 * @module
 */
import type { Transaction } from "./transaction.ts";
import { AsyncQueue } from "./async_queue.ts";
import type { Consumer } from "./consumer.ts";
import type { AckTarget, MessageConsumer } from "./consumer_options.ts";
import { ConsumerClosedError, InvalidArgumentError } from "./errors.ts";
import { Message } from "./message.ts";
import { MessageId } from "./message_id.ts";
import { receiveUntilClosed } from "./receive_until_closed.ts";
import { LedgerOwners } from "./ledger_owners.ts";

/** Ledgers remembered per per-topic consumer, and at least this many in all. */
const LEDGERS_PER_TOPIC = 8;
const MIN_LEDGERS = 1024;

/**
 * A consumer made of per-topic consumers.
 *
 * @example
 * ```ts
 * import { PulsarClient } from "./client.ts";
 * // Needs a running broker: type-checked here, not run.
 * async function example() {
 *   const client = new PulsarClient({ serviceUrl: "pulsar://127.0.0.1:6650" });
 *   const consumer = await client.subscribe({
 *     topicsPattern: "persistent://public/default/sensor-.*",
 *     subscription: "edge",
 *   });
 *   const msg = await consumer.receive();
 *   consumer.ack(msg);
 * }
 * void example;
 * ```
 */
export class MultiTopicConsumer implements MessageConsumer {
  readonly #children = new Map<string, Consumer>();
  readonly #byLedger = new LedgerOwners<Consumer>(() =>
    Math.max(MIN_LEDGERS, LEDGERS_PER_TOPIC * this.#children.size)
  );
  readonly #queue = new AsyncQueue<{ msg: Message; from: Consumer }>();
  readonly #limit: number;
  /** Pumps waiting for room in the merged queue; all of them wake when room appears. */
  readonly #waitingForRoom: (() => void)[] = [];
  #closed?: ConsumerClosedError;
  #refreshTimer?: ReturnType<typeof setInterval>;

  /** Merges `children` (more can be added) under one subscription. */
  constructor(
    /** The subscription's name. */
    readonly subscription: string,
    children: Consumer[],
    /** Messages held in the merged queue before the per-topic consumers wait. */
    queueSize = 1000,
  ) {
    this.#limit = Math.max(1, queueSize);
    for (const child of children) this.addConsumer(child);
  }

  /** The topics (partitions) consumed. */
  get topics(): string[] {
    return [...this.#children.keys()];
  }

  /** The topics (partitions) whose consumer is active (Failover: this one gets their messages). */
  get activeTopics(): string[] {
    return [...this.#children.values()].filter((c) => c.isActive).map((c) => c.topic);
  }

  /** Ledgers whose owner is remembered for acks by id (bounded). */
  get trackedLedgers(): number {
    return this.#byLedger.size;
  }

  /** Messages waiting in the merged queue. */
  get queued(): number {
    return this.#queue.size;
  }

  /** Adds a per-topic consumer (pattern subscriptions add topics as they appear). */
  addConsumer(child: Consumer): void {
    this.#children.set(child.topic, child);
    child.trackLedgers(this.#byLedger);
    this.#pump(child);
  }

  /** Re-runs `refresh` every `intervalMs` (pattern subscriptions). */
  refreshEvery(intervalMs: number, refresh: () => Promise<void>): void {
    this.#refreshTimer = setInterval(() => {
      if (!this.#closed) refresh().catch(() => {});
    }, intervalMs);
  }

  async #pump(child: Consumer): Promise<void> {
    for (;;) {
      while (this.#queue.size >= this.#limit && !this.#closed) {
        await new Promise<void>((resolve) => this.#waitingForRoom.push(resolve));
      }
      if (this.#closed) return;
      try {
        const msg = await child.receive();
        // Messages a child fetched before it was added here never passed through its tracking.
        this.#byLedger.set(msg.id.ledgerId, child);
        this.#queue.push({ msg, from: child });
      } catch (error) {
        if (error instanceof ConsumerClosedError || this.#closed) return;
        this.#queue.close(error as Error);
        return;
      }
    }
  }

  async receive(timeoutMs?: number): Promise<Message> {
    const { msg } = await this.#queue.shift(timeoutMs);
    this.#wakePumps();
    return msg;
  }

  /** Messages until the consumer is closed. */
  [Symbol.asyncIterator](): AsyncIterator<Message> {
    return receiveUntilClosed(this);
  }

  /** The per-topic consumer an acknowledgement belongs to. */
  #owner(target: AckTarget): Consumer {
    if (this.#closed) throw this.#closed;
    if (target instanceof Message) {
      const child = this.#children.get(target.topic);
      if (child) return child;
    }
    const id = target instanceof Message
      ? target.id
      : typeof target === "string"
      ? MessageId.parse(target)
      : target;
    const byLedger = this.#byLedger.get(id.ledgerId);
    if (byLedger) return byLedger;
    if (id.partition >= 0) {
      for (const child of this.#children.values()) {
        if (child.partition === id.partition) return child;
      }
    }
    if (this.#children.size === 1) return [...this.#children.values()][0];
    throw new InvalidArgumentError(`message id ${id.toHuman()} belongs to none of the topics`);
  }

  ack(target: AckTarget): void {
    this.#owner(target).ack(target);
  }

  ackCumulative(target: AckTarget): void {
    this.#owner(target).ackCumulative(target);
  }

  ackInTransaction(target: AckTarget, txn: Transaction): Promise<void> {
    return this.#owner(target).ackInTransaction(target, txn);
  }

  redeliverUnacknowledged(): void {
    this.#queue.drain();
    for (const child of this.#children.values()) child.redeliverUnacknowledged();
  }

  nack(target: AckTarget): void {
    this.#owner(target).nack(target);
  }

  async flushAcks(): Promise<void> {
    await Promise.all([...this.#children.values()].map((c) => c.flushAcks()));
  }

  async seek(position: MessageId | string | number): Promise<void> {
    const children = [...this.#children.values()];
    if (typeof position === "number") {
      await Promise.all(children.map((c) => c.seek(position)));
    } else {
      await this.#owner(position).seek(position);
    }
    this.#queue.drain();
    this.#wakePumps();
  }

  async getLastMessageId(): Promise<MessageId> {
    const ids = await Promise.all([...this.#children.values()].map((c) => c.getLastMessageId()));
    return ids.sort(MessageId.compare).at(-1) ?? MessageId.earliest;
  }

  /**
   * True when a message is queued here or any topic has one after the last this consumer's user
   * received (what the merged queue holds was received from the topics but not by the user).
   */
  async hasMessageAvailable(): Promise<boolean> {
    if (this.#queue.size > 0) return true;
    for (const child of this.#children.values()) {
      if (await child.hasMessageAvailable()) return true;
    }
    return this.#queue.size > 0;
  }

  /**
   * True when every partition's acknowledgements reach its last message (the broker's
   * mark-delete position is at or past it): nothing is left unacknowledged, by this consumer or
   * by anyone (a transaction still holding acks counts as not yet acknowledged).
   */
  async allAcknowledged(): Promise<boolean> {
    for (const child of this.#children.values()) {
      const { last, markDelete } = await child.lastMessageIdAndMarkDelete();
      if (last.entryId < 0n) continue; // empty
      if (!markDelete || MessageId.compare(markDelete.entry(), last.entry()) < 0) return false;
    }
    return true;
  }

  /** Last message id of every topic, by topic name. */
  async getLastMessageIds(): Promise<Map<string, MessageId>> {
    const entries = await Promise.all(
      [...this.#children.values()].map(async (c) => [c.topic, await c.getLastMessageId()] as const),
    );
    return new Map(entries);
  }

  async unsubscribe(): Promise<void> {
    await Promise.all([...this.#children.values()].map((c) => c.unsubscribe()));
    this.#shutdown();
  }

  /** Closes every per-topic consumer. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#shutdown();
    await Promise.all([...this.#children.values()].map((c) => c.close()));
  }

  #shutdown(): void {
    this.#closed = new ConsumerClosedError(`consumer of ${this.topics.join(", ")} is closed`);
    clearInterval(this.#refreshTimer);
    this.#queue.close(this.#closed);
    this.#wakePumps();
  }

  #wakePumps(): void {
    for (const wake of this.#waitingForRoom.splice(0)) wake();
  }
}
