/**
 * Generic answers to requests, and the broker's notice that a topic moved.
 *
 * Wire grammar (PulsarApi.proto):
 * ```
 * SUCCESS(13)  CommandSuccess { required uint64 request_id = 1; optional Schema schema = 2; }
 * ERROR(14)    CommandError { required uint64 request_id = 1; required ServerError error = 2;
 *                required string message = 3; }
 * TOPIC_MIGRATED(68)  CommandTopicMigrated { required uint64 resource_id = 1;
 *                required ResourceType resource_type = 2 (Producer 0, Consumer 1);
 *                optional string brokerServiceUrl = 3; optional string brokerServiceUrlTls = 4; }
 * ```
 *
 * @module
 */
import { defineEnum, defineMessage, type MessageSpec } from "./codec.ts";
import { SERVER_ERROR, type ServerError } from "./enums.ts";
import { SCHEMA, type Schema } from "./schema.ts";

/** A request succeeded. */
export interface SuccessCommand {
  type: "SUCCESS";
  requestId: number;
  schema?: Schema;
}

/** A request failed. */
export interface ErrorCommand {
  type: "ERROR";
  requestId: number;
  error: ServerError;
  message: string;
}

/** A producer's or consumer's topic moved to another cluster: reconnect there. */
export interface TopicMigratedCommand {
  type: "TOPIC_MIGRATED";
  resourceId: number;
  resourceType: "Producer" | "Consumer";
  brokerServiceUrl?: string;
  brokerServiceUrlTls?: string;
}

/** Codec specs of the response commands, by command type. */
export const RESPONSE_SPECS: Record<string, MessageSpec> = {
  SUCCESS: defineMessage("CommandSuccess", [
    { no: 1, name: "requestId", kind: "uint64", required: true },
    { no: 2, name: "schema", kind: SCHEMA },
  ]),
  ERROR: defineMessage("CommandError", [
    { no: 1, name: "requestId", kind: "uint64", required: true },
    { no: 2, name: "error", kind: SERVER_ERROR, required: true },
    { no: 3, name: "message", kind: "string", required: true },
  ]),
  TOPIC_MIGRATED: defineMessage("CommandTopicMigrated", [
    { no: 1, name: "resourceId", kind: "uint64", required: true },
    {
      no: 2,
      name: "resourceType",
      kind: defineEnum({ Producer: 0, Consumer: 1 }),
      required: true,
    },
    { no: 3, name: "brokerServiceUrl", kind: "string" },
    { no: 4, name: "brokerServiceUrlTls", kind: "string" },
  ]),
};
