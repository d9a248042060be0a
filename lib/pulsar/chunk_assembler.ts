/**
 * Reassembly of chunked messages: a producer with chunking on splits a payload larger than the
 * broker's limit into entries that share a `uuid` and carry `chunk_id` 0..`num_chunks_from_msg`-1
 * and the whole (compressed) size `total_chunk_msg_size`. The consumer gathers them by uuid; other
 * messages may come between the chunks. Incomplete messages are bounded in number and in age:
 * past either bound, and for chunks that cannot belong to any message (out of order, sizes that
 * do not add up), what was gathered comes back as a failure, for the consumer to hand on as a
 * message with a `decodeError` of kind "chunk", never dropped silently.
 *
 * @module
 */
import { MessageDecodeError } from "./message_decode_error.ts";
import type { MessageId } from "./message_id.ts";
import type { MessageMetadata } from "./wire/mod.ts";

/** One chunk as received. */
export interface Chunk {
  /** The entry holding this chunk. */
  id: MessageId;
  metadata: MessageMetadata;
  payload: Uint8Array;
  redeliveryCount: number;
}

/** A whole message, or the chunks of one that could not be completed. */
export interface AssembledChunks {
  /** Every chunk entry (chunks received twice, then in chunk order): all are acked with it. */
  ids: MessageId[];
  /** Metadata of the first chunk (compression, key, properties, times). */
  metadata: MessageMetadata;
  /** The concatenated chunk payloads (still compressed when the producer compressed). */
  payload: Uint8Array;
  redeliveryCount: number;
  /** Set when the message could not be reassembled. */
  error?: MessageDecodeError;
}

/** Options of {@linkcode ChunkAssembler}. */
export interface ChunkAssemblerOptions {
  /** Incomplete chunked messages held at most; past it the oldest fails. Default 100. */
  maxPending?: number;
  /** An incomplete message older than this fails. Default 60 000 ms. */
  expireMs?: number;
  /** Largest `total_chunk_msg_size` accepted. Default 256 MiB. */
  maxMessageBytes?: number;
  now?: () => number;
}

interface Context {
  uuid: string;
  chunks: Chunk[];
  /** Entries of chunks received twice, acknowledged with the message. */
  again: MessageId[];
  total: number;
  expected: number;
  bytes: number;
  startedAt: number;
}

/**
 * Gathers chunks into messages.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ChunkAssembler } from "./chunk_assembler.ts";
 * import { MessageId } from "./message_id.ts";
 * const assembler = new ChunkAssembler();
 * const chunk = (i: number, text: string) => ({
 *   id: new MessageId(1n, BigInt(i)),
 *   metadata: { producerName: "p", sequenceId: 0, publishTime: 1, uuid: "p-0",
 *     chunkId: i, numChunksFromMsg: 2, totalChunkMsgSize: 4 },
 *   payload: new TextEncoder().encode(text),
 *   redeliveryCount: 0,
 * });
 * assert.deepEqual(assembler.add(chunk(0, "ab")), []);
 * const [whole] = assembler.add(chunk(1, "cd"));
 * assert.equal(new TextDecoder().decode(whole.payload), "abcd");
 * assert.equal(whole.ids.length, 2);
 * ```
 */
export class ChunkAssembler {
  readonly #contexts = new Map<string, Context>();
  readonly #maxPending: number;
  readonly #expireMs: number;
  readonly #maxBytes: number;
  readonly #now: () => number;

  constructor(options: ChunkAssemblerOptions = {}) {
    this.#maxPending = Math.max(1, options.maxPending ?? 100);
    this.#expireMs = options.expireMs ?? 60_000;
    this.#maxBytes = options.maxMessageBytes ?? 256 * 1024 * 1024;
    this.#now = options.now ?? Date.now;
  }

  /** Incomplete messages held. */
  get pending(): number {
    return this.#contexts.size;
  }

  /** Bytes held in incomplete messages. */
  get pendingBytes(): number {
    let bytes = 0;
    for (const context of this.#contexts.values()) bytes += context.bytes;
    return bytes;
  }

  /**
   * Takes one chunk. Returns what it completes or makes fail: nothing while a message is still
   * incomplete, the whole message with its last chunk, failures (this chunk's or older ones').
   */
  add(chunk: Chunk): AssembledChunks[] {
    const out = this.expire();
    const meta = chunk.metadata;
    const uuid = meta.uuid ?? `${meta.producerName}-${meta.sequenceId}`;
    const chunkId = Number(meta.chunkId ?? 0);
    const total = Number(meta.numChunksFromMsg);
    const size = Number(meta.totalChunkMsgSize ?? 0);
    let context = this.#contexts.get(uuid);
    if (chunkId === 0) {
      // A new message, or the first chunk again (redelivered): start over.
      if (context) this.#contexts.delete(uuid);
      if (size > this.#maxBytes || size < 0) {
        out.push(failed([chunk], `is ${size} bytes, over the limit of ${this.#maxBytes}`));
        return out;
      }
      context = {
        uuid,
        chunks: [],
        again: [],
        total,
        expected: 0,
        bytes: 0,
        startedAt: this.#now(),
      };
      this.#contexts.set(uuid, context);
      while (this.#contexts.size > this.#maxPending) {
        const oldest = this.#contexts.values().next().value!;
        this.#contexts.delete(oldest.uuid);
        out.push(fail(oldest, `was dropped: over ${this.#maxPending} incomplete chunked messages`));
      }
    } else if (context && chunkId < context.expected) {
      // The same chunk again (redelivered): acknowledged with the message, its bytes ignored.
      if (!context.chunks[chunkId].id.equals(chunk.id)) context.again.push(chunk.id);
      return out;
    } else if (!context || chunkId !== context.expected || total !== context.total) {
      const where = `chunk ${chunkId + 1} of ${total}`;
      if (context) {
        this.#contexts.delete(uuid);
        out.push(fail(context, `is missing chunks before ${where}`));
      }
      out.push(failed([chunk], `${where} arrived without the chunks before it`));
      return out;
    }
    context.chunks.push(chunk);
    context.expected++;
    context.bytes += chunk.payload.length;
    if (context.bytes > size) {
      this.#contexts.delete(uuid);
      out.push(fail(context, `has more bytes than its declared ${size}`));
    } else if (context.expected === context.total) {
      this.#contexts.delete(uuid);
      if (context.bytes !== size) {
        out.push(fail(context, `has ${context.bytes} bytes, not the declared ${size}`));
      } else out.push(assemble(context.chunks, context.again));
    }
    return out;
  }

  /** Fails the incomplete messages older than the expiry. */
  expire(): AssembledChunks[] {
    const out: AssembledChunks[] = [];
    const cutoff = this.#now() - this.#expireMs;
    for (const context of this.#contexts.values()) {
      if (context.startedAt > cutoff) break; // insertion order is age order
      this.#contexts.delete(context.uuid);
      out.push(
        fail(
          context,
          `was not complete within ${this.#expireMs} ms (${context.expected} of ` +
            `${context.total} chunks)`,
        ),
      );
    }
    return out;
  }

  /** Forgets everything (after a seek the broker sends the chunks again). */
  clear(): void {
    this.#contexts.clear();
  }
}

function assemble(chunks: Chunk[], again: MessageId[] = []): AssembledChunks {
  const payload = new Uint8Array(chunks.reduce((n, c) => n + c.payload.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    payload.set(chunk.payload, offset);
    offset += chunk.payload.length;
  }
  return {
    ids: [...again, ...chunks.map((c) => c.id)],
    metadata: chunks[0].metadata,
    payload,
    redeliveryCount: Math.max(...chunks.map((c) => c.redeliveryCount)),
  };
}

function fail(context: Context, why: string): AssembledChunks {
  return failed(context.chunks, why, context.again);
}

function failed(chunks: Chunk[], why: string, again: MessageId[] = []): AssembledChunks {
  const whole = assemble(chunks, again);
  const last = chunks[chunks.length - 1];
  const uuid = last.metadata.uuid ?? "";
  whole.error = new MessageDecodeError(
    "chunk",
    `chunked message ${uuid} (ending at ${last.id.toHuman()}) ${why}`,
  );
  return whole;
}
