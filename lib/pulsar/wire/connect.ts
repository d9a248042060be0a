/**
 * Connection commands: the handshake, keep-alive and authentication refresh.
 *
 * Wire grammar (PulsarApi.proto):
 * ```
 * CONNECT(2)    CommandConnect { required string client_version = 1; optional AuthMethod auth_method = 2;
 *                 optional bytes auth_data = 3; optional int32 protocol_version = 4;
 *                 optional string auth_method_name = 5; optional string proxy_to_broker_url = 6;
 *                 optional string original_principal = 7; optional string original_auth_data = 8;
 *                 optional string original_auth_method = 9; optional FeatureFlags feature_flags = 10;
 *                 optional string proxy_version = 11; }
 * CONNECTED(3)  CommandConnected { required string server_version = 1; optional int32 protocol_version = 2;
 *                 optional int32 max_message_size = 3; optional FeatureFlags feature_flags = 4; }
 * PING(18), PONG(19)  empty messages
 * AUTH_CHALLENGE(36)  CommandAuthChallenge { optional string server_version = 1;
 *                 optional AuthData challenge = 2; optional int32 protocol_version = 3; }
 * AUTH_RESPONSE(37)   CommandAuthResponse { optional string client_version = 1;
 *                 optional AuthData response = 2; optional int32 protocol_version = 3; }
 * FeatureFlags { optional bool supports_auth_refresh = 1; supports_broker_entry_metadata = 2;
 *                 supports_partial_producer = 3; supports_topic_watchers = 4;
 *                 supports_get_partitioned_metadata_without_auto_creation = 5;
 *                 supports_repl_dedup_by_lid_and_eid = 6; }
 * AuthData { optional string auth_method_name = 1; optional bytes auth_data = 2; }
 * ```
 *
 * @module
 */
import { defineMessage, type MessageSpec } from "./codec.ts";

/** Capabilities each side announces in the handshake. */
export interface FeatureFlags {
  supportsAuthRefresh?: boolean;
  supportsBrokerEntryMetadata?: boolean;
  supportsPartialProducer?: boolean;
  supportsTopicWatchers?: boolean;
  supportsGetPartitionedMetadataWithoutAutoCreation?: boolean;
  supportsReplDedupByLidAndEid?: boolean;
}

/** Credentials exchanged during (re-)authentication. */
export interface AuthData {
  authMethodName?: string;
  authData?: Uint8Array;
}

/** First command on a connection. */
export interface ConnectCommand {
  type: "CONNECT";
  clientVersion: string;
  authData?: Uint8Array;
  protocolVersion?: number;
  authMethodName?: string;
  proxyToBrokerUrl?: string;
  originalPrincipal?: string;
  originalAuthData?: string;
  originalAuthMethod?: string;
  featureFlags?: FeatureFlags;
  proxyVersion?: string;
}

/** The broker accepted the handshake. */
export interface ConnectedCommand {
  type: "CONNECTED";
  serverVersion: string;
  protocolVersion?: number;
  maxMessageSize?: number;
  featureFlags?: FeatureFlags;
}

/** Keep-alive probe; either side answers with PONG. */
export interface PingCommand {
  type: "PING";
}

/** Answer to PING. */
export interface PongCommand {
  type: "PONG";
}

/** The broker asks for fresh credentials. */
export interface AuthChallengeCommand {
  type: "AUTH_CHALLENGE";
  serverVersion?: string;
  challenge?: AuthData;
  protocolVersion?: number;
}

/** Fresh credentials for an AUTH_CHALLENGE. */
export interface AuthResponseCommand {
  type: "AUTH_RESPONSE";
  clientVersion?: string;
  response?: AuthData;
  protocolVersion?: number;
}

const FEATURE_FLAGS = defineMessage("FeatureFlags", [
  { no: 1, name: "supportsAuthRefresh", kind: "bool" },
  { no: 2, name: "supportsBrokerEntryMetadata", kind: "bool" },
  { no: 3, name: "supportsPartialProducer", kind: "bool" },
  { no: 4, name: "supportsTopicWatchers", kind: "bool" },
  { no: 5, name: "supportsGetPartitionedMetadataWithoutAutoCreation", kind: "bool" },
  { no: 6, name: "supportsReplDedupByLidAndEid", kind: "bool" },
]);

const AUTH_DATA = defineMessage("AuthData", [
  { no: 1, name: "authMethodName", kind: "string" },
  { no: 2, name: "authData", kind: "bytes" },
]);

/** Codec specs of the connection commands, by command type. */
export const CONNECT_SPECS: Record<string, MessageSpec> = {
  CONNECT: defineMessage("CommandConnect", [
    { no: 1, name: "clientVersion", kind: "string", required: true },
    { no: 3, name: "authData", kind: "bytes" },
    { no: 4, name: "protocolVersion", kind: "int32" },
    { no: 5, name: "authMethodName", kind: "string" },
    { no: 6, name: "proxyToBrokerUrl", kind: "string" },
    { no: 7, name: "originalPrincipal", kind: "string" },
    { no: 8, name: "originalAuthData", kind: "string" },
    { no: 9, name: "originalAuthMethod", kind: "string" },
    { no: 10, name: "featureFlags", kind: FEATURE_FLAGS },
    { no: 11, name: "proxyVersion", kind: "string" },
  ]),
  CONNECTED: defineMessage("CommandConnected", [
    { no: 1, name: "serverVersion", kind: "string", required: true },
    { no: 2, name: "protocolVersion", kind: "int32" },
    { no: 3, name: "maxMessageSize", kind: "int32" },
    { no: 4, name: "featureFlags", kind: FEATURE_FLAGS },
  ]),
  PING: defineMessage("CommandPing", []),
  PONG: defineMessage("CommandPong", []),
  AUTH_CHALLENGE: defineMessage("CommandAuthChallenge", [
    { no: 1, name: "serverVersion", kind: "string" },
    { no: 2, name: "challenge", kind: AUTH_DATA },
    { no: 3, name: "protocolVersion", kind: "int32" },
  ]),
  AUTH_RESPONSE: defineMessage("CommandAuthResponse", [
    { no: 1, name: "clientVersion", kind: "string" },
    { no: 2, name: "response", kind: AUTH_DATA },
    { no: 3, name: "protocolVersion", kind: "int32" },
  ]),
};
