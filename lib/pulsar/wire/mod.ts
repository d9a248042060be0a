/**
 * The Pulsar binary protocol in pure TypeScript: frames, commands, metadata and batches.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeCommand, FrameDecoder, PROTOCOL_VERSION } from "./mod.ts";
 * const bytes = encodeCommand({
 *   type: "CONNECT",
 *   clientVersion: "edgepipe",
 *   protocolVersion: PROTOCOL_VERSION,
 * });
 * const [frame] = new FrameDecoder().push(bytes);
 * assert.equal(frame.command.type, "CONNECT");
 * ```
 *
 * @module
 */
export { ProtocolError } from "./errors.ts";
export { type Long } from "./protobuf.ts";
export { crc32c } from "./crc32c.ts";
export {
  type Command,
  COMMAND_TYPES,
  type CommandOf,
  type CommandType,
  PROTOCOL_VERSION,
} from "./command.ts";
export {
  decodeFrame,
  DEFAULT_MAX_FRAME_SIZE,
  encodeCommand,
  encodePayloadCommand,
  type Frame,
  FrameDecoder,
  type FrameDecoderOptions,
} from "./frame.ts";
export {
  BROKER_ENTRY_METADATA,
  type BrokerEntryMetadata,
  type EncryptionKeys,
  MESSAGE_METADATA,
  type MessageMetadata,
  SINGLE_MESSAGE_METADATA,
  type SingleMessageMetadata,
} from "./metadata.ts";
export {
  EARLIEST_MESSAGE_ID,
  LATEST_MESSAGE_ID,
  MESSAGE_ID_DATA,
  type MessageIdData,
} from "./message_id.ts";
export { type BatchEntry, type BatchEntryInput, packBatch, unpackBatch } from "./batch.ts";
export { decodeMessage, encodeMessage, type MessageSpec } from "./codec.ts";
export type { CompressionType, SchemaType, ServerError } from "./enums.ts";
export type * from "./connect.ts";
export type * from "./lookup.ts";
export type * from "./schema.ts";
export type * from "./producer.ts";
export type * from "./consumer.ts";
export type * from "./response.ts";
export type * from "./transaction.ts";
