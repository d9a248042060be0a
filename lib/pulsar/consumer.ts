/**
 * A consumer of one topic or one partition: the subscription's lifecycle (subscribe, the
 * receiver queue refilled with FLOW, seek, resubscription after a dropped connection, close).
 * The rest lives in units of its own behind narrow seams: message intake (`consumer_intake.ts`:
 * decoding, batches, chunks), acknowledgements (`consumer_acks.ts`) and redelivery
 * (`consumer_redelivery.ts`: nacks, ack timeout, dead-letter topic).
 *
 * @module
 */
import type { Command, Frame } from "./wire/mod.ts";
import { AckTracker } from "./consumer_acks.ts";
import { MessageIntake } from "./consumer_intake.ts";
import {
  inclusiveStart,
  messageAfter,
  type ReaderPosition,
  readerSkips,
  type SingleConsumerOptions,
  subscribeCommand,
} from "./consumer_subscription.ts";
import { Redelivery } from "./consumer_redelivery.ts";
import { AsyncQueue } from "./async_queue.ts";
import { sleep } from "./backoff.ts";
import { connectWithRetry, ReconnectLoop } from "./connect_with_retry.ts";
import type { ClientContext } from "./client_context.ts";
import type { Connection, ConnectionListener } from "./connection.ts";
import type { AckTarget, MessageConsumer, SubscriptionType } from "./consumer_options.ts";
import {
  BrokerError,
  ConnectionError,
  ConsumerClosedError,
  InvalidArgumentError,
} from "./errors.ts";
import { Message } from "./message.ts";
import { fromWire, MessageId, type MessageIdWire, toWire } from "./message_id.ts";
import { parseTopic } from "./topic_name.ts";
import { receiveUntilClosed } from "./receive_until_closed.ts";
import type { LedgerOwners } from "./ledger_owners.ts";
import type { Transaction } from "./transaction.ts";
import { transactionError } from "./transaction_errors.ts";
import { TxnAckBatcher } from "./txn_acks.ts";

export type { SingleConsumerOptions };

/**
 * Receives messages from one topic or partition. Create it with `client.subscribe`.
 *
 * @example
 * ```ts
 * import { PulsarClient } from "./client.ts";
 * // Needs a running broker: type-checked here, not run.
 * async function example() {
 *   const client = new PulsarClient({ serviceUrl: "pulsar://127.0.0.1:6650" });
 *   const consumer = await client.subscribe({ topic: "orders", subscription: "audit" });
 *   for await (const msg of consumer) {
 *     console.log(msg.text());
 *     consumer.ack(msg);
 *   }
 * }
 * void example;
 * ```
 */
export class Consumer implements MessageConsumer {
  /** The topic (or partition) consumed. */
  readonly topic: string;
  /** The subscription's name. */
  readonly subscription: string;
  /** How the subscription shares messages among its consumers. */
  readonly subscriptionType: SubscriptionType;
  /** Partition index of `topic`, -1 when it is not a partition. */
  readonly partition: number;
  readonly #ctx: ClientContext;
  readonly #options: SingleConsumerOptions;
  readonly #consumerId: number;
  readonly #queueSize: number;
  readonly #queue = new AsyncQueue<Message>();
  readonly #listener: ConnectionListener;
  readonly #acks: AckTracker;
  /** Acks inside transactions, grouped: one ACK request per transaction every few ms. */
  readonly #txnAcks = new TxnAckBatcher({ send: (txn, ids) => this.#sendTxnAck(txn, ids) });
  readonly #redelivery: Redelivery;
  readonly #intake: MessageIntake;
  /** Messages queued that took no permit of their own (chunked messages that failed late). */
  readonly #noPermit = new WeakSet<Message>();
  readonly #abort = new AbortController();
  #conn?: Connection;
  #ready = false;
  #closed?: Error;
  #permits = 0;
  #epoch = 0;
  readonly #reconnects = new ReconnectLoop(
    () => this.#connectWithRetry(false),
    () => this.#closed !== undefined,
  );
  #closedWhileConnecting = false;
  /** Why the connection was last lost, for the status stream. */
  #lost?: Error;
  /** Where a reader stands (and the last message handed out, for every consumer). */
  readonly #position: ReaderPosition = {};
  #active = true;
  /** Counts subscribes, so a seek can tell whether the broker already resubscribed us. */
  #generation = 0;
  /** Settles when a seek in progress has its answer. */
  #seeking?: Promise<void>;
  #endOfTopic = false;
  #ledgerOwners?: LedgerOwners<Consumer>;

  private constructor(ctx: ClientContext, options: SingleConsumerOptions) {
    this.#ctx = ctx;
    this.#options = options;
    this.topic = parseTopic(options.topic).full;
    this.partition = parseTopic(options.topic).partition;
    this.subscription = options.subscription;
    this.subscriptionType = options.subscriptionType ?? "Exclusive";
    this.#queueSize = Math.max(1, options.receiverQueueSize ?? 1000);
    this.#consumerId = ctx.newConsumerId();
    if (options.startMessageId) this.#position.startMessageId = options.startMessageId;
    if (options.startPublishTime !== undefined) {
      this.#position.startPublishTime = options.startPublishTime;
    }
    this.#listener = {
      onFrame: (frame) => this.#onFrame(frame),
      onConnectionClosed: (error) => this.#onDisconnected(error),
    };
    if (!options.subscription) throw new InvalidArgumentError("a subscription name is required");
    if (options.deadLetter && options.deadLetter.maxRedeliverCount < 1) {
      throw new InvalidArgumentError("deadLetter.maxRedeliverCount must be at least 1");
    }
    this.#acks = new AckTracker({
      batchIndexAck: options.batchIndexAck ?? false,
      connected: () => this.#ready,
      send: (ackType, messageId) =>
        this.#conn!.send(
          { type: "ACK", consumerId: this.#consumerId, ackType, messageId } as Command,
        ),
    });
    const base = this.partition >= 0 ? this.topic.replace(/-partition-\d+$/, "") : this.topic;
    const deadLetter = options.deadLetter && {
      ...options.deadLetter,
      deadLetterTopic: options.deadLetter.deadLetterTopic ?? `${base}-${this.subscription}-DLQ`,
    };
    this.#intake = new MessageIntake(
      {
        topic: this.topic,
        partition: this.partition,
        durable: options.durable !== false,
        push: (msg, noPermit) => {
          if (noPermit) this.#noPermit.add(msg);
          this.#queue.push(msg);
        },
        grantPermits: (count) => this.#grantPermits(count),
        skip: (id, publishTime) => this.#skip(id, publishTime),
      },
      this.#acks,
      options,
    );
    this.#redelivery = new Redelivery({
      ackTimeoutMs: options.ackTimeoutMs ?? 0,
      nackDelayMs: options.nackRedeliveryDelayMs ?? 60_000,
      ...(deadLetter ? { deadLetter } : {}),
      backoff: ctx.backoff,
    }, {
      redeliver: (messages) => this.#redeliver(messages),
      ack: (msg) => this.ack(msg),
      fail: (error) => this.#queue.close(error),
      createProducer: (o) => ctx.createProducer(o),
      reportStatus: (s) => ctx.reportStatus?.(s),
    });
  }

  /** Subscribes on the broker (used by the client). */
  static async create(ctx: ClientContext, options: SingleConsumerOptions): Promise<Consumer> {
    const consumer = new Consumer(ctx, options);
    await consumer.#connectWithRetry(true);
    consumer.#redelivery.start();
    return consumer;
  }

  /** True while this consumer gets messages (Failover: the active one). */
  get isActive(): boolean {
    return this.#active;
  }

  /** True when the topic was terminated and everything was delivered. */
  get reachedEndOfTopic(): boolean {
    return this.#endOfTopic && this.#queue.size === 0;
  }

  /** Messages prefetched and waiting for `receive`. */
  get queued(): number {
    return this.#queue.size;
  }

  /** True while subscribed on a live connection. */
  get isConnected(): boolean {
    return this.#ready;
  }

  /** Id of the last message handed to the user. */
  get lastDequeued(): MessageId | undefined {
    return this.#position.lastDequeued;
  }

  /** Lets a multi-topic parent learn which ledgers belong to which child, to route acks. */
  trackLedgers(owners: LedgerOwners<Consumer>): void {
    this.#ledgerOwners = owners;
  }

  async receive(timeoutMs?: number): Promise<Message> {
    const msg = await this.#queue.shift(timeoutMs);
    this.#delivered(msg);
    return msg;
  }

  /** A message that is already prefetched, without waiting. */
  poll(): Message | undefined {
    const msg = this.#queue.poll();
    if (msg) this.#delivered(msg);
    return msg;
  }

  /** Messages until the consumer is closed. */
  [Symbol.asyncIterator](): AsyncIterator<Message> {
    return receiveUntilClosed(this);
  }

  #delivered(msg: Message): void {
    this.#position.lastDequeued = msg.id;
    this.#redelivery.delivered(msg);
    if (!this.#noPermit.has(msg)) this.#grantPermits(1);
  }

  #grantPermits(count: number): void {
    this.#permits += count;
    if (this.#ready && this.#permits >= Math.max(1, this.#queueSize >> 1)) {
      this.#conn!.send(
        { type: "FLOW", consumerId: this.#consumerId, messagePermits: this.#permits } as Command,
      );
      this.#permits = 0;
    }
  }

  ack(target: AckTarget): void {
    this.#checkOpen();
    const id = idOf(target);
    this.#redelivery.acked(id);
    this.#acks.ack(id);
  }

  /**
   * Acknowledges inside `txn`: effective when it commits; when it aborts the message is
   * delivered again. The subscription is registered with the coordinator first (once per
   * transaction); acks of one transaction within a few ms share one ACK request, which asks for
   * an answer, and a conflict (another transaction holds a message) fails the transaction's
   * commit.
   */
  ackInTransaction(target: AckTarget, txn: Transaction): Promise<void> {
    try {
      this.#checkOpen();
      txn.checkOpen();
    } catch (error) {
      return Promise.reject(error);
    }
    const id = idOf(target);
    const wires = this.#acks.take(id);
    this.#redelivery.acked(id);
    return txn.track((async () => {
      await txn.registerSubscription(this.topic, this.subscription);
      await this.#txnAcks.add(txn, wires);
    })());
  }

  /** One ACK request with many ids inside `txn`; the broker answers it once for all. */
  async #sendTxnAck(txn: Transaction, ids: MessageIdWire[]): Promise<void> {
    const conn = await this.#waitConnected();
    try {
      await conn.request({
        type: "ACK",
        consumerId: this.#consumerId,
        ackType: "Individual",
        messageId: ids,
        txnidLeastBits: txn.id.leastBits,
        txnidMostBits: txn.id.mostBits,
        requestId: 0,
      } as Command, this.#ctx.operationTimeoutMs);
    } catch (error) {
      throw transactionError(error, `ack in transaction ${txn.text}`);
    }
  }

  /**
   * Asks the broker to deliver every unacknowledged message again, from the start (after an
   * aborted transaction whose acks are undone). Prefetched messages are dropped.
   */
  redeliverUnacknowledged(): void {
    this.#checkOpen();
    this.#acks.reset();
    if (this.#ready) this.#redeliverAll();
  }

  ackCumulative(target: AckTarget): void {
    this.#checkOpen();
    if (this.subscriptionType === "Shared" || this.subscriptionType === "Key_Shared") {
      throw new InvalidArgumentError(
        `cumulative acks are not allowed on ${this.subscriptionType} subscriptions`,
      );
    }
    const id = idOf(target);
    this.#redelivery.ackedUpTo(id);
    this.#acks.ackCumulative(id);
  }

  nack(target: AckTarget): void {
    this.#checkOpen();
    const id = idOf(target);
    // By id alone: the ack timeout may still hold the message (its payload, redelivery count).
    const msg = target instanceof Message ? target : this.#redelivery.find(id);
    this.#redelivery.nack(msg ?? new Message(this.topic, id, new Uint8Array(), { publishTime: 0 }));
  }

  /** Asks the broker to send messages again (Exclusive / Failover: everything unacked). */
  #redeliver(messages: Message[]): void {
    if (messages.length === 0 || !this.#ready) return;
    if (this.subscriptionType === "Shared" || this.subscriptionType === "Key_Shared") {
      const entries = new Map<string, MessageIdWire>();
      for (const msg of messages) {
        for (const id of this.#acks.chunksOf(msg.id) ?? [msg.id]) {
          entries.set(entryKey(id), toWire(id, false));
        }
      }
      this.#conn!.send({
        type: "REDELIVER_UNACKNOWLEDGED_MESSAGES",
        consumerId: this.#consumerId,
        messageIds: [...entries.values()],
      } as Command);
    } else {
      this.#redeliverAll();
    }
  }

  /** Exclusive / Failover keep order: the broker resends everything unacked, from the start. */
  #redeliverAll(): void {
    this.#epoch++;
    const dropped = this.#queue.drain().length;
    this.#redelivery.clearUnacked();
    this.#conn!.send({
      type: "REDELIVER_UNACKNOWLEDGED_MESSAGES",
      consumerId: this.#consumerId,
      consumerEpoch: this.#epoch,
    } as Command);
    if (dropped > 0) this.#grantPermits(dropped);
  }

  flushAcks(): Promise<void> {
    this.#acks.flush();
    return Promise.resolve();
  }

  async seek(position: MessageId | string | number): Promise<void> {
    this.#checkOpen();
    const conn = await this.#waitConnected();
    const byTime = typeof position === "number";
    const id = byTime
      ? undefined
      : typeof position === "string"
      ? MessageId.parse(position)
      : position;
    const generation = this.#generation;
    const saved = { ...this.#position };
    if (this.#options.durable === false) {
      // A reader's subscription is rebuilt when the broker closes it after the seek: from here.
      this.#position.startPublishTime = byTime ? position : undefined;
      this.#position.startMessageId = byTime ? MessageId.earliest : inclusiveStart(id!);
      this.#position.lastDequeued = undefined;
    }
    // Acks still buffered must reach the broker before the reset, or they would undo it.
    this.#acks.flush();
    let seekDone!: () => void;
    this.#seeking = new Promise<void>((resolve) => (seekDone = resolve));
    try {
      await conn.request({
        type: "SEEK",
        consumerId: this.#consumerId,
        ...(byTime ? { messagePublishTime: position } : { messageId: toWire(id!, true) }),
      } as Command);
    } catch (error) {
      this.#position.startPublishTime = saved.startPublishTime;
      this.#position.startMessageId = saved.startMessageId;
      this.#position.lastDequeued = saved.lastDequeued;
      throw error;
    } finally {
      this.#seeking = undefined;
      seekDone();
    }
    this.#redelivery.clearUnacked();
    this.#position.lastDequeued = undefined;
    // The broker closes the consumer after a seek and we subscribe again, dropping what was
    // prefetched from the old position. If that already happened, the queue holds new messages.
    if (this.#generation === generation) {
      const dropped = this.#queue.drain().length;
      this.#acks.reset();
      this.#intake.clear();
      if (dropped > 0) this.#grantPermits(dropped);
    }
  }

  async getLastMessageId(): Promise<MessageId> {
    return (await this.lastMessageIdAndMarkDelete()).last;
  }

  /** The last message id of the topic and the subscription's mark-delete position. */
  async lastMessageIdAndMarkDelete(): Promise<{ last: MessageId; markDelete?: MessageId }> {
    this.#checkOpen();
    const conn = await this.#waitConnected();
    const frame = await conn.request(
      { type: "GET_LAST_MESSAGE_ID", consumerId: this.#consumerId } as Command,
    );
    const answer = frame.command as unknown as Record<string, unknown>;
    const last = fromWire(answer.lastMessageId as MessageIdWire, this.partition);
    const markDelete = answer.consumerMarkDeletePosition
      ? fromWire(answer.consumerMarkDeletePosition as MessageIdWire, this.partition)
      : undefined;
    return { last, ...(markDelete ? { markDelete } : {}) };
  }

  /**
   * True when a message after `after` exists: by default after the last one received (readers'
   * bounded reads). A parent that hands messages on passes the last one its user actually read.
   */
  async hasMessageAvailable(
    after: MessageId | undefined = this.#position.lastDequeued,
  ): Promise<boolean> {
    if (this.#queue.size > 0) return true;
    const ends = await this.lastMessageIdAndMarkDelete();
    return this.#queue.size > 0 || messageAfter(ends, after, this.#position);
  }

  async unsubscribe(): Promise<void> {
    this.#checkOpen();
    const conn = await this.#waitConnected();
    this.#acks.flush();
    await conn.request({ type: "UNSUBSCRIBE", consumerId: this.#consumerId } as Command);
    conn.unregisterConsumer(this.#consumerId);
    this.#shutdown();
  }

  /** Closes the consumer; unacknowledged messages are redelivered to others. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#acks.flush();
    const conn = this.#conn;
    this.#shutdown();
    if (conn?.isOpen) {
      await conn.request({ type: "CLOSE_CONSUMER", consumerId: this.#consumerId } as Command)
        .catch(() => {});
      conn.unregisterConsumer(this.#consumerId);
    }
    await this.#redelivery.close();
  }

  #shutdown(): void {
    this.#closed = new ConsumerClosedError(`consumer of ${this.topic} is closed`);
    this.#ready = false;
    this.#abort.abort();
    this.#acks.stop();
    this.#intake.stop();
    void this.#redelivery.close();
    this.#queue.close(this.#closed);
  }

  #checkOpen(): void {
    if (this.#closed) throw this.#closed;
  }

  async #waitConnected(): Promise<Connection> {
    while (!this.#ready || !this.#conn) {
      this.#checkOpen();
      if (this.#reconnects.running) await this.#reconnects.running;
      else await sleep(50, this.#abort.signal);
    }
    return this.#conn;
  }

  #onFrame(frame: Frame): void {
    const command = frame.command as unknown as Record<string, unknown>;
    switch (command.type) {
      case "MESSAGE":
        return this.#onMessage(command, frame);
      case "ACTIVE_CONSUMER_CHANGE":
        this.#active = command.isActive === true;
        return;
      case "REACHED_END_OF_TOPIC":
        this.#endOfTopic = true;
        return;
      case "CLOSE_CONSUMER":
        if (!this.#ready) {
          // Closed before our SUBSCRIBE success was handled: that subscription is void.
          this.#closedWhileConnecting = true;
          return;
        }
        this.#conn?.unregisterConsumer(this.#consumerId);
        this.#onDisconnected();
        return;
    }
  }

  #onMessage(command: Record<string, unknown>, frame: Frame): void {
    if (command.consumerEpoch !== undefined && Number(command.consumerEpoch) < this.#epoch) {
      this.#grantPermits(1); // sent before a redeliver-all; the broker sends it again
      return;
    }
    const entryId = fromWire(command.messageId as MessageIdWire, this.partition);
    this.#ledgerOwners?.set(entryId.ledgerId, this);
    this.#intake.onEntry(entryId, command, frame);
  }

  /** Readers skip what lies before their start, and what they already delivered before a reconnect. */
  #skip(id: MessageId, publishTime: number): boolean {
    return this.#options.durable === false && readerSkips(this.#position, id, publishTime);
  }

  #onDisconnected(error?: Error): void {
    const wasReady = this.#ready;
    this.#ready = false;
    this.#conn = undefined;
    // Not established yet: whoever is connecting sees the failure and tries again.
    if (this.#closed || !wasReady) return;
    this.#lost = error ?? new ConnectionError(`the broker closed the consumer of ${this.topic}`);
    // The broker closes us while it resets the cursor; subscribing again before the reset is
    // done can leave the new consumer reading from the old position.
    this.#reconnects.start(this.#seeking);
  }

  async #connectWithRetry(first: boolean): Promise<void> {
    const gaveUp = await connectWithRetry(() => this.#subscribeOnce(), {
      first,
      backoff: this.#ctx.backoff,
      timeoutMs: this.#ctx.operationTimeoutMs,
      closed: () => this.#closed !== undefined,
      signal: this.#abort.signal,
      topic: this.topic,
      ...(this.#ctx.reportStatus ? { status: (s) => this.#ctx.reportStatus!(s) } : {}),
      ...(!first && this.#lost ? { lost: this.#lost } : {}),
    });
    if (gaveUp !== undefined) {
      this.#shutdown();
      this.#queue.close(gaveUp as Error);
    }
  }

  async #subscribeOnce(): Promise<void> {
    const conn = await this.#ctx.lookup.connectionFor(this.topic);
    this.#closedWhileConnecting = false;
    // Prefetched messages are dropped: the broker redelivers what is unacknowledged (durable), or
    // a reader resumes after the last message it handed out.
    this.#queue.drain();
    // Batch ack state stays: messages of a partly acked entry may still be acked before the
    // broker redelivers it, and must not acknowledge the whole entry.
    this.#permits = 0;
    conn.registerConsumer(this.#consumerId, this.#listener);
    try {
      await conn.request(
        subscribeCommand(
          { ...this.#options, topic: this.topic },
          { consumerId: this.#consumerId, epoch: this.#epoch },
          this.#position,
        ),
      );
    } catch (error) {
      conn.unregisterConsumer(this.#consumerId);
      throw error;
    }
    if (this.#closed) {
      conn.unregisterConsumer(this.#consumerId);
      return;
    }
    if (this.#closedWhileConnecting) {
      conn.unregisterConsumer(this.#consumerId);
      throw new BrokerError(
        "ServiceNotReady",
        `${this.topic} closed the consumer as it subscribed`,
      );
    }
    this.#generation++;
    this.#conn = conn;
    this.#ready = true;
    this.#grantPermits(this.#queueSize);
    this.#acks.flush();
  }
}

function idOf(target: AckTarget): MessageId {
  if (target instanceof Message) return target.id;
  if (typeof target === "string") return MessageId.parse(target);
  return target;
}

function entryKey(id: MessageId): string {
  return `${id.ledgerId}:${id.entryId}`;
}
