/**
 * Message ids: where a message sits in a topic (ledger, entry, partition, index in its batch).
 * Users get them as opaque strings (base64 of the encoded `MessageIdData`, as in the envelope's
 * `id` field) and hand them back for acknowledgements and seeks.
 *
 * @module
 */
import { InvalidArgumentError } from "./errors.ts";

const MAX_INT64 = (1n << 63n) - 1n;

/**
 * A position in a topic. Compare with {@linkcode MessageId.compare}; serialise with `toString()`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MessageId } from "./message_id.ts";
 * const id = new MessageId(7n, 0n, 2, 3, 10);
 * const back = MessageId.parse(id.toString());
 * assert.ok(back.equals(id));
 * assert.equal(back.partition, 2);
 * assert.equal(back.batchIndex, 3);
 * ```
 */
export class MessageId {
  /** Before the first message of a topic (where a subscription starting at "earliest" begins). */
  static readonly earliest: MessageId = new MessageId(-1n, -1n, -1, -1, 0);
  /** After the last message of a topic. */
  static readonly latest: MessageId = new MessageId(MAX_INT64, MAX_INT64, -1, -1, 0);

  /** The id of a message at this position. */
  constructor(
    /** Ledger that stores the entry (signed 64-bit as the broker sees it). */
    readonly ledgerId: bigint,
    /** Entry within the ledger. */
    readonly entryId: bigint,
    /** Partition index, -1 for a non-partitioned topic. */
    readonly partition: number = -1,
    /** Index inside a batch entry, -1 when the entry is not a batch. */
    readonly batchIndex: number = -1,
    /** Number of messages in the batch entry, 0 when unknown or not a batch. */
    readonly batchSize: number = 0,
  ) {}

  /** The same position with another partition index (consumers of partitioned topics set it). */
  withPartition(partition: number): MessageId {
    return new MessageId(this.ledgerId, this.entryId, partition, this.batchIndex, this.batchSize);
  }

  /** The id of the whole entry this message sits in (batch index dropped). */
  entry(): MessageId {
    return new MessageId(this.ledgerId, this.entryId, this.partition, -1, 0);
  }

  /** True when both ids denote the same message. */
  equals(other: MessageId): boolean {
    return MessageId.compare(this, other) === 0 && this.partition === other.partition;
  }

  /** Orders ids by ledger, entry, then batch index (-1 sorts before 0). Partition is ignored. */
  static compare(a: MessageId, b: MessageId): number {
    if (a.ledgerId !== b.ledgerId) return a.ledgerId < b.ledgerId ? -1 : 1;
    if (a.entryId !== b.entryId) return a.entryId < b.entryId ? -1 : 1;
    return Math.sign(a.batchIndex - b.batchIndex);
  }

  /** Compact, URL-unsafe base64 of the protobuf `MessageIdData` (the same bytes Java uses). */
  toString(): string {
    let text = "";
    for (const byte of this.toBytes()) text += String.fromCharCode(byte);
    return btoa(text);
  }

  /** `ledger:entry:partition:batchIndex`, for people. */
  toHuman(): string {
    return `${this.ledgerId}:${this.entryId}:${this.partition}:${this.batchIndex}`;
  }

  /** JSON form is the opaque string. */
  toJSON(): string {
    return this.toString();
  }

  /** Protobuf `MessageIdData` bytes (ledgerId=1, entryId=2, partition=3, batch_index=4, batch_size=6). */
  toBytes(): Uint8Array {
    const out: number[] = [];
    writeVarint(out, 0x08, BigInt.asUintN(64, this.ledgerId));
    writeVarint(out, 0x10, BigInt.asUintN(64, this.entryId));
    if (this.partition >= 0) writeVarint(out, 0x18, BigInt(this.partition));
    if (this.batchIndex >= 0) writeVarint(out, 0x20, BigInt(this.batchIndex));
    if (this.batchSize > 0) writeVarint(out, 0x30, BigInt(this.batchSize));
    return Uint8Array.from(out);
  }

  /** Parses what `toBytes()` (or a Java client's `toByteArray()`) wrote. */
  static fromBytes(bytes: Uint8Array): MessageId {
    let ledgerId: bigint | undefined;
    let entryId: bigint | undefined;
    let partition = -1, batchIndex = -1, batchSize = 0;
    let pos = 0;
    const read = (): bigint => {
      let value = 0n, shift = 0n;
      for (;;) {
        if (pos >= bytes.length || shift > 63n) {
          throw new InvalidArgumentError("truncated message id");
        }
        const byte = bytes[pos++];
        value |= BigInt(byte & 0x7f) << shift;
        if (byte < 0x80) return value;
        shift += 7n;
      }
    };
    while (pos < bytes.length) {
      const tag = Number(read());
      const field = tag >>> 3, wireType = tag & 7;
      if (wireType === 0) {
        const value = read();
        if (field === 1) ledgerId = BigInt.asIntN(64, value);
        else if (field === 2) entryId = BigInt.asIntN(64, value);
        else if (field === 3) partition = Number(BigInt.asIntN(32, value));
        else if (field === 4) batchIndex = Number(BigInt.asIntN(32, value));
        else if (field === 6) batchSize = Number(BigInt.asIntN(32, value));
      } else if (wireType === 2) {
        const length = Number(read());
        if (pos + length > bytes.length) throw new InvalidArgumentError("truncated message id");
        pos += length; // nested first_chunk_message_id: not needed to locate the message
      } else {
        throw new InvalidArgumentError(`message id has unexpected wire type ${wireType}`);
      }
    }
    if (ledgerId === undefined || entryId === undefined) {
      throw new InvalidArgumentError("message id lacks ledger or entry id");
    }
    return new MessageId(ledgerId, entryId, partition, batchIndex, batchSize);
  }

  /**
   * Parses an opaque id string. Also accepts `ledger:entry[:partition[:batchIndex]]`, and
   * `earliest` / `latest`.
   */
  static parse(text: string): MessageId {
    const trimmed = text.trim();
    if (trimmed === "earliest") return MessageId.earliest;
    if (trimmed === "latest") return MessageId.latest;
    const human = /^(-?\d+):(-?\d+)(?::(-?\d+))?(?::(-?\d+))?$/.exec(trimmed);
    if (human) {
      return new MessageId(
        BigInt(human[1]),
        BigInt(human[2]),
        human[3] === undefined ? -1 : Number(human[3]),
        human[4] === undefined ? -1 : Number(human[4]),
      );
    }
    let binary: string;
    try {
      binary = atob(trimmed);
    } catch (cause) {
      throw new InvalidArgumentError(`'${text}' is not a message id`, { cause });
    }
    if (binary.length === 0) throw new InvalidArgumentError(`'${text}' is not a message id`);
    return MessageId.fromBytes(Uint8Array.from(binary, (c) => c.charCodeAt(0)));
  }
}

function writeVarint(out: number[], tag: number, value: bigint): void {
  out.push(tag);
  while (value >= 0x80n) {
    out.push(Number(value & 0x7fn) | 0x80);
    value >>= 7n;
  }
  out.push(Number(value));
}

/** The wire form of a message id (`MessageIdData`). */
export interface MessageIdWire {
  ledgerId: number | bigint;
  entryId: number | bigint;
  partition?: number;
  batchIndex?: number;
  batchSize?: number;
  ackSet?: (number | bigint)[];
}

/** Converts an id to what the wire layer encodes (Long: a number when exact, else bigint). */
export function toWire(id: MessageId, withBatch = true): MessageIdWire {
  const wire: MessageIdWire = { ledgerId: toLong(id.ledgerId), entryId: toLong(id.entryId) };
  if (id.partition >= 0) wire.partition = id.partition;
  if (withBatch && id.batchIndex >= 0) {
    wire.batchIndex = id.batchIndex;
    if (id.batchSize > 0) wire.batchSize = id.batchSize;
  }
  return wire;
}

/** Converts a decoded `MessageIdData` to a {@linkcode MessageId}. */
export function fromWire(data: MessageIdWire, partition?: number): MessageId {
  return new MessageId(
    BigInt(data.ledgerId),
    BigInt(data.entryId),
    partition ?? data.partition ?? -1,
    data.batchIndex ?? -1,
    data.batchSize ?? 0,
  );
}

function toLong(value: bigint): number | bigint {
  return value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= BigInt(Number.MIN_SAFE_INTEGER)
    ? Number(value)
    : value;
}
