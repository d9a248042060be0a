/**
 * One subscription over several topics (and every partition of each), read as one stream. Each
 * partition has its own consumer, so `consume -e` can ask every one of them whether more is
 * available, and acknowledgements go straight to the consumer that received the message.
 *
 * @module
 */
import type {
  ConsumerOptions,
  Message,
  MessageConsumer,
  MessageId,
  PulsarClient,
} from "../pulsar/mod.ts";
import { ConsumerClosedError, TimeoutError } from "../pulsar/mod.ts";
import { UsageError } from "../errors.ts";

/** A per-partition consumer as the client returns it for a single (partition) topic. */
type PartitionConsumer = MessageConsumer & { hasMessageAvailable?(): Promise<boolean> };

/**
 * Merges per-partition consumers into one receiver. Each partition is pumped into a bounded queue;
 * every pump waiting for room is woken when room appears.
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
  readonly #children: PartitionConsumer[];
  readonly #byTopic = new Map<string, PartitionConsumer>();
  readonly #queue: { msg: Message }[] = [];
  readonly #limit: number;
  #head = 0;
  #roomWaiters: (() => void)[] = [];
  #messageWaiter: (() => void) | undefined;
  #failure: Error | undefined;
  #closed = false;

  private constructor(children: PartitionConsumer[], limit: number) {
    this.#children = children;
    this.#limit = limit;
    for (const child of children) {
      this.#byTopic.set((child as unknown as { topic: string }).topic, child);
      this.#pump(child);
    }
  }

  /** Subscribes to every partition of every topic under one subscription. */
  static async subscribe(
    client: PulsarClient,
    topics: string[],
    options: Omit<ConsumerOptions, "topic" | "topics" | "topicsPattern">,
  ): Promise<MergedReceiver> {
    const partitions = (await Promise.all(topics.map((t) => client.getPartitions(t)))).flat();
    const children: PartitionConsumer[] = [];
    try {
      for (const topic of partitions) children.push(await client.subscribe({ ...options, topic }));
    } catch (error) {
      await Promise.allSettled(children.map((c) => c.close()));
      throw error;
    }
    return new MergedReceiver(children, options.receiverQueueSize ?? 1000);
  }

  /** Messages waiting in the merged queue. */
  get queued(): number {
    return this.#queue.length - this.#head;
  }

  /** The next message from any partition; throws TimeoutError after `timeoutMs`. */
  async receive(timeoutMs?: number): Promise<Message> {
    const deadline = timeoutMs === undefined ? Infinity : Date.now() + timeoutMs;
    while (this.queued === 0) {
      if (this.#failure) throw this.#failure;
      if (this.#closed) throw new ConsumerClosedError("the consumer is closed");
      const left = deadline - Date.now();
      if (left <= 0) throw new TimeoutError(`nothing arrived within ${timeoutMs} ms`);
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve) => {
        this.#messageWaiter = resolve;
        if (left !== Infinity) timer = setTimeout(resolve, left);
      });
      clearTimeout(timer);
    }
    const { msg } = this.#queue[this.#head++];
    if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      this.#queue.splice(0, this.#head);
      this.#head = 0;
    }
    const waiters = this.#roomWaiters;
    this.#roomWaiters = [];
    for (const wake of waiters) wake();
    return msg;
  }

  /** True when a message is queued or any partition has one after its last received. */
  async hasMessageAvailable(): Promise<boolean> {
    if (this.queued > 0) return true;
    for (const child of this.#children) {
      if (typeof child.hasMessageAvailable !== "function") return true;
      if (await child.hasMessageAvailable()) return true;
    }
    return this.queued > 0;
  }

  /** Acknowledges a message at the partition it came from (an id alone needs a single topic). */
  ack(target: Message | string): void {
    const owner = typeof target === "string"
      ? (this.#children.length === 1 ? this.#children[0] : undefined)
      : this.#byTopic.get(target.topic);
    if (!owner) {
      const id = typeof target === "string" ? target : target.id.toString();
      throw new UsageError(`message ${id} belongs to none of the consumed partitions`);
    }
    owner.ack(target);
  }

  /** Moves every partition to a publish time, or the partition of a message id to that id. */
  async seek(position: MessageId | number): Promise<void> {
    if (typeof position === "number") {
      await Promise.all(this.#children.map((c) => c.seek(position)));
      return;
    }
    if (this.#children.length !== 1) {
      throw new UsageError("-o <message id> needs a single topic; use -o s@<epoch ms> for several");
    }
    await this.#children[0].seek(position);
  }

  async flushAcks(): Promise<void> {
    await Promise.all(this.#children.map((c) => c.flushAcks()));
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const wake of this.#roomWaiters) wake();
    this.#messageWaiter?.();
    await Promise.allSettled(this.#children.map((c) => c.close()));
  }

  async #pump(child: PartitionConsumer): Promise<void> {
    while (!this.#closed) {
      while (this.queued >= this.#limit && !this.#closed) {
        await new Promise<void>((resolve) => this.#roomWaiters.push(resolve));
      }
      if (this.#closed) return;
      try {
        this.#queue.push({ msg: await child.receive() });
      } catch (error) {
        if (this.#closed || error instanceof ConsumerClosedError) return;
        this.#failure = error as Error;
      }
      const wake = this.#messageWaiter;
      this.#messageWaiter = undefined;
      wake?.();
      if (this.#failure) return;
    }
  }
}
