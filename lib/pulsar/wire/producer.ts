/**
 * Producer commands: create a producer, send messages, receive receipts, close.
 *
 * Wire grammar (PulsarApi.proto):
 * ```
 * PRODUCER(5)  CommandProducer { required string topic = 1; required uint64 producer_id = 2;
 *     required uint64 request_id = 3; optional string producer_name = 4; optional bool encrypted = 5;
 *     repeated KeyValue metadata = 6; optional Schema schema = 7; optional uint64 epoch = 8;
 *     optional bool user_provided_producer_name = 9; optional ProducerAccessMode producer_access_mode = 10;
 *     optional uint64 topic_epoch = 11; optional bool txn_enabled = 12;
 *     optional string initial_subscription_name = 13; }
 * PRODUCER_SUCCESS(17)  { required uint64 request_id = 1; required string producer_name = 2;
 *     optional int64 last_sequence_id = 3 [default -1]; optional bytes schema_version = 4;
 *     optional uint64 topic_epoch = 5; optional bool producer_ready = 6 [default true]; }
 * SEND(6)  CommandSend { required uint64 producer_id = 1; required uint64 sequence_id = 2;
 *     optional int32 num_messages = 3; optional uint64 txnid_least_bits = 4;
 *     optional uint64 txnid_most_bits = 5; optional uint64 highest_sequence_id = 6;
 *     optional bool is_chunk = 7; optional bool marker = 8; optional MessageIdData message_id = 9; }
 *   followed by the payload part of the frame (see frame.ts)
 * SEND_RECEIPT(7)  { required uint64 producer_id = 1; required uint64 sequence_id = 2;
 *     optional MessageIdData message_id = 3; optional uint64 highest_sequence_id = 4; }
 * SEND_ERROR(8)  { required uint64 producer_id = 1; required uint64 sequence_id = 2;
 *     required ServerError error = 3; required string message = 4; }
 * CLOSE_PRODUCER(15)  { required uint64 producer_id = 1; required uint64 request_id = 2;
 *     optional string assignedBrokerServiceUrl = 3; optional string assignedBrokerServiceUrlTls = 4; }
 * ProducerAccessMode: Shared 0, Exclusive 1, WaitForExclusive 2, ExclusiveWithFencing 3
 * ```
 *
 * @module
 */
import { defineEnum, defineMessage, type MessageSpec } from "./codec.ts";
import { SERVER_ERROR, type ServerError } from "./enums.ts";
import { SCHEMA, type Schema } from "./schema.ts";
import { MESSAGE_ID_DATA, type MessageIdData } from "./message_id.ts";

/** Who may publish on a topic alongside this producer. */
export type ProducerAccessMode =
  | "Shared"
  | "Exclusive"
  | "WaitForExclusive"
  | "ExclusiveWithFencing";

/** Creates a producer on a topic. */
export interface ProducerCommand {
  type: "PRODUCER";
  topic: string;
  producerId: number;
  requestId: number;
  producerName?: string;
  encrypted?: boolean;
  metadata?: Record<string, string>;
  schema?: Schema;
  epoch?: number;
  userProvidedProducerName?: boolean;
  producerAccessMode?: ProducerAccessMode;
  topicEpoch?: number;
  txnEnabled?: boolean;
  initialSubscriptionName?: string;
}

/** The producer exists (or, with `producerReady: false`, waits for exclusive access). */
export interface ProducerSuccessCommand {
  type: "PRODUCER_SUCCESS";
  requestId: number;
  producerName: string;
  /** Last sequence id stored for this producer name; -1 when none (the default). */
  lastSequenceId: number;
  schemaVersion?: Uint8Array;
  topicEpoch?: number;
  producerReady: boolean;
}

/** Publishes one entry (a message or a batch); the frame carries metadata and payload. */
export interface SendCommand {
  type: "SEND";
  producerId: number;
  sequenceId: number;
  numMessages?: number;
  txnidLeastBits?: number;
  txnidMostBits?: number;
  highestSequenceId?: number;
  isChunk?: boolean;
  marker?: boolean;
  messageId?: MessageIdData;
}

/** The entry with this sequence id is stored. */
export interface SendReceiptCommand {
  type: "SEND_RECEIPT";
  producerId: number;
  sequenceId: number;
  messageId?: MessageIdData;
  highestSequenceId?: number;
}

/** The entry with this sequence id was not stored. */
export interface SendErrorCommand {
  type: "SEND_ERROR";
  producerId: number;
  sequenceId: number;
  error: ServerError;
  message: string;
}

/** Closes a producer (client → broker), or tells the client its producer was closed. */
export interface CloseProducerCommand {
  type: "CLOSE_PRODUCER";
  producerId: number;
  requestId: number;
  /** Set when the topic moved: reconnect there without a lookup. */
  assignedBrokerServiceUrl?: string;
  assignedBrokerServiceUrlTls?: string;
}

const ACCESS_MODE = defineEnum({
  Shared: 0,
  Exclusive: 1,
  WaitForExclusive: 2,
  ExclusiveWithFencing: 3,
});

/** Codec specs of the producer commands, by command type. */
export const PRODUCER_SPECS: Record<string, MessageSpec> = {
  PRODUCER: defineMessage("CommandProducer", [
    { no: 1, name: "topic", kind: "string", required: true },
    { no: 2, name: "producerId", kind: "uint64", required: true },
    { no: 3, name: "requestId", kind: "uint64", required: true },
    { no: 4, name: "producerName", kind: "string" },
    { no: 5, name: "encrypted", kind: "bool" },
    { no: 6, name: "metadata", kind: "keyValues" },
    { no: 7, name: "schema", kind: SCHEMA },
    { no: 8, name: "epoch", kind: "uint64" },
    { no: 9, name: "userProvidedProducerName", kind: "bool" },
    { no: 10, name: "producerAccessMode", kind: ACCESS_MODE },
    { no: 11, name: "topicEpoch", kind: "uint64" },
    { no: 12, name: "txnEnabled", kind: "bool" },
    { no: 13, name: "initialSubscriptionName", kind: "string" },
  ]),
  PRODUCER_SUCCESS: defineMessage("CommandProducerSuccess", [
    { no: 1, name: "requestId", kind: "uint64", required: true },
    { no: 2, name: "producerName", kind: "string", required: true },
    { no: 3, name: "lastSequenceId", kind: "uint64", default: -1 },
    { no: 4, name: "schemaVersion", kind: "bytes" },
    { no: 5, name: "topicEpoch", kind: "uint64" },
    { no: 6, name: "producerReady", kind: "bool", default: true },
  ]),
  SEND: defineMessage("CommandSend", [
    { no: 1, name: "producerId", kind: "uint64", required: true },
    { no: 2, name: "sequenceId", kind: "uint64", required: true },
    { no: 3, name: "numMessages", kind: "int32" },
    { no: 4, name: "txnidLeastBits", kind: "uint64" },
    { no: 5, name: "txnidMostBits", kind: "uint64" },
    { no: 6, name: "highestSequenceId", kind: "uint64" },
    { no: 7, name: "isChunk", kind: "bool" },
    { no: 8, name: "marker", kind: "bool" },
    { no: 9, name: "messageId", kind: MESSAGE_ID_DATA },
  ]),
  SEND_RECEIPT: defineMessage("CommandSendReceipt", [
    { no: 1, name: "producerId", kind: "uint64", required: true },
    { no: 2, name: "sequenceId", kind: "uint64", required: true },
    { no: 3, name: "messageId", kind: MESSAGE_ID_DATA },
    { no: 4, name: "highestSequenceId", kind: "uint64" },
  ]),
  SEND_ERROR: defineMessage("CommandSendError", [
    { no: 1, name: "producerId", kind: "uint64", required: true },
    { no: 2, name: "sequenceId", kind: "uint64", required: true },
    { no: 3, name: "error", kind: SERVER_ERROR, required: true },
    { no: 4, name: "message", kind: "string", required: true },
  ]),
  CLOSE_PRODUCER: defineMessage("CommandCloseProducer", [
    { no: 1, name: "producerId", kind: "uint64", required: true },
    { no: 2, name: "requestId", kind: "uint64", required: true },
    { no: 3, name: "assignedBrokerServiceUrl", kind: "string" },
    { no: 4, name: "assignedBrokerServiceUrlTls", kind: "string" },
  ]),
};
