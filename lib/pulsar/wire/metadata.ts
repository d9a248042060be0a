/**
 * Message metadata: what travels with every payload (MessageMetadata), with every message inside
 * a batch (SingleMessageMetadata), and what the broker may prepend to an entry
 * (BrokerEntryMetadata).
 *
 * Wire grammar (PulsarApi.proto):
 * ```
 * MessageMetadata {
 *   required string producer_name = 1;  required uint64 sequence_id = 2;
 *   required uint64 publish_time = 3;   repeated KeyValue properties = 4;
 *   optional string replicated_from = 5;  optional string partition_key = 6;
 *   repeated string replicate_to = 7;  optional CompressionType compression = 8;
 *   optional uint32 uncompressed_size = 9;  optional int32 num_messages_in_batch = 11;
 *   optional uint64 event_time = 12;  repeated EncryptionKeys encryption_keys = 13;
 *   optional string encryption_algo = 14;  optional bytes encryption_param = 15;
 *   optional bytes schema_version = 16;  optional bool partition_key_b64_encoded = 17;
 *   optional bytes ordering_key = 18;  optional int64 deliver_at_time = 19;
 *   optional int32 marker_type = 20;  optional uint64 txnid_least_bits = 22;
 *   optional uint64 txnid_most_bits = 23;  optional uint64 highest_sequence_id = 24;
 *   optional bool null_value = 25;  optional string uuid = 26;
 *   optional int32 num_chunks_from_msg = 27;  optional int32 total_chunk_msg_size = 28;
 *   optional int32 chunk_id = 29;  optional bool null_partition_key = 30;
 * }
 * SingleMessageMetadata {
 *   repeated KeyValue properties = 1;  optional string partition_key = 2;
 *   required int32 payload_size = 3;  optional bool compacted_out = 4;
 *   optional uint64 event_time = 5;  optional bool partition_key_b64_encoded = 6;
 *   optional bytes ordering_key = 7;  optional uint64 sequence_id = 8;
 *   optional bool null_value = 9;  optional bool null_partition_key = 10;
 * }
 * BrokerEntryMetadata { optional uint64 broker_timestamp = 1; optional uint64 index = 2; }
 * EncryptionKeys { required string key = 1; required bytes value = 2; repeated KeyValue metadata = 3; }
 * ```
 *
 * @module
 */
import { defineMessage, type MessageSpec } from "./codec.ts";
import { COMPRESSION_TYPE, type CompressionType } from "./enums.ts";

/** A data key for an encrypted message. */
export interface EncryptionKeys {
  key: string;
  value: Uint8Array;
  metadata?: Record<string, string>;
}

/** Metadata of one entry: a single message or a whole batch. */
export interface MessageMetadata {
  producerName: string;
  sequenceId: number;
  /** Milliseconds since the epoch. */
  publishTime: number;
  properties?: Record<string, string>;
  replicatedFrom?: string;
  partitionKey?: string;
  replicateTo?: string[];
  compression?: CompressionType;
  uncompressedSize?: number;
  /** Present (even when 1) on batches; absent on a message sent alone. */
  numMessagesInBatch?: number;
  eventTime?: number;
  encryptionKeys?: EncryptionKeys[];
  encryptionAlgo?: string;
  encryptionParam?: Uint8Array;
  schemaVersion?: Uint8Array;
  partitionKeyB64Encoded?: boolean;
  orderingKey?: Uint8Array;
  deliverAtTime?: number;
  markerType?: number;
  txnidLeastBits?: number;
  txnidMostBits?: number;
  highestSequenceId?: number;
  nullValue?: boolean;
  uuid?: string;
  numChunksFromMsg?: number;
  totalChunkMsgSize?: number;
  chunkId?: number;
  nullPartitionKey?: boolean;
}

/** Metadata of one message inside a batch. */
export interface SingleMessageMetadata {
  properties?: Record<string, string>;
  partitionKey?: string;
  /** Length of the message's payload; `packBatch` sets it from the payload. */
  payloadSize: number;
  compactedOut?: boolean;
  eventTime?: number;
  partitionKeyB64Encoded?: boolean;
  orderingKey?: Uint8Array;
  sequenceId?: number;
  nullValue?: boolean;
  nullPartitionKey?: boolean;
}

/** What the broker adds to an entry when `brokerEntryMetadataInterceptors` are enabled. */
export interface BrokerEntryMetadata {
  brokerTimestamp?: number;
  index?: number;
}

const ENCRYPTION_KEYS: MessageSpec = defineMessage("EncryptionKeys", [
  { no: 1, name: "key", kind: "string", required: true },
  { no: 2, name: "value", kind: "bytes", required: true },
  { no: 3, name: "metadata", kind: "keyValues" },
]);

/** Codec spec of {@linkcode MessageMetadata}. */
export const MESSAGE_METADATA: MessageSpec = defineMessage("MessageMetadata", [
  { no: 1, name: "producerName", kind: "string", required: true },
  { no: 2, name: "sequenceId", kind: "uint64", required: true },
  { no: 3, name: "publishTime", kind: "uint64", required: true },
  { no: 4, name: "properties", kind: "keyValues" },
  { no: 5, name: "replicatedFrom", kind: "string" },
  { no: 6, name: "partitionKey", kind: "string" },
  { no: 7, name: "replicateTo", kind: "string", repeated: true },
  { no: 8, name: "compression", kind: COMPRESSION_TYPE },
  { no: 9, name: "uncompressedSize", kind: "uint32" },
  { no: 11, name: "numMessagesInBatch", kind: "int32" },
  { no: 12, name: "eventTime", kind: "uint64" },
  { no: 13, name: "encryptionKeys", kind: ENCRYPTION_KEYS, repeated: true },
  { no: 14, name: "encryptionAlgo", kind: "string" },
  { no: 15, name: "encryptionParam", kind: "bytes" },
  { no: 16, name: "schemaVersion", kind: "bytes" },
  { no: 17, name: "partitionKeyB64Encoded", kind: "bool" },
  { no: 18, name: "orderingKey", kind: "bytes" },
  { no: 19, name: "deliverAtTime", kind: "uint64" },
  { no: 20, name: "markerType", kind: "int32" },
  { no: 22, name: "txnidLeastBits", kind: "uint64" },
  { no: 23, name: "txnidMostBits", kind: "uint64" },
  { no: 24, name: "highestSequenceId", kind: "uint64" },
  { no: 25, name: "nullValue", kind: "bool" },
  { no: 26, name: "uuid", kind: "string" },
  { no: 27, name: "numChunksFromMsg", kind: "int32" },
  { no: 28, name: "totalChunkMsgSize", kind: "int32" },
  { no: 29, name: "chunkId", kind: "int32" },
  { no: 30, name: "nullPartitionKey", kind: "bool" },
]);

/** Codec spec of {@linkcode SingleMessageMetadata}. */
export const SINGLE_MESSAGE_METADATA: MessageSpec = defineMessage("SingleMessageMetadata", [
  { no: 1, name: "properties", kind: "keyValues" },
  { no: 2, name: "partitionKey", kind: "string" },
  { no: 3, name: "payloadSize", kind: "int32", required: true },
  { no: 4, name: "compactedOut", kind: "bool" },
  { no: 5, name: "eventTime", kind: "uint64" },
  { no: 6, name: "partitionKeyB64Encoded", kind: "bool" },
  { no: 7, name: "orderingKey", kind: "bytes" },
  { no: 8, name: "sequenceId", kind: "uint64" },
  { no: 9, name: "nullValue", kind: "bool" },
  { no: 10, name: "nullPartitionKey", kind: "bool" },
]);

/** Codec spec of {@linkcode BrokerEntryMetadata}. */
export const BROKER_ENTRY_METADATA: MessageSpec = defineMessage("BrokerEntryMetadata", [
  { no: 1, name: "brokerTimestamp", kind: "uint64" },
  { no: 2, name: "index", kind: "uint64" },
]);
