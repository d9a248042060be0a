/**
 * Producer-side chunking: a (compressed) payload larger than the broker's maximum message size is
 * sent as several entries, as the Java client does with `enableChunking`: every chunk carries the
 * message's metadata plus `uuid` (`<producer>-<sequence id>`), `chunk_id`, `num_chunks_from_msg`
 * and `total_chunk_msg_size`, and all chunks share the message's sequence id. Consumers
 * reassemble them (`chunk_assembler.ts`).
 *
 * @module
 */
import { type Command, encodePayloadCommand, type MessageMetadata } from "./wire/mod.ts";

/** Room left in each chunk for the frame around its payload and the chunk fields. */
const CHUNK_FIELDS_BYTES = 64;

/**
 * The SEND frames of one message: one frame when it fits in `maxMessageSize`, else one per
 * chunk of at most `chunkMaxMessageSize` payload bytes (and never more than fits in a frame).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sendFrames } from "./chunking.ts";
 * const send = { type: "SEND", producerId: 1, sequenceId: 4, numMessages: 1 } as const;
 * const metadata = { producerName: "p", sequenceId: 4, publishTime: 1 };
 * assert.equal(sendFrames(send as never, metadata, new Uint8Array(10), 1024).length, 1);
 * assert.equal(sendFrames(send as never, metadata, new Uint8Array(2500), 1024).length, 3);
 * assert.equal(sendFrames(send as never, metadata, new Uint8Array(2500), 1 << 20, 100).length, 25);
 * ```
 */
export function sendFrames(
  send: Command,
  metadata: MessageMetadata,
  body: Uint8Array,
  maxMessageSize: number,
  chunkMaxMessageSize?: number,
): Uint8Array[] {
  const limit = Math.min(maxMessageSize, chunkMaxMessageSize ?? Infinity);
  if (body.length <= limit) return [encodePayloadCommand(send, metadata, body)];
  const uuid = `${metadata.producerName}-${metadata.sequenceId}`;
  const overhead = encodePayloadCommand(send, metadata, new Uint8Array()).length +
    uuid.length + CHUNK_FIELDS_BYTES;
  const size = Math.min(limit, maxMessageSize - overhead);
  if (size < 1) throw new RangeError(`no room for a chunk in a ${maxMessageSize}-byte message`);
  const count = Math.ceil(body.length / size);
  const frames: Uint8Array[] = [];
  for (let chunkId = 0; chunkId < count; chunkId++) {
    const chunk: MessageMetadata = {
      ...metadata,
      uuid,
      chunkId,
      numChunksFromMsg: count,
      totalChunkMsgSize: body.length,
    };
    frames.push(
      encodePayloadCommand(send, chunk, body.subarray(chunkId * size, (chunkId + 1) * size)),
    );
  }
  return frames;
}
