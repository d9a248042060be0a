/**
 * Discovery commands: which broker owns a topic, how many partitions it has, which topics a
 * namespace holds (a topic's schema: `schema.ts`).
 *
 * Wire grammar (PulsarApi.proto):
 * ```
 * PARTITIONED_METADATA(21)  CommandPartitionedTopicMetadata { required string topic = 1;
 *     required uint64 request_id = 2; optional string original_principal = 3;
 *     optional string original_auth_data = 4; optional string original_auth_method = 5;
 *     optional bool metadata_auto_creation_enabled = 6; }
 * PARTITIONED_METADATA_RESPONSE(22)  { optional uint32 partitions = 1; required uint64 request_id = 2;
 *     optional LookupType response = 3 (Success 0, Failed 1); optional ServerError error = 4;
 *     optional string message = 5; }
 * LOOKUP(23)  CommandLookupTopic { required string topic = 1; required uint64 request_id = 2;
 *     optional bool authoritative = 3; optional string original_principal = 4;
 *     optional string original_auth_data = 5; optional string original_auth_method = 6;
 *     optional string advertised_listener_name = 7; repeated KeyValue properties = 8; }
 * LOOKUP_RESPONSE(24)  { optional string brokerServiceUrl = 1; optional string brokerServiceUrlTls = 2;
 *     optional LookupType response = 3 (Redirect 0, Connect 1, Failed 2); required uint64 request_id = 4;
 *     optional bool authoritative = 5; optional ServerError error = 6; optional string message = 7;
 *     optional bool proxy_through_service_url = 8; }
 * GET_TOPICS_OF_NAMESPACE(32)  { required uint64 request_id = 1; required string namespace = 2;
 *     optional Mode mode = 3 (PERSISTENT 0, NON_PERSISTENT 1, ALL 2); optional string topics_pattern = 4;
 *     optional string topics_hash = 5; }
 * GET_TOPICS_OF_NAMESPACE_RESPONSE(33)  { required uint64 request_id = 1; repeated string topics = 2;
 *     optional bool filtered = 3; optional string topics_hash = 4; optional bool changed = 5; }
 * ```
 *
 * @module
 */
import { defineEnum, defineMessage, type MessageSpec } from "./codec.ts";
import { SERVER_ERROR, type ServerError } from "./enums.ts";

/** Asks how many partitions a topic has. */
export interface PartitionedMetadataCommand {
  type: "PARTITIONED_METADATA";
  topic: string;
  requestId: number;
  originalPrincipal?: string;
  originalAuthData?: string;
  originalAuthMethod?: string;
  metadataAutoCreationEnabled?: boolean;
}

/** Partition count, or the reason there is none. */
export interface PartitionedMetadataResponseCommand {
  type: "PARTITIONED_METADATA_RESPONSE";
  partitions?: number;
  requestId: number;
  response?: "Success" | "Failed";
  error?: ServerError;
  message?: string;
}

/** Asks which broker serves a topic. */
export interface LookupCommand {
  type: "LOOKUP";
  topic: string;
  requestId: number;
  authoritative?: boolean;
  originalPrincipal?: string;
  originalAuthData?: string;
  originalAuthMethod?: string;
  advertisedListenerName?: string;
  properties?: Record<string, string>;
}

/** Where to go (Connect), where to ask again (Redirect), or why not (Failed). */
export interface LookupResponseCommand {
  type: "LOOKUP_RESPONSE";
  brokerServiceUrl?: string;
  brokerServiceUrlTls?: string;
  response?: "Redirect" | "Connect" | "Failed";
  requestId: number;
  authoritative?: boolean;
  error?: ServerError;
  message?: string;
  proxyThroughServiceUrl?: boolean;
}

/** Lists the topics of a namespace. */
export interface GetTopicsOfNamespaceCommand {
  type: "GET_TOPICS_OF_NAMESPACE";
  requestId: number;
  namespace: string;
  mode?: "PERSISTENT" | "NON_PERSISTENT" | "ALL";
  topicsPattern?: string;
  topicsHash?: string;
}

/** The topics of a namespace. */
export interface GetTopicsOfNamespaceResponseCommand {
  type: "GET_TOPICS_OF_NAMESPACE_RESPONSE";
  requestId: number;
  topics?: string[];
  filtered?: boolean;
  topicsHash?: string;
  changed?: boolean;
}

/** Codec specs of the discovery commands, by command type. */
export const LOOKUP_SPECS: Record<string, MessageSpec> = {
  PARTITIONED_METADATA: defineMessage("CommandPartitionedTopicMetadata", [
    { no: 1, name: "topic", kind: "string", required: true },
    { no: 2, name: "requestId", kind: "uint64", required: true },
    { no: 3, name: "originalPrincipal", kind: "string" },
    { no: 4, name: "originalAuthData", kind: "string" },
    { no: 5, name: "originalAuthMethod", kind: "string" },
    { no: 6, name: "metadataAutoCreationEnabled", kind: "bool" },
  ]),
  PARTITIONED_METADATA_RESPONSE: defineMessage("CommandPartitionedTopicMetadataResponse", [
    { no: 1, name: "partitions", kind: "uint32" },
    { no: 2, name: "requestId", kind: "uint64", required: true },
    { no: 3, name: "response", kind: defineEnum({ Success: 0, Failed: 1 }) },
    { no: 4, name: "error", kind: SERVER_ERROR },
    { no: 5, name: "message", kind: "string" },
  ]),
  LOOKUP: defineMessage("CommandLookupTopic", [
    { no: 1, name: "topic", kind: "string", required: true },
    { no: 2, name: "requestId", kind: "uint64", required: true },
    { no: 3, name: "authoritative", kind: "bool" },
    { no: 4, name: "originalPrincipal", kind: "string" },
    { no: 5, name: "originalAuthData", kind: "string" },
    { no: 6, name: "originalAuthMethod", kind: "string" },
    { no: 7, name: "advertisedListenerName", kind: "string" },
    { no: 8, name: "properties", kind: "keyValues" },
  ]),
  LOOKUP_RESPONSE: defineMessage("CommandLookupTopicResponse", [
    { no: 1, name: "brokerServiceUrl", kind: "string" },
    { no: 2, name: "brokerServiceUrlTls", kind: "string" },
    { no: 3, name: "response", kind: defineEnum({ Redirect: 0, Connect: 1, Failed: 2 }) },
    { no: 4, name: "requestId", kind: "uint64", required: true },
    { no: 5, name: "authoritative", kind: "bool" },
    { no: 6, name: "error", kind: SERVER_ERROR },
    { no: 7, name: "message", kind: "string" },
    { no: 8, name: "proxyThroughServiceUrl", kind: "bool" },
  ]),
  GET_TOPICS_OF_NAMESPACE: defineMessage("CommandGetTopicsOfNamespace", [
    { no: 1, name: "requestId", kind: "uint64", required: true },
    { no: 2, name: "namespace", kind: "string", required: true },
    { no: 3, name: "mode", kind: defineEnum({ PERSISTENT: 0, NON_PERSISTENT: 1, ALL: 2 }) },
    { no: 4, name: "topicsPattern", kind: "string" },
    { no: 5, name: "topicsHash", kind: "string" },
  ]),
  GET_TOPICS_OF_NAMESPACE_RESPONSE: defineMessage("CommandGetTopicsOfNamespaceResponse", [
    { no: 1, name: "requestId", kind: "uint64", required: true },
    { no: 2, name: "topics", kind: "string", repeated: true },
    { no: 3, name: "filtered", kind: "bool" },
    { no: 4, name: "topicsHash", kind: "string" },
    { no: 5, name: "changed", kind: "bool" },
  ]),
};
