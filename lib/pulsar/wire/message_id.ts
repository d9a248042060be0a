/**
 * MessageIdData: where a message lives (ledger, entry) and, for batches, which message inside.
 *
 * Wire grammar (PulsarApi.proto):
 * ```
 * MessageIdData {
 *   required uint64 ledgerId = 1;  required uint64 entryId = 2;
 *   optional int32 partition = 3 [default = -1];  optional int32 batch_index = 4 [default = -1];
 *   repeated int64 ack_set = 5;  optional int32 batch_size = 6;
 *   optional MessageIdData first_chunk_message_id = 7;
 * }
 * ```
 *
 * `ledgerId` and `entryId` are {@linkcode Long}s so that the special ids round-trip exactly:
 * earliest is (-1, -1) and latest is (2^63-1, 2^63-1) — a bigint, since it is past 2^53.
 *
 * @module
 */
import { defineMessage, type MessageSpec } from "./codec.ts";
import type { Long } from "./protobuf.ts";

/** A message id as the broker sends and expects it. */
export interface MessageIdData {
  ledgerId: Long;
  entryId: Long;
  /** -1 for a non-partitioned topic (the default when absent on the wire). */
  partition?: number;
  /** Index inside a batch; -1 (the default) for a message that is not batched. */
  batchIndex?: number;
  /** Bit words of a partially acknowledged batch (java.util.BitSet#toLongArray). */
  ackSet?: Long[];
  batchSize?: number;
  firstChunkMessageId?: MessageIdData;
}

/** The earliest position of a topic. */
export const EARLIEST_MESSAGE_ID: MessageIdData = Object.freeze({ ledgerId: -1, entryId: -1 });

/** The latest position of a topic: (Long.MAX_VALUE, Long.MAX_VALUE). */
export const LATEST_MESSAGE_ID: MessageIdData = Object.freeze({
  ledgerId: 0x7fffffffffffffffn,
  entryId: 0x7fffffffffffffffn,
});

/** Codec spec of {@linkcode MessageIdData}. */
export const MESSAGE_ID_DATA: MessageSpec = defineMessage("MessageIdData", (self) => [
  { no: 1, name: "ledgerId", kind: "long", required: true },
  { no: 2, name: "entryId", kind: "long", required: true },
  { no: 3, name: "partition", kind: "int32", default: -1 },
  { no: 4, name: "batchIndex", kind: "int32", default: -1 },
  { no: 5, name: "ackSet", kind: "long", repeated: true },
  { no: 6, name: "batchSize", kind: "int32" },
  { no: 7, name: "firstChunkMessageId", kind: self },
]);
