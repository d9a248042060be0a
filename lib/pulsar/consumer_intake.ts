/**
 * The intake of a consumer: how one MESSAGE entry becomes the messages handed to the user. It
 * decodes the payload (decryption, decompression), unpacks batches (leaving out what is
 * already acknowledged), reassembles chunked messages, and turns what cannot be decoded into a
 * message carrying a `decodeError`. It reaches its consumer only through {@linkcode IntakeSeam}.
 *
 * @module
 */
import {
  type Frame,
  type MessageMetadata,
  type SingleMessageMetadata,
  unpackBatch,
} from "./wire/mod.ts";
import type { AckTracker } from "./consumer_acks.ts";
import { type AssembledChunks, type Chunk, ChunkAssembler } from "./chunk_assembler.ts";
import type { MessageDecryptor } from "./crypto/message_crypto.ts";
import { decodeEntryPayload } from "./message_decode.ts";
import { MessageDecodeError } from "./message_decode_error.ts";
import { Message } from "./message.ts";
import { MessageId } from "./message_id.ts";

/** What the intake needs from its consumer. */
export interface IntakeSeam {
  readonly topic: string;
  readonly partition: number;
  /** False for readers: nothing is acknowledged, so chunk ids need not be kept. */
  readonly durable: boolean;
  /** Queues a message for the user; `noPermit` when its entry's permit already went back. */
  push(msg: Message, noPermit: boolean): void;
  /** Gives the broker permits for entries that produced no queued message. */
  grantPermits(count: number): void;
  /** True when a reader must leave this message out (before its start). */
  skip(id: MessageId, publishTime: number): boolean;
}

/** Options of {@linkcode MessageIntake}. */
export interface IntakeOptions {
  maxPendingChunkedMessages?: number;
  expireIncompleteChunkedMessageMs?: number;
  /** Decrypts end-to-end encrypted payloads; without it they arrive with a `decodeError`. */
  decryptor?: MessageDecryptor;
}

/**
 * Turns entries into messages.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { AckTracker } from "./consumer_acks.ts";
 * import { MessageIntake } from "./consumer_intake.ts";
 * import type { Message } from "./message.ts";
 * import { MessageId } from "./message_id.ts";
 * const queued: Message[] = [];
 * const acks = new AckTracker({ batchIndexAck: false, connected: () => false, send: () => {} });
 * const intake = new MessageIntake({
 *   topic: "t", partition: -1, durable: true,
 *   push: (msg) => void queued.push(msg), grantPermits: () => {}, skip: () => false,
 * }, acks);
 * intake.onEntry(new MessageId(1n, 2n), {}, {
 *   command: { type: "MESSAGE" } as never,
 *   metadata: { producerName: "p", sequenceId: 0, publishTime: 5 },
 *   payload: new TextEncoder().encode("hi"),
 * });
 * assert.equal(queued[0].text(), "hi");
 * intake.stop();
 * ```
 */
export class MessageIntake {
  readonly #seam: IntakeSeam;
  readonly #acks: AckTracker;
  readonly #chunks: ChunkAssembler;
  readonly #expireMs: number;
  readonly #decryptor?: MessageDecryptor;
  #chunkTimer?: ReturnType<typeof setInterval>;

  constructor(seam: IntakeSeam, acks: AckTracker, options: IntakeOptions = {}) {
    this.#seam = seam;
    this.#acks = acks;
    this.#expireMs = options.expireIncompleteChunkedMessageMs ?? 60_000;
    if (options.decryptor) this.#decryptor = options.decryptor;
    this.#chunks = new ChunkAssembler({
      ...(options.maxPendingChunkedMessages !== undefined
        ? { maxPending: options.maxPendingChunkedMessages }
        : {}),
      expireMs: this.#expireMs,
    });
  }

  /** One MESSAGE entry (`command` is the MESSAGE command, for its redelivery count, ack set). */
  onEntry(entryId: MessageId, command: Record<string, unknown>, frame: Frame): void {
    const metadata = frame.metadata as MessageMetadata;
    const raw = frame.payload ?? new Uint8Array();
    const redeliveryCount = Number(command.redeliveryCount ?? 0);
    const what = entryId.toHuman();
    if (Number(metadata.numChunksFromMsg ?? 0) > 1) {
      return this.#onChunk({ id: entryId.entry(), metadata, payload: raw, redeliveryCount });
    }
    const decoded = decodeEntryPayload(metadata, raw, what, this.#decryptor);
    if (decoded.error) {
      return this.#pushEntry(entryId, raw, metadata, redeliveryCount, decoded.error);
    }
    const batchSize = metadata.numMessagesInBatch;
    if (batchSize === undefined) {
      return this.#pushEntry(entryId, decoded.payload, metadata, redeliveryCount);
    }
    const size = Number(batchSize);
    let entries;
    try {
      entries = unpackBatch(decoded.payload, size);
    } catch (cause) {
      const error = new MessageDecodeError(
        "decompress",
        `batch message ${what} cannot be unpacked: ${(cause as Error).message}`,
        { cause },
      );
      return this.#pushEntry(entryId, raw, metadata, redeliveryCount, error);
    }
    const batch = this.#acks.entryArrived(entryId, size, command.ackSet as bigint[] | undefined);
    let skipped = 0;
    entries.forEach((entry, index) => {
      const id = new MessageId(
        entryId.ledgerId,
        entryId.entryId,
        this.#seam.partition,
        index,
        size,
      );
      if (this.#acks.isAcked(batch, index) || this.#seam.skip(id, Number(metadata.publishTime))) {
        skipped++;
        return;
      }
      this.#acks.bind(id, batch);
      this.#seam.push(
        this.#message(id, entry.payload, metadata, entry.metadata, redeliveryCount),
        false,
      );
    });
    if (skipped > 0) this.#seam.grantPermits(skipped);
  }

  /** Forgets incomplete chunked messages (after a seek the broker sends them again). */
  clear(): void {
    this.#chunks.clear();
  }

  /** Stops the expiry timer. */
  stop(): void {
    clearInterval(this.#chunkTimer);
    this.#chunkTimer = undefined;
  }

  /** One chunk of a chunked message: queued once the message is whole (or cannot be). */
  #onChunk(chunk: Chunk): void {
    const done = this.#chunks.add(chunk);
    // The entry's permit goes back now unless a message ends with it (its delivery gives it back).
    if (!done.some((m) => m.ids.at(-1) === chunk.id)) this.#seam.grantPermits(1);
    for (const whole of done) this.#pushChunked(whole, whole.ids.at(-1) !== chunk.id);
    if (this.#chunks.pending > 0 && this.#chunkTimer === undefined) {
      this.#chunkTimer = setInterval(() => {
        for (const whole of this.#chunks.expire()) this.#pushChunked(whole, true);
        if (this.#chunks.pending === 0) this.stop();
      }, Math.max(10, Math.min(1000, this.#expireMs / 4)));
    }
  }

  #pushChunked(whole: AssembledChunks, late: boolean): void {
    const id = whole.ids[whole.ids.length - 1];
    const what = `${id.toHuman()} (chunked, ${whole.ids.length} entries)`;
    const decoded = whole.error
      ? undefined
      : decodeEntryPayload(whole.metadata, whole.payload, what, this.#decryptor);
    if (this.#seam.skip(id, Number(whole.metadata.publishTime))) {
      if (!late) this.#seam.grantPermits(1);
      return;
    }
    if (whole.ids.length > 1 && this.#seam.durable) this.#acks.chunked(id, whole.ids);
    const msg = this.#message(
      id,
      decoded?.payload ?? whole.payload,
      whole.metadata,
      undefined,
      whole.redeliveryCount,
      whole.error ?? decoded?.error,
    );
    this.#seam.push(msg, late);
  }

  /** Queues an entry as one message (not a batch, or one that cannot be decoded). */
  #pushEntry(
    entryId: MessageId,
    payload: Uint8Array,
    metadata: MessageMetadata,
    redeliveryCount: number,
    decodeError?: MessageDecodeError,
  ): void {
    const id = entryId.entry();
    if (this.#seam.skip(id, Number(metadata.publishTime))) return this.#seam.grantPermits(1);
    this.#seam.push(
      this.#message(id, payload, metadata, undefined, redeliveryCount, decodeError),
      false,
    );
  }

  #message(
    id: MessageId,
    payload: Uint8Array,
    metadata: MessageMetadata,
    single: SingleMessageMetadata | undefined,
    redeliveryCount: number,
    decodeError?: MessageDecodeError,
  ): Message {
    const source = single ?? metadata;
    return new Message(this.#seam.topic, id, payload, {
      ...(source.partitionKey !== undefined ? { key: source.partitionKey } : {}),
      ...(source.orderingKey !== undefined ? { orderingKey: source.orderingKey } : {}),
      ...(source.properties !== undefined ? { properties: source.properties } : {}),
      publishTime: Number(metadata.publishTime),
      eventTime: Number(source.eventTime ?? 0),
      redeliveryCount,
      producerName: metadata.producerName,
      sequenceId: Number(single?.sequenceId ?? metadata.sequenceId),
      ...(decodeError ? { decodeError } : {}),
      ...(metadata.schemaVersion?.length ? { schemaVersion: metadata.schemaVersion } : {}),
      ...(source.partitionKeyB64Encoded ? { keyIsBase64: true } : {}),
    });
  }
}
