/**
 * Enums shared by several command families (PulsarApi.proto, protocol version 21).
 *
 * @module
 */
import { defineEnum, type EnumSpec } from "./codec.ts";

const serverErrors = {
  UnknownError: 0,
  MetadataError: 1,
  PersistenceError: 2,
  AuthenticationError: 3,
  AuthorizationError: 4,
  ConsumerBusy: 5,
  ServiceNotReady: 6,
  ProducerBlockedQuotaExceededError: 7,
  ProducerBlockedQuotaExceededException: 8,
  ChecksumError: 9,
  UnsupportedVersionError: 10,
  TopicNotFound: 11,
  SubscriptionNotFound: 12,
  ConsumerNotFound: 13,
  TooManyRequests: 14,
  TopicTerminatedError: 15,
  ProducerBusy: 16,
  InvalidTopicName: 17,
  IncompatibleSchema: 18,
  ConsumerAssignError: 19,
  TransactionCoordinatorNotFound: 20,
  InvalidTxnStatus: 21,
  NotAllowedError: 22,
  TransactionConflict: 23,
  TransactionNotFound: 24,
  ProducerFenced: 25,
} as const;

/** An error code the broker reports (`ServerError`). */
export type ServerError = keyof typeof serverErrors;
/** Codec of {@linkcode ServerError}. */
export const SERVER_ERROR: EnumSpec<ServerError> = defineEnum(serverErrors);

const compressionTypes = { NONE: 0, LZ4: 1, ZLIB: 2, ZSTD: 3, SNAPPY: 4 } as const;
/** Payload compression (`CompressionType`). */
export type CompressionType = keyof typeof compressionTypes;
/** Codec of {@linkcode CompressionType}. */
export const COMPRESSION_TYPE: EnumSpec<CompressionType> = defineEnum(compressionTypes);

const schemaTypes: Record<SchemaType, number> = {
  None: 0,
  String: 1,
  Json: 2,
  Protobuf: 3,
  Avro: 4,
  Bool: 5,
  Int8: 6,
  Int16: 7,
  Int32: 8,
  Int64: 9,
  Float: 10,
  Double: 11,
  Date: 12,
  Time: 13,
  Timestamp: 14,
  KeyValue: 15,
  Instant: 16,
  LocalDate: 17,
  LocalTime: 18,
  LocalDateTime: 19,
  ProtobufNative: 20,
  AutoConsume: 21,
};
/** A topic schema's type (`Schema.Type`). */
export type SchemaType =
  | "None"
  | "String"
  | "Json"
  | "Protobuf"
  | "Avro"
  | "Bool"
  | "Int8"
  | "Int16"
  | "Int32"
  | "Int64"
  | "Float"
  | "Double"
  | "Date"
  | "Time"
  | "Timestamp"
  | "KeyValue"
  | "Instant"
  | "LocalDate"
  | "LocalTime"
  | "LocalDateTime"
  | "ProtobufNative"
  | "AutoConsume";
/** Codec of {@linkcode SchemaType}. */
export const SCHEMA_TYPE: EnumSpec<SchemaType> = defineEnum(schemaTypes);
