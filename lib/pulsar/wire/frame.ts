/**
 * Frames: how commands travel on a Pulsar TCP connection.
 *
 * Wire grammar (all integers big-endian):
 * ```
 * simple frame  := [totalSize:u32][commandSize:u32][BaseCommand]
 * payload frame := [totalSize:u32][commandSize:u32][BaseCommand]
 *                  brokerEntry? checked
 * brokerEntry   := [0x0e02:u16][size:u32][BrokerEntryMetadata]      (incoming MESSAGE only)
 * checked       := [0x0e01:u16][crc32c:u32][metadataSize:u32][MessageMetadata][payload]
 *                | [metadataSize:u32][MessageMetadata][payload]       (no checksum: old peers)
 * ```
 * `totalSize` counts every byte after itself; the CRC32C covers everything after the checksum
 * field (metadataSize, metadata and payload).
 *
 * @module
 */
import { decodeMessage, encodeMessage } from "./codec.ts";
import { type Command, readBaseCommand, writeBaseCommand } from "./command.ts";
import { crc32c } from "./crc32c.ts";
import { ProtocolError } from "./errors.ts";
import {
  BROKER_ENTRY_METADATA,
  type BrokerEntryMetadata,
  MESSAGE_METADATA,
  type MessageMetadata,
} from "./metadata.ts";
import { ProtoReader, ProtoWriter } from "./protobuf.ts";
import { concatBytes } from "../../concat_bytes.ts";

/** Magic number in front of the checksum of a payload frame. */
export const MAGIC_CRC32C = 0x0e01;
/** Magic number in front of broker entry metadata. */
export const MAGIC_BROKER_ENTRY_METADATA = 0x0e02;
/** Default largest frame accepted: the broker's 5 MiB message limit plus room for headers. */
export const DEFAULT_MAX_FRAME_SIZE = 5 * 1024 * 1024 + 10 * 1024;

/** A decoded frame. Payload frames (SEND, MESSAGE) carry metadata and payload. */
export interface Frame {
  command: Command;
  metadata?: MessageMetadata;
  /** The entry's payload as sent (still compressed, possibly a batch). */
  payload?: Uint8Array;
  brokerEntryMetadata?: BrokerEntryMetadata;
}

// One reused buffer for every encode: the hot path allocates only the returned frame.
const writer = new ProtoWriter();

/**
 * Encodes a command as a simple frame.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeCommand } from "./frame.ts";
 * const bytes = encodeCommand({ type: "PING" });
 * assert.equal(bytes.join(","), "0,0,0,9,0,0,0,5,8,18,146,1,0");
 * ```
 */
export function encodeCommand(cmd: Command): Uint8Array {
  const w = writer.reset();
  w.ensure(8);
  w.pos = 8;
  writeBaseCommand(w, cmd);
  w.setU32(0, w.pos - 4);
  w.setU32(4, w.pos - 8);
  const bytes = w.finish();
  w.trim();
  return bytes;
}

/**
 * Encodes a command with metadata and payload (SEND) as a checksummed payload frame.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodePayloadCommand, FrameDecoder } from "./frame.ts";
 * const frame = encodePayloadCommand(
 *   { type: "SEND", producerId: 1, sequenceId: 0, numMessages: 1 },
 *   { producerName: "p", sequenceId: 0, publishTime: 1732400000000 },
 *   new TextEncoder().encode("hello"),
 * );
 * const [decoded] = new FrameDecoder().push(frame);
 * assert.equal(decoded.payload?.length, 5);
 * ```
 */
export function encodePayloadCommand(
  cmd: Command,
  metadata: MessageMetadata,
  payload: Uint8Array,
): Uint8Array {
  const w = writer.reset();
  w.ensure(8);
  w.pos = 8;
  writeBaseCommand(w, cmd);
  const commandEnd = w.pos;
  w.u16(MAGIC_CRC32C);
  const checksumAt = w.pos;
  w.u32(0);
  w.u32(0);
  encodeMessage(w, MESSAGE_METADATA, metadata);
  const headerLength = w.pos;
  const total = headerLength + payload.length;
  if (total - 4 > 0xffffffff) throw new ProtocolError("frame too large to encode");
  w.setU32(0, total - 4);
  w.setU32(4, commandEnd - 8);
  w.setU32(checksumAt + 4, headerLength - checksumAt - 8);
  const out = new Uint8Array(total);
  out.set(w.buf.subarray(0, headerLength));
  out.set(payload, headerLength);
  const crc = crc32c(out, 0, checksumAt + 4, total);
  new DataView(out.buffer).setUint32(checksumAt, crc);
  w.trim();
  return out;
}

/** Options of a {@linkcode FrameDecoder}. */
export interface FrameDecoderOptions {
  /** Largest `totalSize + 4` accepted; bigger frames are a {@linkcode ProtocolError}. */
  maxFrameSize?: number;
}

/**
 * Splits the bytes of a connection into frames. Feed it chunks as they arrive; it returns every
 * frame completed so far. Invalid data throws {@linkcode ProtocolError}, after which the decoder
 * refuses further input (the stream has lost its framing).
 *
 * Decoded payloads are views into the chunks passed in: do not reuse a chunk's buffer after
 * pushing it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeCommand, FrameDecoder } from "./frame.ts";
 * const bytes = encodeCommand({ type: "FLOW", consumerId: 1, messagePermits: 1000 });
 * const decoder = new FrameDecoder();
 * assert.equal(decoder.push(bytes.subarray(0, 5)).length, 0);
 * const [frame] = decoder.push(bytes.subarray(5));
 * assert.equal(frame.command.type, "FLOW");
 * ```
 */
export class FrameDecoder {
  readonly maxFrameSize: number;
  #pending: Uint8Array[] = [];
  #pendingBytes = 0;
  /** Bytes needed before trying again. */
  #need = 4;
  #failure: ProtocolError | undefined;

  constructor({ maxFrameSize = DEFAULT_MAX_FRAME_SIZE }: FrameDecoderOptions = {}) {
    this.maxFrameSize = maxFrameSize;
  }

  /** Bytes received that do not form a complete frame yet. */
  get bufferedBytes(): number {
    return this.#pendingBytes;
  }

  /** Adds a chunk; returns the frames it completes. */
  push(chunk: Uint8Array): Frame[] {
    if (this.#failure) throw this.#failure;
    if (chunk.length === 0) return [];
    let data = chunk;
    if (this.#pendingBytes > 0) {
      this.#pending.push(chunk);
      this.#pendingBytes += chunk.length;
      if (this.#pendingBytes < this.#need) return [];
      data = concatBytes(this.#pending, this.#pendingBytes);
      this.#pending = [];
      this.#pendingBytes = 0;
    }
    const frames: Frame[] = [];
    try {
      let pos = 0;
      this.#need = 4;
      while (data.length - pos >= 4) {
        const size = readU32(data, pos);
        if (size + 4 > this.maxFrameSize) {
          throw new ProtocolError(
            `frame of ${size + 4} bytes exceeds the limit of ${this.maxFrameSize} bytes`,
          );
        }
        if (size < 4) throw new ProtocolError(`frame size ${size} is too small`);
        if (data.length - pos - 4 < size) {
          this.#need = size + 4;
          break;
        }
        frames.push(decodeFrame(data, pos + 4, pos + 4 + size));
        pos += 4 + size;
      }
      if (pos < data.length) {
        this.#pending.push(data.subarray(pos));
        this.#pendingBytes = data.length - pos;
      }
    } catch (err) {
      this.#failure = err instanceof ProtocolError
        ? err
        : new ProtocolError("malformed frame", { cause: err });
      this.#pending = [];
      this.#pendingBytes = 0;
      throw this.#failure;
    }
    return frames;
  }

  /** Call at end of stream: a partial frame left over is a {@linkcode ProtocolError}. */
  finish(): void {
    if (this.#failure) throw this.#failure;
    if (this.#pendingBytes > 0) {
      throw new ProtocolError(`connection ended inside a frame (${this.#pendingBytes} bytes)`);
    }
  }
}

/** Decodes one frame's bytes after its totalSize field: `bytes[start, end)`. */
export function decodeFrame(bytes: Uint8Array, start: number, end: number): Frame {
  const commandSize = readU32(bytes, start);
  const commandStart = start + 4;
  const commandEnd = commandStart + commandSize;
  if (commandSize === 0 || commandEnd > end) {
    throw new ProtocolError(`invalid command size ${commandSize} in a frame of ${end - start}`);
  }
  const reader = new ProtoReader(bytes, commandStart, commandEnd);
  const command = readBaseCommand(reader, commandEnd);
  if (commandEnd === end) return { command };
  if (command.type !== "MESSAGE" && command.type !== "SEND") {
    throw new ProtocolError(`${command.type} frame with ${end - commandEnd} unexpected bytes`);
  }

  let pos = commandEnd;
  let brokerEntryMetadata: BrokerEntryMetadata | undefined;
  if (end - pos >= 2 && readU16(bytes, pos) === MAGIC_BROKER_ENTRY_METADATA) {
    if (end - pos < 6) throw new ProtocolError("truncated broker entry metadata");
    const size = readU32(bytes, pos + 2);
    const metaEnd = pos + 6 + size;
    if (metaEnd > end) throw new ProtocolError("truncated broker entry metadata");
    reader.pos = pos + 6;
    reader.end = metaEnd;
    brokerEntryMetadata = decodeMessage(reader, BROKER_ENTRY_METADATA, metaEnd);
    pos = metaEnd;
  }
  if (end - pos >= 2 && readU16(bytes, pos) === MAGIC_CRC32C) {
    if (end - pos < 10) throw new ProtocolError("truncated payload header");
    const expected = readU32(bytes, pos + 2);
    pos += 6;
    const actual = crc32c(bytes, 0, pos, end);
    if (actual !== expected) {
      throw new ProtocolError(
        `checksum mismatch in ${command.type} frame: expected ${hex(expected)}, got ${hex(actual)}`,
      );
    }
  }
  if (end - pos < 4) throw new ProtocolError("truncated message metadata size");
  const metadataSize = readU32(bytes, pos);
  const metadataEnd = pos + 4 + metadataSize;
  if (metadataEnd > end) throw new ProtocolError(`metadata size ${metadataSize} exceeds frame`);
  reader.pos = pos + 4;
  reader.end = metadataEnd;
  const metadata = decodeMessage(
    reader,
    MESSAGE_METADATA,
    metadataEnd,
  ) as unknown as MessageMetadata;
  const frame: Frame = { command, metadata, payload: bytes.subarray(metadataEnd, end) };
  if (brokerEntryMetadata) frame.brokerEntryMetadata = brokerEntryMetadata;
  return frame;
}

function readU32(bytes: Uint8Array, pos: number): number {
  return ((bytes[pos] << 24) | (bytes[pos + 1] << 16) | (bytes[pos + 2] << 8) | bytes[pos + 3]) >>>
    0;
}

function readU16(bytes: Uint8Array, pos: number): number {
  return (bytes[pos] << 8) | bytes[pos + 1];
}

function hex(n: number): string {
  return "0x" + n.toString(16).padStart(8, "0");
}
