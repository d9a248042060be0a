/**
 * Options and the common interface of consumers (single-topic, partitioned, multi-topic).
 *
 * @module
 */
import type { MessageDecryptor } from "./crypto/message_crypto.ts";
import type { Transaction } from "./transaction.ts";
import type { Message } from "./message.ts";
import type { MessageId } from "./message_id.ts";

/** How messages of a subscription are shared among its consumers. */
export type SubscriptionType = "Exclusive" | "Shared" | "Failover" | "Key_Shared";

/** Where a new subscription starts. */
export type InitialPosition = "latest" | "earliest";

/** Dead-letter policy: after `maxRedeliverCount` redeliveries a message moves to a DLQ topic. */
export interface DeadLetterPolicy {
  /** Redeliveries a message may have; the next nack or ack timeout moves it to the DLQ topic. */
  maxRedeliverCount: number;
  /** Default: `<topic>-<subscription>-DLQ`, as the Java client names it. */
  deadLetterTopic?: string;
  /**
   * Attempts to move one message there (creating the producer and sending), with the client's
   * backoff between them; then the consumer gives up and `receive` throws a `DeadLetterError`.
   * Default 10.
   */
  maxSendAttempts?: number;
}

/** Options of `client.subscribe`. Give exactly one of `topic`, `topics`, `topicsPattern`. */
export interface ConsumerOptions {
  /** One topic (all its partitions when partitioned). */
  topic?: string;
  /** Several topics under one subscription. */
  topics?: string[];
  /** A regex over complete topic names of one namespace, e.g. `persistent://public/default/in-.*`. */
  topicsPattern?: string;
  /** The subscription's name. */
  subscription: string;
  /** Default "Exclusive". */
  subscriptionType?: SubscriptionType;
  /** Where a new subscription starts. Default "latest". */
  initialPosition?: InitialPosition;
  /** A name shown in topic stats. */
  consumerName?: string;
  /** Messages prefetched per topic partition. Default 1000. */
  receiverQueueSize?: number;
  /** Redeliver messages not acknowledged within this time (0 = never). Default 0. */
  ackTimeoutMs?: number;
  /** Delay before a negatively acknowledged message is redelivered. Default 60 000 ms. */
  nackRedeliveryDelayMs?: number;
  /** Move messages redelivered too often to a dead-letter topic. */
  deadLetter?: DeadLetterPolicy;
  /** Acknowledge single messages of a batch on the broker (needs broker support). Default false. */
  batchIndexAck?: boolean;
  /** Read the compacted view of the topic (the latest message per key). */
  readCompacted?: boolean;
  /** Shared subscriptions: lower levels get messages first. */
  priorityLevel?: number;
  /**
   * Chunked messages (from producers with chunking on) being reassembled at most; past it the
   * oldest is handed on with a `decodeError` of kind "chunk". Default 100.
   */
  maxPendingChunkedMessages?: number;
  /** An incomplete chunked message older than this is handed on likewise. Default 60 000 ms. */
  expireIncompleteChunkedMessageMs?: number;
  /** How often a pattern subscription looks for new topics. Default 60 000 ms. */
  patternRefreshMs?: number;
  /**
   * Decrypts end-to-end encrypted messages (the Java client's format). Without it, or when no
   * key opens a message, the message arrives with a `decodeError` of kind "encrypted".
   */
  decryptor?: MessageDecryptor;
}

/** Internal options of readers (non-durable subscriptions at a chosen position). */
export interface ReaderStart {
  durable: false;
  /** Resume after this id (exclusive). */
  startMessageId?: MessageId;
  /** Start at the first message published at or after this time (ms since the epoch). */
  startPublishTime?: number;
}

/** What you can target an acknowledgement at. */
export type AckTarget = Message | MessageId | string;

/** The API shared by every kind of consumer. */
export interface MessageConsumer extends AsyncIterable<Message> {
  /** The subscription's name. */
  readonly subscription: string;
  /** Next message; waits up to `timeoutMs` (forever when undefined), then throws TimeoutError. */
  receive(timeoutMs?: number): Promise<Message>;
  /** Acknowledges one message. */
  ack(target: AckTarget): void;
  /** Acknowledges every message up to and including this one (not for Shared / Key_Shared). */
  ackCumulative(target: AckTarget): void;
  /**
   * Acknowledges one message inside a transaction: effective when it commits, undone (the
   * message comes again after `redeliverUnacknowledged`) when it aborts.
   */
  ackInTransaction(target: AckTarget, txn: Transaction): Promise<void>;
  /** Delivers every unacknowledged message again (after an aborted transaction). */
  redeliverUnacknowledged(): void;
  /** Asks for redelivery after the configured delay. */
  nack(target: AckTarget): void;
  /** Sends acknowledgements still buffered. */
  flushAcks(): Promise<void>;
  /** Moves the subscription to a message id (inclusive) or a publish time (ms). */
  seek(position: MessageId | string | number): Promise<void>;
  /** Id of the last message in the topic(s). */
  getLastMessageId(): Promise<MessageId>;
  /** Leaves the subscription on the broker and closes. */
  unsubscribe(): Promise<void>;
  /** Closes the consumer (its subscription stays on the broker). */
  close(): Promise<void>;
}
