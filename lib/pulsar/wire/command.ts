/**
 * The `Command` union and the BaseCommand envelope around every command.
 *
 * Wire grammar:
 * ```
 * BaseCommand { required Type type = 1; optional Command<type> <field = type number> = N; }
 * ```
 * Every command travels as field number N of BaseCommand, where N is its type number
 * (CONNECT = 2 … TOPIC_MIGRATED = 68); a command is a flat object `{ type: "<TYPE>", …fields }`.
 *
 * @module
 */
import { decodeMessage, encodeMessage, type MessageSpec } from "./codec.ts";
import type * as C from "./connect.ts";
import { CONNECT_SPECS } from "./connect.ts";
import type * as K from "./consumer.ts";
import { CONSUMER_SPECS } from "./consumer.ts";
import { ProtocolError } from "./errors.ts";
import type * as L from "./lookup.ts";
import { LOOKUP_SPECS } from "./lookup.ts";
import type * as P from "./producer.ts";
import { PRODUCER_SPECS } from "./producer.ts";
import { type ProtoReader, type ProtoWriter, WIRE } from "./protobuf.ts";
import type * as R from "./response.ts";
import { RESPONSE_SPECS } from "./response.ts";
import type * as S from "./schema.ts";
import { SCHEMA_SPECS } from "./schema.ts";
import type * as T from "./transaction.ts";
import { TRANSACTION_SPECS } from "./transaction.ts";

/** The newest protocol version this codec speaks (Pulsar 4.0 brokers speak 21). */
export const PROTOCOL_VERSION = 21;

/** BaseCommand.Type numbers of the commands this codec knows. */
export const COMMAND_TYPES = {
  CONNECT: 2,
  CONNECTED: 3,
  SUBSCRIBE: 4,
  PRODUCER: 5,
  SEND: 6,
  SEND_RECEIPT: 7,
  SEND_ERROR: 8,
  MESSAGE: 9,
  ACK: 10,
  FLOW: 11,
  UNSUBSCRIBE: 12,
  SUCCESS: 13,
  ERROR: 14,
  CLOSE_PRODUCER: 15,
  CLOSE_CONSUMER: 16,
  PRODUCER_SUCCESS: 17,
  PING: 18,
  PONG: 19,
  REDELIVER_UNACKNOWLEDGED_MESSAGES: 20,
  PARTITIONED_METADATA: 21,
  PARTITIONED_METADATA_RESPONSE: 22,
  LOOKUP: 23,
  LOOKUP_RESPONSE: 24,
  CONSUMER_STATS: 25,
  CONSUMER_STATS_RESPONSE: 26,
  REACHED_END_OF_TOPIC: 27,
  SEEK: 28,
  GET_LAST_MESSAGE_ID: 29,
  GET_LAST_MESSAGE_ID_RESPONSE: 30,
  ACTIVE_CONSUMER_CHANGE: 31,
  GET_TOPICS_OF_NAMESPACE: 32,
  GET_TOPICS_OF_NAMESPACE_RESPONSE: 33,
  GET_SCHEMA: 34,
  GET_SCHEMA_RESPONSE: 35,
  AUTH_CHALLENGE: 36,
  AUTH_RESPONSE: 37,
  ACK_RESPONSE: 38,
  GET_OR_CREATE_SCHEMA: 39,
  GET_OR_CREATE_SCHEMA_RESPONSE: 40,
  NEW_TXN: 50,
  NEW_TXN_RESPONSE: 51,
  ADD_PARTITION_TO_TXN: 52,
  ADD_PARTITION_TO_TXN_RESPONSE: 53,
  ADD_SUBSCRIPTION_TO_TXN: 54,
  ADD_SUBSCRIPTION_TO_TXN_RESPONSE: 55,
  END_TXN: 56,
  END_TXN_RESPONSE: 57,
  TC_CLIENT_CONNECT_REQUEST: 62,
  TC_CLIENT_CONNECT_RESPONSE: 63,
  TOPIC_MIGRATED: 68,
} as const;

/** Any command this codec can encode and decode. */
export type Command =
  | C.ConnectCommand
  | C.ConnectedCommand
  | C.PingCommand
  | C.PongCommand
  | C.AuthChallengeCommand
  | C.AuthResponseCommand
  | L.PartitionedMetadataCommand
  | L.PartitionedMetadataResponseCommand
  | L.LookupCommand
  | L.LookupResponseCommand
  | L.GetTopicsOfNamespaceCommand
  | L.GetTopicsOfNamespaceResponseCommand
  | S.GetSchemaCommand
  | S.GetSchemaResponseCommand
  | S.GetOrCreateSchemaCommand
  | S.GetOrCreateSchemaResponseCommand
  | P.ProducerCommand
  | P.ProducerSuccessCommand
  | P.SendCommand
  | P.SendReceiptCommand
  | P.SendErrorCommand
  | P.CloseProducerCommand
  | K.SubscribeCommand
  | K.FlowCommand
  | K.MessageCommand
  | K.AckCommand
  | K.AckResponseCommand
  | K.RedeliverUnacknowledgedMessagesCommand
  | K.UnsubscribeCommand
  | K.CloseConsumerCommand
  | K.SeekCommand
  | K.GetLastMessageIdCommand
  | K.GetLastMessageIdResponseCommand
  | K.ActiveConsumerChangeCommand
  | K.ReachedEndOfTopicCommand
  | K.ConsumerStatsCommand
  | K.ConsumerStatsResponseCommand
  | R.SuccessCommand
  | R.ErrorCommand
  | R.TopicMigratedCommand
  | T.TcClientConnectRequestCommand
  | T.TcClientConnectResponseCommand
  | T.NewTxnCommand
  | T.NewTxnResponseCommand
  | T.AddPartitionToTxnCommand
  | T.AddPartitionToTxnResponseCommand
  | T.AddSubscriptionToTxnCommand
  | T.AddSubscriptionToTxnResponseCommand
  | T.EndTxnCommand
  | T.EndTxnResponseCommand;

/** A command's `type` name. */
export type CommandType = Command["type"];

/** Narrows {@linkcode Command} to one type: `CommandOf<"FLOW">`. */
export type CommandOf<T extends CommandType> = Extract<Command, { type: T }>;

const SPECS: Record<string, MessageSpec> = {
  ...CONNECT_SPECS,
  ...LOOKUP_SPECS,
  ...SCHEMA_SPECS,
  ...PRODUCER_SPECS,
  ...CONSUMER_SPECS,
  ...RESPONSE_SPECS,
  ...TRANSACTION_SPECS,
};

interface Entry {
  type: CommandType;
  number: number;
  spec: MessageSpec;
}

const BY_NAME = new Map<string, Entry>();
const BY_NUMBER: (Entry | undefined)[] = [];
for (const [type, number] of Object.entries(COMMAND_TYPES)) {
  const entry = { type: type as CommandType, number, spec: SPECS[type] };
  BY_NAME.set(type, entry);
  BY_NUMBER[number] = entry;
}

/** Appends a BaseCommand holding `cmd` (no size prefix) to `w`. */
export function writeBaseCommand(w: ProtoWriter, cmd: Command): void {
  const entry = BY_NAME.get(cmd?.type);
  if (entry === undefined) {
    throw new ProtocolError(`cannot encode unknown command type ${JSON.stringify(cmd?.type)}`);
  }
  w.uint64Field(1, entry.number);
  const start = w.beginLength(entry.number);
  encodeMessage(w, entry.spec, cmd);
  w.endLength(start);
}

/** Reads a BaseCommand spanning `r.pos` to `end`. */
export function readBaseCommand(r: ProtoReader, end: number): Command {
  const outerEnd = r.end;
  r.end = end;
  try {
    let typeNumber: number | undefined;
    // The command body may come before or after the type: remember where it is.
    let bodyNumber = -1;
    let bodyStart = 0;
    let bodyEnd = 0;
    while (r.pos < end) {
      const tag = r.varint();
      const no = Math.floor(tag / 8);
      const wireType = tag & 7;
      if (no === 1 && wireType === WIRE.varint) {
        typeNumber = r.varint();
      } else if (wireType === WIRE.bytes && BY_NUMBER[no] !== undefined) {
        const len = r.length();
        bodyNumber = no;
        bodyStart = r.pos;
        bodyEnd = r.pos + len;
        r.pos = bodyEnd;
      } else {
        r.skip(wireType);
      }
    }
    if (typeNumber === undefined) throw new ProtocolError("BaseCommand without a type");
    const entry = BY_NUMBER[typeNumber];
    if (entry === undefined) throw new ProtocolError(`unknown command type ${typeNumber}`);
    if (bodyNumber !== typeNumber) {
      throw new ProtocolError(`BaseCommand of type ${entry.type} without its command body`);
    }
    r.pos = bodyStart;
    const cmd = decodeMessage(r, entry.spec, bodyEnd, { type: entry.type });
    r.pos = end;
    return cmd as unknown as Command;
  } finally {
    r.end = outerEnd;
  }
}
