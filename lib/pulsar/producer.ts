/**
 * A producer for one topic (or one partition): sequence ids that resume where the broker left
 * off, send receipts as promises, a pending-message limit that makes `send` wait, batching with
 * per-message metadata, compression, and reconnection that resends what is pending, in order.
 *
 * @module
 */
import {
  type Command,
  type CompressionType,
  encodePayloadCommand,
  type Frame,
  type MessageMetadata,
  packBatch,
  type Schema,
  type SingleMessageMetadata,
} from "./wire/mod.ts";
import { setImmediate } from "node:timers";
import { compress } from "./compression.ts";
import type { MessageEncryptor } from "./crypto/message_crypto.ts";
import { connectWithRetry, ReconnectLoop } from "./connect_with_retry.ts";
import type { Connection, ConnectionListener } from "./connection.ts";
import {
  BrokerError,
  ConnectionError,
  InvalidArgumentError,
  MessageTooLargeError,
  ProducerClosedError,
  TimeoutError,
} from "./errors.ts";
import { MessageId } from "./message_id.ts";
import { sendFrames } from "./chunking.ts";
import type { ClientContext } from "./client_context.ts";
import { type BatchingType, entryKey, splitByKey, splitByKeyRuns } from "./key_batches.ts";

export type { BatchingType };
import type { Transaction, TxnId } from "./transaction.ts";

/** Payload compression codecs. */
export type Compression = CompressionType;

/** Options of a producer. */
export interface ProducerOptions {
  /** The topic (or partitioned topic) to send to. */
  topic: string;
  /** A stable name lets the broker deduplicate resends across restarts. Default: broker-chosen. */
  producerName?: string;
  /** Sequence id of the first message; default: one past the broker's last for this name. */
  initialSequenceId?: number;
  /** Messages sent but not yet acknowledged before `send` waits. Default 10 000. */
  maxPendingMessages?: number;
  /** Fail messages not acknowledged within this time (0 = never). Default 30 000 ms. */
  sendTimeoutMs?: number;
  /** Group messages into batch entries. Default true. */
  batching?: boolean;
  /**
   * `default` (default, as in the Java client): messages sent together share an entry whatever
   * their keys; `key`: an entry holds a run of consecutive messages of one key (ordering key,
   * else partition key), so Key_Shared consumers keep key ownership and the topic keeps send
   * order; `key-grouped`: like the Java client's KEY_BASED batcher, an entry holds every message
   * of one key in the open batch (order kept per key only). See `key_batches.ts`.
   */
  batchingType?: BatchingType;
  /** Most messages per batch. Default 1000. */
  batchingMaxMessages?: number;
  /** Most payload bytes per batch. Default 128 KiB. */
  batchingMaxBytes?: number;
  /** Longest a message waits for its batch to fill. Default 1 ms. */
  batchingMaxDelayMs?: number;
  /** Payload compression. Default "NONE". */
  compression?: Compression;
  /**
   * End-to-end encryption for the public keys it holds (the Java client's format): each entry's
   * payload is encrypted after compression (a batch as a whole).
   */
  encryption?: MessageEncryptor;
  /** Producer properties shown in topic stats. */
  properties?: Record<string, string>;
  /**
   * "Shared" (default) lets many producers write; "Exclusive" fails when another producer holds
   * the topic; "WaitForExclusive" waits for it; "ExclusiveWithFencing" takes it over.
   */
  accessMode?: "Shared" | "Exclusive" | "WaitForExclusive" | "ExclusiveWithFencing";
  /**
   * Send a payload larger than the broker's maximum message size as chunks (`chunking.ts`),
   * which consumers reassemble. Needs batching off (chunking turns it off unless it was asked
   * for). Default false.
   */
  chunking?: boolean;
  /** With `chunking`: most payload bytes per chunk. Default: the broker's maximum. */
  chunkMaxMessageSize?: number;
  /**
   * Told when the producer loses its broker (`connected: false`, with the reason) and when it is
   * attached again after such a loss (`connected: true`); not for the first attach. Sends wait
   * meanwhile (see `sendTimeoutMs`).
   */
  onConnectionChange?: (change: ConnectionChange) => void;
  /**
   * The schema the payloads are written with: the broker registers it (or checks it against the
   * topic's) when the producer is created, refusing an incompatible one with an
   * `IncompatibleSchema` {@linkcode BrokerError}; each message then carries its version.
   */
  schema?: Schema;
}

/** A producer's connection lost or regained (see `ProducerOptions.onConnectionChange`). */
export interface ConnectionChange {
  /** The topic (or partition) of the producer. */
  topic: string;
  /** False when the connection was lost, true when the producer is attached again. */
  connected: boolean;
  /** Why the connection was lost, when known. */
  error?: Error;
}

/** A message to send. */
export interface ProducerMessage {
  /** The bytes (strings are sent as UTF-8). */
  payload: Uint8Array | string;
  /** Partition / routing key. */
  key?: string;
  /** Key_Shared ordering key, when it differs from `key`. */
  orderingKey?: Uint8Array | string;
  /** Properties attached to the message. */
  properties?: Record<string, string>;
  /** Event time, ms since the epoch. */
  eventTime?: number;
  /** `key` is the base64 text of binary key bytes (a SEPARATED KEY_VALUE schema's key). */
  keyIsBase64?: boolean;
}

/** Options of one send. */
export interface SendOptions {
  /**
   * Send inside this transaction: the message is stored at once but readers see it only when
   * the transaction commits, and never when it aborts.
   */
  txn?: Transaction;
}

interface QueuedMessage {
  txn?: TxnId;
  single: SingleMessageMetadata;
  payload: Uint8Array;
  sequenceId: number;
  resolve(id: MessageId): void;
  reject(error: Error): void;
}

/** One SEND on the wire: a single message or a batch, kept until its receipt for resends. */
interface InFlight {
  sequenceId: number;
  highestSequenceId: number;
  frame: Uint8Array;
  messages: QueuedMessage[];
  batched: boolean;
  sentAt: number;
}

const utf8 = new TextEncoder();

/** Batches sent without waiting for the batch delay while fewer than this many are unacknowledged. */
const EAGER_IN_FLIGHT = 4;

/**
 * Sends messages to one topic. Create it with `client.createProducer`.
 *
 * @example
 * ```ts
 * import { PulsarClient } from "./client.ts";
 * // Needs a running broker: type-checked here, not run.
 * async function example() {
 *   const client = new PulsarClient({ serviceUrl: "pulsar://127.0.0.1:6650" });
 *   const producer = await client.createProducer({ topic: "orders", compression: "LZ4" });
 *   const id = await producer.send({ payload: "hello", key: "user-1" });
 *   console.log(id.toString());
 *   await producer.close();
 * }
 * void example;
 * ```
 */
export class Producer {
  /** The topic (or partition) this producer writes to. */
  readonly topic: string;
  readonly #ctx: ClientContext;
  readonly #options:
    & Required<
      Omit<
        ProducerOptions,
        | "producerName"
        | "initialSequenceId"
        | "properties"
        | "accessMode"
        | "onConnectionChange"
        | "chunking"
        | "chunkMaxMessageSize"
        | "schema"
        | "encryption"
      >
    >
    & ProducerOptions;
  readonly #producerId: number;
  readonly #partition: number;
  #name: string | undefined;
  #schemaVersion: Uint8Array | undefined;
  #epoch = 0;
  #conn?: Connection;
  #ready = false;
  #closed?: Error;
  #nextSequenceId = 0;
  #lastSequenceIdPublished = -1;
  #inFlight: InFlight[] = [];
  #inFlightMessages = 0;
  #batch: QueuedMessage[] = [];
  #batchBytes = 0;
  #batchTimer?: ReturnType<typeof setTimeout>;
  #flushQueued = false;
  #waiters: (() => void)[] = [];
  #timeoutTimer?: ReturnType<typeof setTimeout>;
  readonly #reconnects = new ReconnectLoop(
    () => this.#connectWithRetry(false),
    () => this.#closed !== undefined,
  );
  #closedWhileConnecting = false;
  /** Lost after being attached, and not attached again yet. */
  #disconnected = false;
  #reconnectAbort = new AbortController();
  /** Why the connection was last lost, for the status stream. */
  #lost?: Error;
  readonly #listener: ConnectionListener;

  private constructor(ctx: ClientContext, options: ProducerOptions, partition: number) {
    this.#ctx = ctx;
    this.topic = options.topic;
    this.#partition = partition;
    this.#options = {
      maxPendingMessages: 10_000,
      sendTimeoutMs: 30_000,
      batching: true,
      batchingType: "default",
      batchingMaxMessages: 1000,
      batchingMaxBytes: 128 * 1024,
      batchingMaxDelayMs: 1,
      compression: "NONE",
      ...options,
    };
    if (this.#options.maxPendingMessages < 1) {
      throw new InvalidArgumentError("maxPendingMessages must be at least 1");
    }
    if (options.chunking) {
      if (options.batching) throw new InvalidArgumentError("chunking needs batching off");
      this.#options.batching = false;
    }
    this.#name = options.producerName;
    this.#producerId = ctx.newProducerId();
    this.#listener = {
      onFrame: (frame) => this.#onFrame(frame),
      onConnectionClosed: (error) => this.#onDisconnected(error),
    };
  }

  /** Creates the producer on the broker (used by the client). */
  static async create(
    ctx: ClientContext,
    options: ProducerOptions,
    partition = -1,
  ): Promise<Producer> {
    const producer = new Producer(ctx, options, partition);
    await producer.#connectWithRetry(true);
    return producer;
  }

  /** The producer name (chosen by the broker when not given). */
  get name(): string {
    return this.#name ?? "";
  }

  /** Sequence id of the last message the broker acknowledged. */
  get lastSequenceId(): number {
    return this.#lastSequenceIdPublished;
  }

  /** True while connected to the broker. */
  get isConnected(): boolean {
    return this.#ready;
  }

  /** Messages sent or batched but not yet acknowledged. */
  get pendingMessages(): number {
    return this.#inFlightMessages + this.#batch.length;
  }

  /**
   * Sends one message. Resolves with its id once the broker has stored it. Calls keep their
   * order even when not awaited one by one; when `maxPendingMessages` are unacknowledged the
   * message waits for room first. With `options.txn` the message joins that transaction (its
   * partition is registered with the coordinator first, once per transaction).
   */
  send(message: ProducerMessage, options: SendOptions = {}): Promise<MessageId> {
    const txn = options.txn;
    if (txn === undefined) return this.#enqueue(message);
    try {
      txn.checkOpen();
    } catch (error) {
      return Promise.reject(error);
    }
    if (txn.hasPartition(this.topic)) return txn.track(this.#enqueue(message, txn.id));
    return txn.track(txn.registerPartition(this.topic).then(() => this.#enqueue(message, txn.id)));
  }

  #enqueue(message: ProducerMessage, txn?: TxnId): Promise<MessageId> {
    if (this.#closed) return Promise.reject(this.#closedError());
    const payload = typeof message.payload === "string"
      ? utf8.encode(message.payload)
      : message.payload;
    return new Promise<MessageId>((resolve, reject) => {
      const queued: QueuedMessage = {
        ...(txn ? { txn } : {}),
        single: singleMetadata(message, payload.length),
        payload,
        sequenceId: -1,
        resolve,
        reject,
      };
      if (this.#waiters.length === 0 && this.#hasRoom()) this.#accept(queued);
      else this.#waiters.push(() => this.#accept(queued));
    });
  }

  /** Resolves when a `send` would not have to wait for room. */
  ready(): Promise<void> {
    if (this.#closed) return Promise.reject(this.#closedError());
    if (this.#waiters.length === 0 && this.#hasRoom()) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Sends the open batch now and waits until every message sent so far is acknowledged. */
  async flush(): Promise<void> {
    while (this.#waiters.length > 0 || this.#batch.length > 0 || this.#inFlight.length > 0) {
      this.#sendBatch();
      const last = this.#inFlight.at(-1)?.messages.at(-1);
      if (!last) break;
      await new Promise<void>((resolve) => {
        const { resolve: ok, reject: fail } = last;
        last.resolve = (id) => (ok(id), resolve());
        last.reject = (err) => (fail(err), resolve());
      });
      if (this.#closed) break;
    }
  }

  /** Flushes, then closes the producer on the broker. Later sends fail. */
  async close(): Promise<void> {
    if (this.#closed) return;
    await this.flush().catch(() => {});
    this.#closed = new ProducerClosedError(`producer on ${this.topic} is closed`);
    this.#reconnectAbort.abort();
    clearTimeout(this.#batchTimer);
    clearInterval(this.#timeoutTimer);
    const conn = this.#conn;
    this.#ready = false;
    if (conn?.isOpen) {
      await conn.request({ type: "CLOSE_PRODUCER", producerId: this.#producerId } as Command)
        .catch(() => {});
      conn.unregisterProducer(this.#producerId);
    }
    this.#failAll(this.#closed);
  }

  #closedError(): Error {
    return this.#closed ?? new ProducerClosedError(`producer on ${this.topic} is closed`);
  }

  #hasRoom(): boolean {
    return this.pendingMessages < this.#options.maxPendingMessages;
  }

  #admitWaiters(): void {
    while (this.#waiters.length > 0 && this.#hasRoom() && !this.#closed) this.#waiters.shift()!();
  }

  #accept(message: QueuedMessage): void {
    if (this.#closed) return message.reject(this.#closedError());
    message.sequenceId = this.#nextSequenceId++;
    message.single.sequenceId = message.sequenceId;
    const maxSize = this.#conn?.maxMessageSize ?? 5 * 1024 * 1024;
    if (message.payload.length > maxSize && !this.#options.chunking) {
      return message.reject(
        new MessageTooLargeError(
          `message of ${message.payload.length} bytes exceeds the broker's limit of ${maxSize}`,
        ),
      );
    }
    // A batch entry belongs to one transaction (or none).
    const open = this.#batch[0];
    if (open !== undefined && !sameTxn(open.txn, message.txn)) this.#sendBatch();
    if (!this.#options.batching) {
      this.#batch.push(message);
      this.#batchBytes += message.payload.length;
      this.#sendBatch();
      return;
    }
    if (this.#batchBytes + message.payload.length > this.#options.batchingMaxBytes) {
      this.#sendBatch();
    }
    this.#batch.push(message);
    this.#batchBytes += message.payload.length;
    if (this.#batch.length >= this.#options.batchingMaxMessages) this.#sendBatch();
    else if (this.#inFlight.length < EAGER_IN_FLIGHT && this.#ready) {
      // Few batches on the wire: waiting would only add latency. Everything sent before the event
      // loop turns (a whole stdin chunk, a loop over ready()) still shares this batch; under load
      // batches form behind the ones in flight and leave when a receipt or the timer comes.
      if (!this.#flushQueued) {
        this.#flushQueued = true;
        setImmediate(() => {
          this.#flushQueued = false;
          this.#sendBatch();
        });
      }
    } else if (this.#batchTimer === undefined) {
      this.#batchTimer = setTimeout(() => {
        this.#batchTimer = undefined;
        this.#sendBatch();
      }, this.#options.batchingMaxDelayMs);
    }
  }

  /** Encodes the open batch (or single message) as one SEND and writes it when connected. */
  #sendBatch(): void {
    if (this.#batchTimer !== undefined) {
      clearTimeout(this.#batchTimer);
      this.#batchTimer = undefined;
    }
    const open = this.#batch;
    if (open.length === 0) return;
    this.#batch = [];
    this.#batchBytes = 0;
    const type = this.#options.batching ? this.#options.batchingType : "default";
    const entries = type === "key"
      ? splitByKeyRuns(open)
      : type === "key-grouped"
      ? splitByKey(open)
      : [open];
    for (const messages of entries) this.#sendEntry(messages);
    this.#armSendTimeout();
  }

  /** Encodes `messages` as one SEND (a batch entry, a single message or its chunks). */
  #sendEntry(messages: QueuedMessage[]): void {
    const first = messages[0], last = messages[messages.length - 1];
    let frames: Uint8Array[];
    try {
      frames = this.#encode(messages);
    } catch (error) {
      // A codec or encoding failure fails these messages only; the producer goes on.
      for (const m of messages) m.reject(error as Error);
      this.#admitWaiters();
      return;
    }
    const batched = this.#options.batching;
    // Chunks of one message each get their receipt; the message is done with the last one's.
    frames.forEach((frame, i) => {
      const op: InFlight = {
        sequenceId: first.sequenceId,
        highestSequenceId: last.sequenceId,
        frame,
        messages: i === frames.length - 1 ? messages : [],
        batched,
        sentAt: Date.now(),
      };
      this.#inFlight.push(op);
      this.#inFlightMessages += op.messages.length;
      if (this.#ready) this.#conn!.write(frame);
    });
  }

  /** The SEND frame for `messages` (a batch entry, or a single message, or its chunks). */
  #encode(messages: QueuedMessage[]): Uint8Array[] {
    const first = messages[0], last = messages[messages.length - 1];
    const batched = this.#options.batching;
    let body: Uint8Array;
    const metadata: MessageMetadata = {
      producerName: this.#name ?? "",
      sequenceId: first.sequenceId,
      publishTime: Date.now(),
    };
    if (this.#schemaVersion) metadata.schemaVersion = this.#schemaVersion;
    if (batched) {
      body = packBatch(messages.map((m) => ({ metadata: m.single, payload: m.payload })));
      metadata.numMessagesInBatch = messages.length;
      // One key per entry: the entry carries it, as the broker's Key_Shared dispatch reads it.
      if (this.#options.batchingType !== "default") Object.assign(metadata, entryKey(first.single));
      if (messages.length > 1) metadata.highestSequenceId = last.sequenceId;
    } else {
      body = first.payload;
      const single = first.single;
      if (single.partitionKey !== undefined) metadata.partitionKey = single.partitionKey;
      if (single.partitionKeyB64Encoded) metadata.partitionKeyB64Encoded = true;
      if (single.orderingKey !== undefined) metadata.orderingKey = single.orderingKey;
      if (single.properties !== undefined) metadata.properties = single.properties;
      if (single.eventTime !== undefined) metadata.eventTime = single.eventTime;
    }
    if (this.#options.compression !== "NONE") {
      metadata.compression = this.#options.compression;
      metadata.uncompressedSize = body.length;
      body = compress(this.#options.compression, body);
    }
    if (this.#options.encryption) body = this.#options.encryption.seal(metadata, body);
    const send: Record<string, unknown> = {
      type: "SEND",
      producerId: this.#producerId,
      sequenceId: first.sequenceId,
      numMessages: messages.length,
    };
    if (batched && messages.length > 1) send.highestSequenceId = last.sequenceId;
    if (first.txn) {
      send.txnidLeastBits = metadata.txnidLeastBits = first.txn.leastBits;
      send.txnidMostBits = metadata.txnidMostBits = first.txn.mostBits;
    }
    if (this.#options.chunking) {
      const maxSize = this.#conn?.maxMessageSize ?? 5 * 1024 * 1024;
      const chunkSize = this.#options.chunkMaxMessageSize;
      return sendFrames(send as unknown as Command, metadata, body, maxSize, chunkSize);
    }
    return [encodePayloadCommand(send as unknown as Command, metadata, body)];
  }

  #armSendTimeout(): void {
    const timeout = this.#options.sendTimeoutMs;
    if (timeout <= 0 || this.#timeoutTimer !== undefined) return;
    this.#timeoutTimer = setInterval(() => {
      const oldest = this.#inFlight[0];
      if (!oldest) {
        clearInterval(this.#timeoutTimer);
        this.#timeoutTimer = undefined;
        return;
      }
      if (Date.now() - oldest.sentAt > timeout) {
        this.#failAll(
          new TimeoutError(`messages to ${this.topic} were not acknowledged within ${timeout} ms`),
        );
      }
    }, Math.max(10, Math.min(1000, timeout / 4)));
  }

  #failAll(error: Error): void {
    clearTimeout(this.#batchTimer);
    this.#batchTimer = undefined;
    const ops = this.#inFlight;
    const batch = this.#batch;
    this.#inFlight = [];
    this.#inFlightMessages = 0;
    this.#batch = [];
    this.#batchBytes = 0;
    for (const op of ops) for (const m of op.messages) m.reject(error);
    for (const m of batch) m.reject(error);
    if (this.#closed) {
      const waiters = this.#waiters;
      this.#waiters = [];
      for (const waiter of waiters) waiter(); // each accept() rejects with the close error
    } else this.#admitWaiters();
  }

  #onFrame(frame: Frame): void {
    const command = frame.command as unknown as Record<string, unknown>;
    switch (command.type) {
      case "SEND_RECEIPT":
        return this.#onReceipt(command);
      case "SEND_ERROR":
        // Like other clients: a send error is transient; reconnect and resend in order.
        this.#conn?.close(
          `broker rejected a send on ${this.topic}: ${command.error} ${command.message ?? ""}`,
        );
        return;
      case "CLOSE_PRODUCER":
      case "TOPIC_MIGRATED":
        if (!this.#ready) {
          // Closed before our PRODUCER_SUCCESS was handled: that registration is void.
          this.#closedWhileConnecting = true;
          return;
        }
        this.#conn?.unregisterProducer(this.#producerId);
        this.#onDisconnected(undefined);
        return;
    }
  }

  #onReceipt(receipt: Record<string, unknown>): void {
    const sequenceId = Number(receipt.sequenceId);
    const op = this.#inFlight[0];
    if (!op || sequenceId < op.sequenceId) return; // a duplicate receipt after a resend
    if (sequenceId > op.sequenceId) {
      // The broker skipped ahead of what we sent first: resend everything from a clean slate.
      this.#conn?.close(`receipt for ${sequenceId} arrived while ${op.sequenceId} was expected`);
      return;
    }
    this.#inFlight.shift();
    this.#inFlightMessages -= op.messages.length;
    this.#lastSequenceIdPublished = op.highestSequenceId;
    const data = receipt.messageId as { ledgerId: number | bigint; entryId: number | bigint };
    const ledgerId = BigInt(data?.ledgerId ?? -1), entryId = BigInt(data?.entryId ?? -1);
    const size = op.messages.length;
    op.messages.forEach((m, i) =>
      m.resolve(
        new MessageId(
          ledgerId,
          entryId,
          this.#partition,
          op.batched ? i : -1,
          op.batched ? size : 0,
        ),
      )
    );
    this.#admitWaiters();
    // Room on the wire again: the open batch need not wait for its timer.
    if (this.#inFlight.length < EAGER_IN_FLIGHT && this.#batch.length > 0) this.#sendBatch();
  }

  #onDisconnected(error: ConnectionError | undefined): void {
    const wasReady = this.#ready;
    this.#ready = false;
    this.#conn = undefined;
    // Not established yet: whoever is connecting sees the failure and tries again.
    if (this.#closed || !wasReady) return;
    this.#disconnected = true;
    this.#lost = error ?? new ConnectionError(`the broker closed the producer of ${this.topic}`);
    this.#notify({ topic: this.topic, connected: false, ...(error ? { error } : {}) });
    this.#reconnects.start();
  }

  #notify(change: ConnectionChange): void {
    try {
      this.#options.onConnectionChange?.(change);
    } catch { /* an observer's failure is not the producer's */ }
  }

  /** Connects (first time or again); on the first attempt errors that cannot heal are thrown. */
  async #connectWithRetry(first: boolean): Promise<void> {
    const gaveUp = await connectWithRetry(() => this.#connectOnce(first), {
      first,
      backoff: this.#ctx.backoff,
      timeoutMs: this.#ctx.operationTimeoutMs,
      closed: () => this.#closed !== undefined,
      signal: this.#reconnectAbort.signal,
      topic: this.topic,
      ...(this.#ctx.reportStatus ? { status: (s) => this.#ctx.reportStatus!(s) } : {}),
      ...(!first && this.#lost ? { lost: this.#lost } : {}),
    });
    if (gaveUp !== undefined) {
      this.#closed = gaveUp as Error;
      this.#failAll(gaveUp as Error);
    }
  }

  async #connectOnce(first: boolean): Promise<void> {
    const conn = await this.#ctx.lookup.connectionFor(this.topic);
    this.#closedWhileConnecting = false;
    conn.registerProducer(this.#producerId, this.#listener);
    let answer: Record<string, unknown>;
    try {
      const frame = await conn.request({
        type: "PRODUCER",
        topic: this.topic,
        producerId: this.#producerId,
        ...(this.#name !== undefined ? { producerName: this.#name } : {}),
        epoch: this.#epoch++,
        userProvidedProducerName: this.#options.producerName !== undefined,
        ...(this.#options.properties ? { metadata: this.#options.properties } : {}),
        ...(this.#options.accessMode ? { producerAccessMode: this.#options.accessMode } : {}),
        ...(this.#options.schema ? { schema: this.#options.schema } : {}),
      } as Command);
      answer = frame.command as unknown as Record<string, unknown>;
    } catch (error) {
      conn.unregisterProducer(this.#producerId);
      throw error;
    }
    if (this.#closed) {
      conn.unregisterProducer(this.#producerId);
      return;
    }
    this.#name = String(answer.producerName ?? this.#name);
    const version = answer.schemaVersion as Uint8Array | undefined;
    if (version?.length) this.#schemaVersion = version;
    const brokerLast = Number(answer.lastSequenceId ?? -1);
    if (first) {
      this.#nextSequenceId = this.#options.initialSequenceId ?? brokerLast + 1;
      this.#lastSequenceIdPublished = this.#nextSequenceId - 1;
    }
    if (this.#closedWhileConnecting) {
      conn.unregisterProducer(this.#producerId);
      throw new BrokerError(
        "ServiceNotReady",
        `${this.topic} closed the producer as it was created`,
      );
    }
    this.#conn = conn;
    this.#ready = true;
    // Resend what the broker has not acknowledged, in the original order.
    for (const op of this.#inFlight) {
      op.sentAt = Date.now();
      conn.write(op.frame);
    }
    if (this.#disconnected) {
      this.#disconnected = false;
      this.#notify({ topic: this.topic, connected: true });
    }
  }
}

function singleMetadata(message: ProducerMessage, payloadSize: number): SingleMessageMetadata {
  const single: SingleMessageMetadata = { payloadSize };
  if (message.key !== undefined) single.partitionKey = message.key;
  if (message.keyIsBase64 && message.key !== undefined) single.partitionKeyB64Encoded = true;
  if (message.orderingKey !== undefined) {
    single.orderingKey = typeof message.orderingKey === "string"
      ? utf8.encode(message.orderingKey)
      : message.orderingKey;
  }
  if (message.properties !== undefined && Object.keys(message.properties).length > 0) {
    single.properties = message.properties;
  }
  if (message.eventTime !== undefined && message.eventTime > 0) {
    single.eventTime = message.eventTime;
  }
  return single;
}

function sameTxn(a: TxnId | undefined, b: TxnId | undefined): boolean {
  return a === b || (a !== undefined && b !== undefined && a.mostBits === b.mostBits &&
    a.leastBits === b.leastBits);
}
