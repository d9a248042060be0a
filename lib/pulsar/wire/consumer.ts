/**
 * Consumer commands: subscribe, flow control, message delivery, acknowledgement, redelivery,
 * seeking, and the broker's notices to a consumer.
 *
 * Wire grammar (PulsarApi.proto):
 * ```
 * SUBSCRIBE(4)  CommandSubscribe { required string topic = 1; required string subscription = 2;
 *     required SubType subType = 3 (Exclusive 0, Shared 1, Failover 2, Key_Shared 3);
 *     required uint64 consumer_id = 4; required uint64 request_id = 5; optional string consumer_name = 6;
 *     optional int32 priority_level = 7; optional bool durable = 8; optional MessageIdData start_message_id = 9;
 *     repeated KeyValue metadata = 10; optional bool read_compacted = 11; optional Schema schema = 12;
 *     optional InitialPosition initialPosition = 13 (Latest 0, Earliest 1);
 *     optional bool replicate_subscription_state = 14; optional bool force_topic_creation = 15;
 *     optional uint64 start_message_rollback_duration_sec = 16; optional KeySharedMeta keySharedMeta = 17;
 *     repeated KeyValue subscription_properties = 18; optional uint64 consumer_epoch = 19; }
 * KeySharedMeta { required KeySharedMode keySharedMode = 1 (AUTO_SPLIT 0, STICKY 1);
 *     repeated IntRange hashRanges = 3; optional bool allowOutOfOrderDelivery = 4; }
 * IntRange { required int32 start = 1; required int32 end = 2; }
 * FLOW(11)  { required uint64 consumer_id = 1; required uint32 messagePermits = 2; }
 * MESSAGE(9)  { required uint64 consumer_id = 1; required MessageIdData message_id = 2;
 *     optional uint32 redelivery_count = 3; repeated int64 ack_set = 4; optional uint64 consumer_epoch = 5; }
 *   followed by the payload part of the frame (see frame.ts)
 * ACK(10)  { required uint64 consumer_id = 1; required AckType ack_type = 2 (Individual 0, Cumulative 1);
 *     repeated MessageIdData message_id = 3; optional ValidationError validation_error = 4;
 *     repeated KeyLongValue properties = 5; optional uint64 txnid_least_bits = 6;
 *     optional uint64 txnid_most_bits = 7; optional uint64 request_id = 8; }
 * ACK_RESPONSE(38)  { required uint64 consumer_id = 1; optional uint64 txnid_least_bits = 2;
 *     optional uint64 txnid_most_bits = 3; optional ServerError error = 4; optional string message = 5;
 *     optional uint64 request_id = 6; }
 *   an ACK inside a transaction (txnid_* and request_id set) may carry many message_ids (whole
 *   entries); the broker answers it with one ACK_RESPONSE of that request_id, for all of them
 * REDELIVER_UNACKNOWLEDGED_MESSAGES(20)  { required uint64 consumer_id = 1;
 *     repeated MessageIdData message_ids = 2; optional uint64 consumer_epoch = 3; }
 * UNSUBSCRIBE(12)  { required uint64 consumer_id = 1; required uint64 request_id = 2; optional bool force = 3; }
 * CLOSE_CONSUMER(16)  { required uint64 consumer_id = 1; required uint64 request_id = 2;
 *     optional string assignedBrokerServiceUrl = 3; optional string assignedBrokerServiceUrlTls = 4; }
 * SEEK(28)  { required uint64 consumer_id = 1; required uint64 request_id = 2;
 *     optional MessageIdData message_id = 3; optional uint64 message_publish_time = 4; }
 * GET_LAST_MESSAGE_ID(29)  { required uint64 consumer_id = 1; required uint64 request_id = 2; }
 * GET_LAST_MESSAGE_ID_RESPONSE(30)  { required MessageIdData last_message_id = 1;
 *     required uint64 request_id = 2; optional MessageIdData consumer_mark_delete_position = 3; }
 * ACTIVE_CONSUMER_CHANGE(31)  { required uint64 consumer_id = 1; optional bool is_active = 2; }
 * REACHED_END_OF_TOPIC(27)  { required uint64 consumer_id = 1; }
 * CONSUMER_STATS(25)  { required uint64 request_id = 1; required uint64 consumer_id = 4; }
 * CONSUMER_STATS_RESPONSE(26)  { required uint64 request_id = 1; optional ServerError error_code = 2;
 *     optional string error_message = 3; optional double msgRateOut = 4; msgThroughputOut = 5;
 *     msgRateRedeliver = 6; optional string consumerName = 7; optional uint64 availablePermits = 8;
 *     unackedMessages = 9; optional bool blockedConsumerOnUnackedMsgs = 10; optional string address = 11;
 *     connectedSince = 12; type = 13; optional double msgRateExpired = 14; optional uint64 msgBacklog = 15;
 *     optional double messageAckRate = 16; }
 * ```
 *
 * @module
 */
import { defineEnum, defineMessage, type MessageSpec } from "./codec.ts";
import { SERVER_ERROR, type ServerError } from "./enums.ts";
import { SCHEMA, type Schema } from "./schema.ts";
import { MESSAGE_ID_DATA, type MessageIdData } from "./message_id.ts";
import type { Long } from "./protobuf.ts";

/** How messages of a subscription are spread over its consumers. */
export type SubType = "Exclusive" | "Shared" | "Failover" | "Key_Shared";

/** Key_Shared settings of a consumer. */
export interface KeySharedMeta {
  keySharedMode: "AUTO_SPLIT" | "STICKY";
  hashRanges?: { start: number; end: number }[];
  allowOutOfOrderDelivery?: boolean;
}

/** Creates a consumer on a subscription. */
export interface SubscribeCommand {
  type: "SUBSCRIBE";
  topic: string;
  subscription: string;
  subType: SubType;
  consumerId: number;
  requestId: number;
  consumerName?: string;
  priorityLevel?: number;
  durable?: boolean;
  startMessageId?: MessageIdData;
  metadata?: Record<string, string>;
  readCompacted?: boolean;
  schema?: Schema;
  initialPosition?: "Latest" | "Earliest";
  replicateSubscriptionState?: boolean;
  forceTopicCreation?: boolean;
  startMessageRollbackDurationSec?: number;
  keySharedMeta?: KeySharedMeta;
  subscriptionProperties?: Record<string, string>;
  consumerEpoch?: number;
}

/** Grants the broker permits to push more messages. */
export interface FlowCommand {
  type: "FLOW";
  consumerId: number;
  messagePermits: number;
}

/** A delivered entry; the frame carries metadata and payload. */
export interface MessageCommand {
  type: "MESSAGE";
  consumerId: number;
  messageId: MessageIdData;
  /** 0 (the default) on first delivery. */
  redeliveryCount: number;
  /** Which messages of a batch are still unacknowledged (BitSet words). */
  ackSet?: Long[];
  consumerEpoch?: number;
}

/** Why a client discarded a message it could not read. */
export type ValidationError =
  | "UncompressedSizeCorruption"
  | "DecompressionError"
  | "ChecksumMismatch"
  | "BatchDeSerializeError"
  | "DecryptionError";

/** Acknowledges messages. */
export interface AckCommand {
  type: "ACK";
  consumerId: number;
  ackType: "Individual" | "Cumulative";
  messageId?: MessageIdData[];
  validationError?: ValidationError;
  properties?: Record<string, number>;
  txnidLeastBits?: number;
  txnidMostBits?: number;
  /** Set to ask for an ACK_RESPONSE. */
  requestId?: number;
}

/** Answer to an ACK that carried a request id. */
export interface AckResponseCommand {
  type: "ACK_RESPONSE";
  consumerId: number;
  txnidLeastBits?: number;
  txnidMostBits?: number;
  error?: ServerError;
  message?: string;
  requestId?: number;
}

/** Asks the broker to deliver unacknowledged messages again (all, or the listed ones). */
export interface RedeliverUnacknowledgedMessagesCommand {
  type: "REDELIVER_UNACKNOWLEDGED_MESSAGES";
  consumerId: number;
  messageIds?: MessageIdData[];
  consumerEpoch?: number;
}

/** Deletes the subscription of a consumer. */
export interface UnsubscribeCommand {
  type: "UNSUBSCRIBE";
  consumerId: number;
  requestId: number;
  force?: boolean;
}

/** Closes a consumer (client → broker), or tells the client its consumer was closed. */
export interface CloseConsumerCommand {
  type: "CLOSE_CONSUMER";
  consumerId: number;
  requestId: number;
  assignedBrokerServiceUrl?: string;
  assignedBrokerServiceUrlTls?: string;
}

/** Moves a subscription's cursor to a message id or a publish time. */
export interface SeekCommand {
  type: "SEEK";
  consumerId: number;
  requestId: number;
  messageId?: MessageIdData;
  messagePublishTime?: number;
}

/** Asks for the id of the last message of the topic. */
export interface GetLastMessageIdCommand {
  type: "GET_LAST_MESSAGE_ID";
  consumerId: number;
  requestId: number;
}

/** The id of the last message of the topic. */
export interface GetLastMessageIdResponseCommand {
  type: "GET_LAST_MESSAGE_ID_RESPONSE";
  lastMessageId: MessageIdData;
  requestId: number;
  consumerMarkDeletePosition?: MessageIdData;
}

/** A Failover consumer became (or stopped being) the active one. */
export interface ActiveConsumerChangeCommand {
  type: "ACTIVE_CONSUMER_CHANGE";
  consumerId: number;
  isActive?: boolean;
}

/** The topic was terminated and the consumer has read everything. */
export interface ReachedEndOfTopicCommand {
  type: "REACHED_END_OF_TOPIC";
  consumerId: number;
}

/** Asks for a consumer's broker-side statistics. */
export interface ConsumerStatsCommand {
  type: "CONSUMER_STATS";
  requestId: number;
  consumerId: number;
}

/** A consumer's broker-side statistics. */
export interface ConsumerStatsResponseCommand {
  type: "CONSUMER_STATS_RESPONSE";
  requestId: number;
  errorCode?: ServerError;
  errorMessage?: string;
  msgRateOut?: number;
  msgThroughputOut?: number;
  msgRateRedeliver?: number;
  consumerName?: string;
  availablePermits?: number;
  unackedMessages?: number;
  blockedConsumerOnUnackedMsgs?: boolean;
  address?: string;
  connectedSince?: string;
  /** The subscription type, as text. */
  subscriptionType?: string;
  msgRateExpired?: number;
  msgBacklog?: number;
  messageAckRate?: number;
}

const KEY_SHARED_META = defineMessage("KeySharedMeta", [
  { no: 1, name: "keySharedMode", kind: defineEnum({ AUTO_SPLIT: 0, STICKY: 1 }), required: true },
  {
    no: 3,
    name: "hashRanges",
    repeated: true,
    kind: defineMessage("IntRange", [
      { no: 1, name: "start", kind: "int32", required: true },
      { no: 2, name: "end", kind: "int32", required: true },
    ]),
  },
  { no: 4, name: "allowOutOfOrderDelivery", kind: "bool" },
]);

const CONSUMER_ID = { no: 1, name: "consumerId", kind: "uint64", required: true } as const;
const REQUEST_ID = { no: 2, name: "requestId", kind: "uint64", required: true } as const;

/** Codec specs of the consumer commands, by command type. */
export const CONSUMER_SPECS: Record<string, MessageSpec> = {
  SUBSCRIBE: defineMessage("CommandSubscribe", [
    { no: 1, name: "topic", kind: "string", required: true },
    { no: 2, name: "subscription", kind: "string", required: true },
    {
      no: 3,
      name: "subType",
      required: true,
      kind: defineEnum({ Exclusive: 0, Shared: 1, Failover: 2, Key_Shared: 3 }),
    },
    { no: 4, name: "consumerId", kind: "uint64", required: true },
    { no: 5, name: "requestId", kind: "uint64", required: true },
    { no: 6, name: "consumerName", kind: "string" },
    { no: 7, name: "priorityLevel", kind: "int32" },
    { no: 8, name: "durable", kind: "bool" },
    { no: 9, name: "startMessageId", kind: MESSAGE_ID_DATA },
    { no: 10, name: "metadata", kind: "keyValues" },
    { no: 11, name: "readCompacted", kind: "bool" },
    { no: 12, name: "schema", kind: SCHEMA },
    { no: 13, name: "initialPosition", kind: defineEnum({ Latest: 0, Earliest: 1 }) },
    { no: 14, name: "replicateSubscriptionState", kind: "bool" },
    { no: 15, name: "forceTopicCreation", kind: "bool" },
    { no: 16, name: "startMessageRollbackDurationSec", kind: "uint64" },
    { no: 17, name: "keySharedMeta", kind: KEY_SHARED_META },
    { no: 18, name: "subscriptionProperties", kind: "keyValues" },
    { no: 19, name: "consumerEpoch", kind: "uint64" },
  ]),
  FLOW: defineMessage("CommandFlow", [
    CONSUMER_ID,
    { no: 2, name: "messagePermits", kind: "uint32", required: true },
  ]),
  MESSAGE: defineMessage("CommandMessage", [
    CONSUMER_ID,
    { no: 2, name: "messageId", kind: MESSAGE_ID_DATA, required: true },
    { no: 3, name: "redeliveryCount", kind: "uint32", default: 0 },
    { no: 4, name: "ackSet", kind: "long", repeated: true },
    { no: 5, name: "consumerEpoch", kind: "uint64" },
  ]),
  ACK: defineMessage("CommandAck", [
    CONSUMER_ID,
    {
      no: 2,
      name: "ackType",
      kind: defineEnum({ Individual: 0, Cumulative: 1 }),
      required: true,
    },
    { no: 3, name: "messageId", kind: MESSAGE_ID_DATA, repeated: true },
    {
      no: 4,
      name: "validationError",
      kind: defineEnum({
        UncompressedSizeCorruption: 0,
        DecompressionError: 1,
        ChecksumMismatch: 2,
        BatchDeSerializeError: 3,
        DecryptionError: 4,
      }),
    },
    { no: 5, name: "properties", kind: "keyLongValues" },
    { no: 6, name: "txnidLeastBits", kind: "uint64" },
    { no: 7, name: "txnidMostBits", kind: "uint64" },
    { no: 8, name: "requestId", kind: "uint64" },
  ]),
  ACK_RESPONSE: defineMessage("CommandAckResponse", [
    CONSUMER_ID,
    { no: 2, name: "txnidLeastBits", kind: "uint64" },
    { no: 3, name: "txnidMostBits", kind: "uint64" },
    { no: 4, name: "error", kind: SERVER_ERROR },
    { no: 5, name: "message", kind: "string" },
    { no: 6, name: "requestId", kind: "uint64" },
  ]),
  REDELIVER_UNACKNOWLEDGED_MESSAGES: defineMessage("CommandRedeliverUnacknowledgedMessages", [
    CONSUMER_ID,
    { no: 2, name: "messageIds", kind: MESSAGE_ID_DATA, repeated: true },
    { no: 3, name: "consumerEpoch", kind: "uint64" },
  ]),
  UNSUBSCRIBE: defineMessage("CommandUnsubscribe", [
    CONSUMER_ID,
    REQUEST_ID,
    { no: 3, name: "force", kind: "bool" },
  ]),
  CLOSE_CONSUMER: defineMessage("CommandCloseConsumer", [
    CONSUMER_ID,
    REQUEST_ID,
    { no: 3, name: "assignedBrokerServiceUrl", kind: "string" },
    { no: 4, name: "assignedBrokerServiceUrlTls", kind: "string" },
  ]),
  SEEK: defineMessage("CommandSeek", [
    CONSUMER_ID,
    REQUEST_ID,
    { no: 3, name: "messageId", kind: MESSAGE_ID_DATA },
    { no: 4, name: "messagePublishTime", kind: "uint64" },
  ]),
  GET_LAST_MESSAGE_ID: defineMessage("CommandGetLastMessageId", [CONSUMER_ID, REQUEST_ID]),
  GET_LAST_MESSAGE_ID_RESPONSE: defineMessage("CommandGetLastMessageIdResponse", [
    { no: 1, name: "lastMessageId", kind: MESSAGE_ID_DATA, required: true },
    REQUEST_ID,
    { no: 3, name: "consumerMarkDeletePosition", kind: MESSAGE_ID_DATA },
  ]),
  ACTIVE_CONSUMER_CHANGE: defineMessage("CommandActiveConsumerChange", [
    CONSUMER_ID,
    { no: 2, name: "isActive", kind: "bool" },
  ]),
  REACHED_END_OF_TOPIC: defineMessage("CommandReachedEndOfTopic", [CONSUMER_ID]),
  CONSUMER_STATS: defineMessage("CommandConsumerStats", [
    { no: 1, name: "requestId", kind: "uint64", required: true },
    { no: 4, name: "consumerId", kind: "uint64", required: true },
  ]),
  CONSUMER_STATS_RESPONSE: defineMessage("CommandConsumerStatsResponse", [
    { no: 1, name: "requestId", kind: "uint64", required: true },
    { no: 2, name: "errorCode", kind: SERVER_ERROR },
    { no: 3, name: "errorMessage", kind: "string" },
    { no: 4, name: "msgRateOut", kind: "double" },
    { no: 5, name: "msgThroughputOut", kind: "double" },
    { no: 6, name: "msgRateRedeliver", kind: "double" },
    { no: 7, name: "consumerName", kind: "string" },
    { no: 8, name: "availablePermits", kind: "uint64" },
    { no: 9, name: "unackedMessages", kind: "uint64" },
    { no: 10, name: "blockedConsumerOnUnackedMsgs", kind: "bool" },
    { no: 11, name: "address", kind: "string" },
    { no: 12, name: "connectedSince", kind: "string" },
    // Named `type` on the wire; renamed because `type` names the command.
    { no: 13, name: "subscriptionType", kind: "string" },
    { no: 14, name: "msgRateExpired", kind: "double" },
    { no: 15, name: "msgBacklog", kind: "uint64" },
    { no: 16, name: "messageAckRate", kind: "double" },
  ]),
};
