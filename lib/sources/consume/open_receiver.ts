/**
 * Where `consume` reads from: a subscription on topics (one consumer per partition, merged, so
 * that `-e` can ask each whether more is there), a subscription on a topic pattern, or a
 * non-durable reader of one topic, all seen the same way. And where reading starts.
 *
 * @module
 */
import { UsageError } from "../../errors.ts";
import {
  type AckTarget,
  type Message,
  type MessageConsumer,
  type MessageDecryptor,
  MessageId,
  type PulsarClient,
  type SubscriptionType,
  type Transaction,
} from "../../pulsar/mod.ts";
import type { Receiver } from "../end_of_topic.ts";
import { MergedReceiver } from "../merged_receiver.ts";

/** A subscription or a reader, seen the same way. */
export interface ConsumeReceiver extends Receiver {
  /** Absent on a reader, which cannot acknowledge. */
  ack?(target: AckTarget): void;
  /** True when nothing of the subscription is left unacknowledged (subscriptions on topics). */
  allAcknowledged?(): Promise<boolean>;
  /** Acknowledges inside a transaction (absent on a reader). */
  ackInTransaction?(target: Message, txn: Transaction): Promise<void>;
  /** Sends acknowledgements still grouped for the wire. */
  flushAcks?(): Promise<void>;
  /** Closes the subscription or reader. */
  close(): Promise<void>;
  /** The topics (partitions) read, when known up front (not for a pattern). */
  readonly topics?: string[];
  /** Of `topics`, those whose messages come here (a Failover subscription's active ones). */
  readonly activeTopics?: string[];
}

/** Where reading starts. */
export type StartPosition =
  | { kind: "earliest" | "latest" }
  | { kind: "id"; id: MessageId }
  | { kind: "time"; ms: number };

/**
 * Parses `-o`: `earliest` (or `beginning`), `latest` (or `end`), a message id from an envelope,
 * or `s@<epoch ms>`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseStartPosition } from "./open_receiver.ts";
 * assert.deepEqual(parseStartPosition("beginning"), { kind: "earliest" });
 * assert.deepEqual(parseStartPosition("s@1732400000000"), { kind: "time", ms: 1732400000000 });
 * assert.throws(() => parseStartPosition("yesterday"), /-o: expected earliest/);
 * ```
 */
export function parseStartPosition(text: string): StartPosition {
  if (text === "earliest" || text === "beginning") return { kind: "earliest" };
  if (text === "latest" || text === "end") return { kind: "latest" };
  const time = /^s@(\d+)$/.exec(text);
  if (time) return { kind: "time", ms: Number(time[1]) };
  try {
    return { kind: "id", id: MessageId.parse(text) };
  } catch (cause) {
    throw new UsageError(
      `-o: expected earliest, latest, a message id or s@<epoch ms>, got '${text}'`,
      { cause },
    );
  }
}

/** What to open. */
export interface ReceiverOptions {
  /** Topics to read (empty with `pattern`). */
  topics: string[];
  /** Every topic of a namespace matching this (needs a subscription). */
  pattern?: string;
  /** Without one, a non-durable reader of `topics[0]`. */
  subscription?: string;
  /** Subscription type (default Exclusive). */
  type?: SubscriptionType;
  /** Where reading starts (default earliest). */
  start?: StartPosition;
  /** Decrypts end-to-end encrypted messages (`--decrypt-key`). */
  decryptor?: MessageDecryptor;
}

/** Subscribes (or opens a reader) and moves to the start position. */
export async function openReceiver(
  client: PulsarClient,
  o: ReceiverOptions,
): Promise<ConsumeReceiver> {
  const start = o.start ?? { kind: "earliest" };
  if (o.subscription === undefined) {
    const reader = await client.createReader({
      topic: o.topics[0],
      startAt: start.kind === "latest"
        ? "latest"
        : start.kind === "time"
        ? { publishTime: start.ms }
        : "earliest",
      ...(o.decryptor ? { decryptor: o.decryptor } : {}),
    });
    if (start.kind === "id") await reader.seek(start.id);
    return {
      topics: [o.topics[0]],
      receive: (timeoutMs) => reader.readNext(timeoutMs),
      hasMessageAvailable: () => reader.hasMessageAvailable(),
      close: () => reader.close(),
    };
  }
  const options = {
    subscription: o.subscription,
    subscriptionType: o.type ?? "Exclusive",
    initialPosition: start.kind === "latest" ? "latest" : "earliest",
    ...(o.decryptor ? { decryptor: o.decryptor } : {}),
  } as const;
  if (o.pattern === undefined) {
    // One consumer per partition, merged here: -e can then ask each one whether more is there.
    const merged = await MergedReceiver.subscribe(client, o.topics, options);
    if (start.kind === "id") await merged.seek(start.id);
    if (start.kind === "time") await merged.seek(start.ms);
    return merged;
  }
  const consumer: MessageConsumer = await client.subscribe({
    topicsPattern: o.pattern,
    ...options,
  });
  if (start.kind === "id") await consumer.seek(start.id);
  if (start.kind === "time") await consumer.seek(start.ms);
  const receiver: ConsumeReceiver = {
    receive: (timeoutMs) => consumer.receive(timeoutMs),
    ack: (target) => consumer.ack(target),
    ackInTransaction: (target, txn) => consumer.ackInTransaction(target, txn),
    flushAcks: () => consumer.flushAcks(),
    close: () => consumer.close(),
  };
  const probe = consumer as unknown as Receiver;
  if (typeof probe.hasMessageAvailable === "function") {
    receiver.hasMessageAvailable = () => probe.hasMessageAvailable!();
  } else if (typeof probe.getLastMessageIds === "function") {
    receiver.getLastMessageIds = () => probe.getLastMessageIds!();
  }
  return receiver;
}
