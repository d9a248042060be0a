/**
 * `consume --schema auto`: each message's writer schema, looked up by its schema version from the
 * broker once per topic and version (cached), decodes the payload into `value`.
 *
 * @module
 */
import type { Message, Schema, VersionedSchema } from "../pulsar/mod.ts";
import type { SchemaCodec } from "./codec.ts";
import { SchemaError, SchemaValueError } from "./errors.ts";
import { javaSchemaName, schemaVersionNumber } from "./schema_types.ts";

/** What the envelope's `schema` field says: which schema decoded the value. */
export interface SchemaLabel {
  /** The Java client's type name (`AVRO`, `KEY_VALUE`, `INT64` …). */
  type: string;
  /** The schema's name as registered (the topic's name for most). */
  name: string;
  /** The schema version the message was written with (0 for the first). */
  version: number;
  /**
   * Fields of `value` left as the writer's bytes (base64) because the schema does not say how to
   * read them (a PROTOBUF schema's nested messages); absent when every field is decoded.
   */
  undecoded?: string[];
}

/** A message's value decoded with its writer's schema, and which schema that was. */
export interface SchemaDecoded {
  /** The value. */
  value: unknown;
  /** The schema that decoded it. */
  schema: SchemaLabel;
}

interface Compiled {
  codec: SchemaCodec;
  label: SchemaLabel;
}

/** Looks up a topic's schema of a version (the client's `getSchema`). */
export type SchemaLookup = (topic: string, version: Uint8Array) => Promise<VersionedSchema>;

const MAX_CACHED = 1024;

/**
 * A lookup over the binary protocol that falls back to `fallback` (the admin REST API) when the
 * binary request fails for another reason than the broker's answer (a timeout, a proxy that does
 * not pass GET_SCHEMA): a broker that says it has no such version is believed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { TimeoutError } from "../pulsar/mod.ts";
 * import { withFallback } from "./topic_schemas.ts";
 * const schema = { name: "t", type: "String" as const, schemaData: new Uint8Array() };
 * const lookup = withFallback(
 *   () => Promise.reject(new TimeoutError("GET_SCHEMA: no answer")),
 *   (_topic, version) => Promise.resolve({ schema, version }),
 * );
 * assert.equal((await lookup("t", new Uint8Array(8))).schema, schema);
 * ```
 */
export function withFallback(binary: SchemaLookup, fallback?: SchemaLookup): SchemaLookup {
  if (!fallback) return binary;
  return async (topic, version) => {
    try {
      return await binary(topic, version);
    } catch (error) {
      if ((error as { code?: unknown }).code !== undefined) throw error; // the broker's answer
      return await fallback(topic, version);
    }
  };
}

function hex(bytes: Uint8Array): string {
  let text = "";
  for (const b of bytes) text += b.toString(16).padStart(2, "0");
  return text;
}

function keyBytes(msg: Message): Uint8Array | undefined {
  if (msg.key === undefined) return undefined;
  if (!msg.keyIsBase64) return new TextEncoder().encode(msg.key);
  return Uint8Array.from(atob(msg.key), (c) => c.charCodeAt(0));
}

/**
 * Writer schemas by topic and version, compiled once.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Message, MessageId } from "../pulsar/mod.ts";
 * import { TopicSchemas } from "./topic_schemas.ts";
 * const schemas = new TopicSchemas(async (_topic, version) => ({
 *   version,
 *   schema: { name: "t", type: "Int32", schemaData: new Uint8Array() },
 * }));
 * const msg = new Message("persistent://public/default/t", new MessageId(1n, 1n),
 *   new Uint8Array([0, 0, 0, 9]), { publishTime: 1, schemaVersion: new Uint8Array(8) });
 * const decoded = await schemas.decode(msg, "persistent://public/default/t");
 * assert.deepEqual(decoded, { value: 9, schema: { type: "INT32", name: "t", version: 0 } });
 * ```
 */
export class TopicSchemas {
  readonly #compiled = new Map<string, Promise<Compiled>>();
  readonly #ready = new Map<string, Compiled>();

  /** Schemas come from `lookup`. */
  constructor(readonly lookup: SchemaLookup) {}

  /**
   * The value of a message written with a schema version, or undefined for a message without one
   * (decoded as before). A payload that does not fit its schema, a version the broker does not
   * have, or a schema edgepipe cannot read throws (the caller's decode-error path).
   */
  decode(msg: Message, topic: string): Promise<SchemaDecoded> | SchemaDecoded | undefined {
    const version = msg.schemaVersion;
    if (!version) return undefined;
    const key = `${topic}\u0000${hex(version)}`;
    const ready = this.#ready.get(key);
    if (ready) {
      return { value: ready.codec.decode(msg.payload, keyBytes(msg)), schema: ready.label };
    }
    let compiled = this.#compiled.get(key);
    if (!compiled) {
      if (this.#compiled.size >= MAX_CACHED) {
        this.#compiled.clear();
        this.#ready.clear();
      }
      compiled = this.#compile(topic, version);
      this.#compiled.set(key, compiled);
      // The broker's "no such version" or a schema that cannot be read stays the answer for
      // that version (its next messages fail fast); anything else is tried again.
      compiled.then((c) => this.#ready.set(key, c), (error) => {
        if (!(error instanceof SchemaError)) this.#compiled.delete(key);
      });
    }
    return compiled.then((c) => ({
      value: c.codec.decode(msg.payload, keyBytes(msg)),
      schema: c.label,
    }));
  }

  async #compile(topic: string, version: Uint8Array): Promise<Compiled> {
    let schema: Schema;
    try {
      schema = (await this.lookup(topic, version)).schema;
    } catch (cause) {
      // The broker unreachable: not the message's fault (the caller stops; it is redelivered).
      if ((cause as { retriable?: boolean }).retriable === true) throw cause;
      throw new SchemaValueError(
        `schema version ${schemaVersionNumber(version)} of ${topic} cannot be read from the ` +
          `broker: ${(cause as Error).message}`,
        { cause },
      );
    }
    // The codecs (Avro, protobuf libraries) load with the first message that has a schema.
    const { compileSchema } = await import("./codec.ts");
    const codec = compileSchema(schema, topic);
    return {
      codec,
      label: {
        type: javaSchemaName(schema.type),
        name: schema.name,
        version: schemaVersionNumber(version),
        ...(codec.undecoded ? { undecoded: [...codec.undecoded] } : {}),
      },
    };
  }
}
