/**
 * A topic's schemas over the binary protocol: GET_SCHEMA for the schema of a version (or the
 * latest), GET_OR_CREATE_SCHEMA to register one (or find the version it already has). Both go to
 * the service URL, as the Java client sends them.
 *
 * @module
 */
import { BrokerError } from "./errors.ts";
import type { LookupService } from "./lookup.ts";
import type { Command, Schema } from "./wire/mod.ts";

/** A schema and the version the broker holds it under. */
export interface VersionedSchema {
  /** The schema. */
  schema: Schema;
  /** Its 8-byte version. */
  version: Uint8Array;
}

type Answer = Record<string, unknown>;

/** Reads `topic`'s schema of `version` (the latest without one). */
export async function getSchema(
  lookup: LookupService,
  topic: string,
  version?: Uint8Array,
): Promise<VersionedSchema> {
  const conn = await lookup.pool.get(lookup.serviceUrl);
  const frame = await conn.request(
    { type: "GET_SCHEMA", topic, ...(version ? { schemaVersion: version } : {}) } as Command,
  );
  const answer = frame.command as unknown as Answer;
  const schema = answer.schema as Schema | undefined;
  if (!schema) {
    throw BrokerError.from("TopicNotFound", "no schema in the answer", `GET_SCHEMA ${topic}`);
  }
  return { schema, version: (answer.schemaVersion as Uint8Array | undefined) ?? version! };
}

/**
 * Registers `schema` on `topic`, or finds the version it already has; an incompatible schema is
 * an `IncompatibleSchema` {@linkcode BrokerError} with the broker's reason.
 */
export async function getOrCreateSchema(
  lookup: LookupService,
  topic: string,
  schema: Schema,
): Promise<Uint8Array> {
  // Answered by the broker that owns the topic (it must exist), as the Java client sends it.
  const conn = await lookup.connectionFor(topic);
  const frame = await conn.request({ type: "GET_OR_CREATE_SCHEMA", topic, schema } as Command);
  return ((frame.command as unknown as Answer).schemaVersion as Uint8Array | undefined) ??
    new Uint8Array(0);
}
