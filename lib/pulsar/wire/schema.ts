/**
 * Schema commands: read a topic's schema (the latest, or one version), and register a schema or
 * find the version it already has.
 *
 * Wire grammar (PulsarApi.proto):
 * ```
 * GET_SCHEMA(34)  CommandGetSchema { required uint64 request_id = 1; required string topic = 2;
 *     optional bytes schema_version = 3; }
 * GET_SCHEMA_RESPONSE(35)  { required uint64 request_id = 1; optional ServerError error_code = 2;
 *     optional string error_message = 3; optional Schema schema = 4; optional bytes schema_version = 5; }
 * GET_OR_CREATE_SCHEMA(39)  CommandGetOrCreateSchema { required uint64 request_id = 1;
 *     required string topic = 2; required Schema schema = 3; }
 * GET_OR_CREATE_SCHEMA_RESPONSE(40)  { required uint64 request_id = 1; optional ServerError error_code = 2;
 *     optional string error_message = 3; optional bytes schema_version = 4; }
 * Schema { required string name = 1; required bytes schema_data = 3; required Type type = 4;
 *     repeated KeyValue properties = 5; }
 * ```
 * A schema version is 8 bytes, the big-endian version number the broker assigned (0 first).
 *
 * @module
 */
import { defineMessage, type MessageSpec } from "./codec.ts";
import { SCHEMA_TYPE, type SchemaType, SERVER_ERROR, type ServerError } from "./enums.ts";

/** A topic schema (`SchemaInfo` of the Java client). */
export interface Schema {
  /** The schema's name (the Java client registers the topic's local name). */
  name: string;
  /** The definition: Avro JSON for AVRO and JSON, a descriptor set for PROTOBUF_NATIVE, … */
  schemaData: Uint8Array;
  /** The schema's type. */
  type: SchemaType;
  /** Properties (`__alwaysAllowNull`, a KEY_VALUE's halves, …). */
  properties?: Record<string, string>;
}

/** Asks for a topic's schema (the latest, or a given version). */
export interface GetSchemaCommand {
  type: "GET_SCHEMA";
  requestId: number;
  topic: string;
  schemaVersion?: Uint8Array;
}

/** A topic's schema, or the reason there is none. */
export interface GetSchemaResponseCommand {
  type: "GET_SCHEMA_RESPONSE";
  requestId: number;
  errorCode?: ServerError;
  errorMessage?: string;
  schema?: Schema;
  schemaVersion?: Uint8Array;
}

/** Registers `schema` on a topic (or finds the version it already has there). */
export interface GetOrCreateSchemaCommand {
  type: "GET_OR_CREATE_SCHEMA";
  requestId: number;
  topic: string;
  schema: Schema;
}

/** The version of the schema, or why the broker refused it (`IncompatibleSchema`, …). */
export interface GetOrCreateSchemaResponseCommand {
  type: "GET_OR_CREATE_SCHEMA_RESPONSE";
  requestId: number;
  errorCode?: ServerError;
  errorMessage?: string;
  schemaVersion?: Uint8Array;
}

/** Codec spec of {@linkcode Schema}. */
export const SCHEMA: MessageSpec = defineMessage("Schema", [
  { no: 1, name: "name", kind: "string", required: true },
  { no: 3, name: "schemaData", kind: "bytes", required: true },
  { no: 4, name: "type", kind: SCHEMA_TYPE, required: true },
  { no: 5, name: "properties", kind: "keyValues" },
]);

/** Codec specs of the schema commands, by command type. */
export const SCHEMA_SPECS: Record<string, MessageSpec> = {
  GET_SCHEMA: defineMessage("CommandGetSchema", [
    { no: 1, name: "requestId", kind: "uint64", required: true },
    { no: 2, name: "topic", kind: "string", required: true },
    { no: 3, name: "schemaVersion", kind: "bytes" },
  ]),
  GET_SCHEMA_RESPONSE: defineMessage("CommandGetSchemaResponse", [
    { no: 1, name: "requestId", kind: "uint64", required: true },
    { no: 2, name: "errorCode", kind: SERVER_ERROR },
    { no: 3, name: "errorMessage", kind: "string" },
    { no: 4, name: "schema", kind: SCHEMA },
    { no: 5, name: "schemaVersion", kind: "bytes" },
  ]),
  GET_OR_CREATE_SCHEMA: defineMessage("CommandGetOrCreateSchema", [
    { no: 1, name: "requestId", kind: "uint64", required: true },
    { no: 2, name: "topic", kind: "string", required: true },
    { no: 3, name: "schema", kind: SCHEMA, required: true },
  ]),
  GET_OR_CREATE_SCHEMA_RESPONSE: defineMessage("CommandGetOrCreateSchemaResponse", [
    { no: 1, name: "requestId", kind: "uint64", required: true },
    { no: 2, name: "errorCode", kind: SERVER_ERROR },
    { no: 3, name: "errorMessage", kind: "string" },
    { no: 4, name: "schemaVersion", kind: "bytes" },
  ]),
};
