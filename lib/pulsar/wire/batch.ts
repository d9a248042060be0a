/**
 * Batches: several messages in one entry, each with its own SingleMessageMetadata.
 *
 * Wire grammar (the payload of an entry whose MessageMetadata has num_messages_in_batch):
 * ```
 * batch   := message{numMessages}
 * message := [metadataSize:u32 BE][SingleMessageMetadata][payload: payload_size bytes]
 * ```
 * The whole batch is then compressed as one payload.
 *
 * @module
 */
import { decodeMessage, encodeMessage } from "./codec.ts";
import { ProtocolError } from "./errors.ts";
import { SINGLE_MESSAGE_METADATA, type SingleMessageMetadata } from "./metadata.ts";
import { ProtoReader, ProtoWriter } from "./protobuf.ts";

/** One message of a batch. */
export interface BatchEntry {
  metadata: SingleMessageMetadata;
  payload: Uint8Array;
}

/** A message of a batch as `packBatch` takes it: `payloadSize` is filled in from the payload. */
export interface BatchEntryInput {
  metadata: Omit<SingleMessageMetadata, "payloadSize"> & { payloadSize?: number };
  payload: Uint8Array;
}

const writer = new ProtoWriter();

/**
 * Serialises messages into one batch payload (before compression).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { packBatch, unpackBatch } from "./batch.ts";
 * const bytes = packBatch([{ metadata: { partitionKey: "k" }, payload: new Uint8Array([1, 2]) }]);
 * const [entry] = unpackBatch(bytes, 1);
 * assert.equal(entry.metadata.partitionKey, "k");
 * assert.equal(entry.payload.length, 2);
 * ```
 */
export function packBatch(entries: readonly BatchEntryInput[]): Uint8Array {
  const w = writer.reset();
  for (const { metadata, payload } of entries) {
    const sizeAt = w.pos;
    w.u32(0);
    encodeMessage(w, SINGLE_MESSAGE_METADATA, { ...metadata, payloadSize: payload.length });
    w.setU32(sizeAt, w.pos - sizeAt - 4);
    w.raw(payload);
  }
  const bytes = w.finish();
  w.trim();
  return bytes;
}

/**
 * Splits a (decompressed) batch payload into its `numMessages` messages. Payloads are views into
 * `bytes`. Malformed input is a {@linkcode ProtocolError}.
 */
export function unpackBatch(bytes: Uint8Array, numMessages: number): BatchEntry[] {
  if (!Number.isInteger(numMessages) || numMessages < 0) {
    throw new ProtocolError(`invalid batch size ${numMessages}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const reader = new ProtoReader(bytes);
  const entries: BatchEntry[] = [];
  let pos = 0;
  for (let i = 0; i < numMessages; i++) {
    if (pos + 4 > bytes.length) throw new ProtocolError(`batch truncated at message ${i}`);
    const size = view.getUint32(pos);
    const metaEnd = pos + 4 + size;
    if (metaEnd > bytes.length) throw new ProtocolError(`batch truncated at message ${i}`);
    reader.pos = pos + 4;
    reader.end = metaEnd;
    const metadata = decodeMessage(
      reader,
      SINGLE_MESSAGE_METADATA,
      metaEnd,
    ) as unknown as SingleMessageMetadata;
    const payloadSize = metadata.payloadSize;
    if (payloadSize < 0 || metaEnd + payloadSize > bytes.length) {
      throw new ProtocolError(`batch message ${i} has an invalid payload size ${payloadSize}`);
    }
    entries.push({ metadata, payload: bytes.subarray(metaEnd, metaEnd + payloadSize) });
    pos = metaEnd + payloadSize;
  }
  return entries;
}
