/**
 * A broker in memory for consumer unit tests: it answers SUBSCRIBE and friends, records every
 * command the consumer sends, and pushes MESSAGE frames the test builds.
 *
 * @module
 */
import { type Command, type Frame, type MessageMetadata, packBatch } from "./wire/mod.ts";
import type { ClientContext } from "./client_context.ts";
import type { Connection, ConnectionListener } from "./connection.ts";
import { Consumer, type SingleConsumerOptions } from "./consumer.ts";
import type { Producer, ProducerOptions } from "./producer.ts";

/** A command as the consumer sent it, loosely typed for assertions. */
export type SentCommand = Record<string, unknown> & { type: string };

/** An in-memory broker connection for one consumer. */
export class FakeBroker {
  readonly sent: SentCommand[] = [];
  listener?: ConnectionListener;
  consumerId = -1;
  /** Replaces the dead-letter producer factory. */
  createProducer: (options: ProducerOptions) => Promise<Producer> = () =>
    Promise.reject(new Error("no producers in this test"));

  readonly connection = {
    isOpen: true,
    registerConsumer: (id: number, listener: ConnectionListener) => {
      this.consumerId = id;
      this.listener = listener;
    },
    unregisterConsumer: () => {},
    send: (command: Command) => {
      this.sent.push(command as unknown as SentCommand);
    },
    request: (command: Command) => {
      this.sent.push(command as unknown as SentCommand);
      return Promise.resolve({ command: { type: "SUCCESS" } } as unknown as Frame);
    },
  } as unknown as Connection;

  readonly context: ClientContext = {
    pool: undefined as never,
    lookup: { connectionFor: () => Promise.resolve(this.connection) } as never,
    operationTimeoutMs: 1000,
    backoff: { initialMs: 1, maxMs: 4, jitter: 0 },
    newProducerId: () => 0,
    newConsumerId: () => 7,
    createProducer: (options) => this.createProducer(options),
  };

  /** Subscribes a consumer of `topic` through this broker. */
  subscribe(options: Partial<SingleConsumerOptions> = {}): Promise<Consumer> {
    return Consumer.create(this.context, {
      topic: "persistent://public/default/t",
      subscription: "s",
      ...options,
    });
  }

  /** Pushes one entry: a single message, or a batch when `batch` payloads are given. */
  push(
    entry: { ledger?: number; entry: number; redeliveryCount?: number; ackSet?: number[] },
    metadata: Partial<MessageMetadata> & { batch?: Uint8Array[] },
    payload: Uint8Array = new Uint8Array(),
  ): void {
    const { batch, ...meta } = metadata;
    const body = batch ? packBatch(batch.map((p) => ({ metadata: {}, payload: p }))) : payload;
    this.listener!.onFrame({
      command: {
        type: "MESSAGE",
        consumerId: this.consumerId,
        messageId: {
          ledgerId: entry.ledger ?? 1,
          entryId: entry.entry,
        },
        redeliveryCount: entry.redeliveryCount ?? 0,
        ...(entry.ackSet ? { ackSet: entry.ackSet } : {}),
      },
      metadata: {
        producerName: "p",
        sequenceId: entry.entry,
        publishTime: 1_000,
        ...(batch ? { numMessagesInBatch: batch.length } : {}),
        ...meta,
      },
      payload: body,
    } as unknown as Frame);
  }

  /** The ACK commands sent so far. */
  acks(): SentCommand[] {
    return this.sent.filter((c) => c.type === "ACK");
  }
}

/** UTF-8 bytes of `text`. */
export function bytes(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}
