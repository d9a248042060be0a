/**
 * Transaction commands: connect to a transaction coordinator, open a transaction, register the
 * partitions it produces to and the subscriptions it acknowledges on, and end it.
 *
 * Wire grammar (PulsarApi.proto):
 * ```
 * TC_CLIENT_CONNECT_REQUEST(62)  { required uint64 request_id = 1; required uint64 tc_id = 2 [default 0]; }
 * TC_CLIENT_CONNECT_RESPONSE(63)  { required uint64 request_id = 1; optional ServerError error = 2;
 *     optional string message = 3; }
 * NEW_TXN(50)  { required uint64 request_id = 1; optional uint64 txn_ttl_seconds = 2 [default 0];
 *     optional uint64 tc_id = 3 [default 0]; }
 * NEW_TXN_RESPONSE(51)  { required uint64 request_id = 1; optional uint64 txnid_least_bits = 2 [default 0];
 *     optional uint64 txnid_most_bits = 3 [default 0]; optional ServerError error = 4; optional string message = 5; }
 * ADD_PARTITION_TO_TXN(52)  { required uint64 request_id = 1; optional uint64 txnid_least_bits = 2;
 *     optional uint64 txnid_most_bits = 3; repeated string partitions = 4; }
 * ADD_PARTITION_TO_TXN_RESPONSE(53)  { required uint64 request_id = 1; optional uint64 txnid_least_bits = 2;
 *     optional uint64 txnid_most_bits = 3; optional ServerError error = 4; optional string message = 5; }
 * ADD_SUBSCRIPTION_TO_TXN(54)  { required uint64 request_id = 1; optional uint64 txnid_least_bits = 2;
 *     optional uint64 txnid_most_bits = 3; repeated Subscription subscription = 4; }
 * Subscription { required string topic = 1; required string subscription = 2; }
 * ADD_SUBSCRIPTION_TO_TXN_RESPONSE(55)  { required uint64 request_id = 1; optional uint64 txnid_least_bits = 2;
 *     optional uint64 txnid_most_bits = 3; optional ServerError error = 4; optional string message = 5; }
 * END_TXN(56)  { required uint64 request_id = 1; optional uint64 txnid_least_bits = 2;
 *     optional uint64 txnid_most_bits = 3; optional TxnAction txn_action = 4 (COMMIT 0, ABORT 1); }
 * END_TXN_RESPONSE(57)  { required uint64 request_id = 1; optional uint64 txnid_least_bits = 2;
 *     optional uint64 txnid_most_bits = 3; optional ServerError error = 4; optional string message = 5; }
 * ```
 * A transaction id is (most bits = the coordinator's number, least bits = a counter of that
 * coordinator); both are below 2^53 in practice and travel as JS numbers.
 *
 * @module
 */
import { defineEnum, defineMessage, type FieldSpec, type MessageSpec } from "./codec.ts";
import { SERVER_ERROR, type ServerError } from "./enums.ts";

/** Asks a broker to serve transaction coordinator `tcId` on this connection. */
export interface TcClientConnectRequestCommand {
  type: "TC_CLIENT_CONNECT_REQUEST";
  requestId: number;
  tcId: number;
}

/** The coordinator is ready on this connection (or `error` says why not). */
export interface TcClientConnectResponseCommand {
  type: "TC_CLIENT_CONNECT_RESPONSE";
  requestId: number;
  error?: ServerError;
  message?: string;
}

/** Opens a transaction; the coordinator aborts it when its timeout passes. */
export interface NewTxnCommand {
  type: "NEW_TXN";
  requestId: number;
  /** The timeout; despite the proto name, the broker reads it as milliseconds. */
  txnTtlSeconds?: number;
  tcId?: number;
}

/** Fields every transaction answer carries. */
interface TxnAnswer {
  requestId: number;
  txnidLeastBits: number;
  txnidMostBits: number;
  error?: ServerError;
  message?: string;
}

/** The new transaction's id. */
export interface NewTxnResponseCommand extends TxnAnswer {
  type: "NEW_TXN_RESPONSE";
}

/** Registers topic partitions the transaction produces to. */
export interface AddPartitionToTxnCommand {
  type: "ADD_PARTITION_TO_TXN";
  requestId: number;
  txnidLeastBits?: number;
  txnidMostBits?: number;
  partitions?: string[];
}

/** Answer to {@linkcode AddPartitionToTxnCommand}. */
export interface AddPartitionToTxnResponseCommand extends TxnAnswer {
  type: "ADD_PARTITION_TO_TXN_RESPONSE";
}

/** A topic's subscription. */
export interface TxnSubscription {
  topic: string;
  subscription: string;
}

/** Registers subscriptions the transaction acknowledges on. */
export interface AddSubscriptionToTxnCommand {
  type: "ADD_SUBSCRIPTION_TO_TXN";
  requestId: number;
  txnidLeastBits?: number;
  txnidMostBits?: number;
  subscription?: TxnSubscription[];
}

/** Answer to {@linkcode AddSubscriptionToTxnCommand}. */
export interface AddSubscriptionToTxnResponseCommand extends TxnAnswer {
  type: "ADD_SUBSCRIPTION_TO_TXN_RESPONSE";
}

/** How a transaction ends. */
export type TxnAction = "COMMIT" | "ABORT";

/** Commits or aborts a transaction. */
export interface EndTxnCommand {
  type: "END_TXN";
  requestId: number;
  txnidLeastBits?: number;
  txnidMostBits?: number;
  txnAction?: TxnAction;
}

/** Answer to {@linkcode EndTxnCommand}. */
export interface EndTxnResponseCommand extends TxnAnswer {
  type: "END_TXN_RESPONSE";
}

const TXN_ACTION = defineEnum({ COMMIT: 0, ABORT: 1 });

const SUBSCRIPTION = defineMessage("Subscription", [
  { no: 1, name: "topic", kind: "string", required: true },
  { no: 2, name: "subscription", kind: "string", required: true },
]);

const REQUEST_ID: FieldSpec = { no: 1, name: "requestId", kind: "uint64", required: true };
const TXN_ID: FieldSpec[] = [
  { no: 2, name: "txnidLeastBits", kind: "uint64" },
  { no: 3, name: "txnidMostBits", kind: "uint64" },
];
const TXN_ID_DEFAULT_0: FieldSpec[] = TXN_ID.map((f) => ({ ...f, default: 0 }));

function answer(name: string): MessageSpec {
  return defineMessage(name, [
    REQUEST_ID,
    ...TXN_ID_DEFAULT_0,
    { no: 4, name: "error", kind: SERVER_ERROR },
    { no: 5, name: "message", kind: "string" },
  ]);
}

/** Codec specs of the transaction commands, by command type. */
export const TRANSACTION_SPECS: Record<string, MessageSpec> = {
  TC_CLIENT_CONNECT_REQUEST: defineMessage("CommandTcClientConnectRequest", [
    REQUEST_ID,
    { no: 2, name: "tcId", kind: "uint64", required: true },
  ]),
  TC_CLIENT_CONNECT_RESPONSE: defineMessage("CommandTcClientConnectResponse", [
    REQUEST_ID,
    { no: 2, name: "error", kind: SERVER_ERROR },
    { no: 3, name: "message", kind: "string" },
  ]),
  NEW_TXN: defineMessage("CommandNewTxn", [
    REQUEST_ID,
    { no: 2, name: "txnTtlSeconds", kind: "uint64" },
    { no: 3, name: "tcId", kind: "uint64" },
  ]),
  NEW_TXN_RESPONSE: answer("CommandNewTxnResponse"),
  ADD_PARTITION_TO_TXN: defineMessage("CommandAddPartitionToTxn", [
    REQUEST_ID,
    ...TXN_ID,
    { no: 4, name: "partitions", kind: "string", repeated: true },
  ]),
  ADD_PARTITION_TO_TXN_RESPONSE: answer("CommandAddPartitionToTxnResponse"),
  ADD_SUBSCRIPTION_TO_TXN: defineMessage("CommandAddSubscriptionToTxn", [
    REQUEST_ID,
    ...TXN_ID,
    { no: 4, name: "subscription", kind: SUBSCRIPTION, repeated: true },
  ]),
  ADD_SUBSCRIPTION_TO_TXN_RESPONSE: answer("CommandAddSubscriptionToTxnResponse"),
  END_TXN: defineMessage("CommandEndTxn", [
    REQUEST_ID,
    ...TXN_ID,
    { no: 4, name: "txnAction", kind: TXN_ACTION },
  ]),
  END_TXN_RESPONSE: answer("CommandEndTxnResponse"),
};
