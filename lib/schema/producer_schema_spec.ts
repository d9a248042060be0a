/**
 * The text of a `--schema` value for producers (`produce --schema`, a pipeline sink's
 * `schema:`), parsed without loading any schema library.
 *
 * @module
 */
import { UsageError } from "../errors.ts";
import type { PulsarClient } from "../pulsar/mod.ts";
import type { ProducerSchema } from "./types.ts";

/** A parsed `--schema` value (files not read yet). */
export type ProducerSchemaSpec =
  | { kind: "avro" | "json"; file: string }
  | { kind: "protobuf-native"; file: string; message: string }
  | { kind: "string" | "auto" };

/**
 * Parses `--schema`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseProducerSchema } from "./producer_schema_spec.ts";
 * assert.deepEqual(parseProducerSchema("avro:reading.avsc"), { kind: "avro", file: "reading.avsc" });
 * assert.deepEqual(parseProducerSchema("protobuf-native:set.pb:acme.Reading"),
 *   { kind: "protobuf-native", file: "set.pb", message: "acme.Reading" });
 * assert.throws(() => parseProducerSchema("xml:a"), /--schema must be/);
 * ```
 */
export function parseProducerSchema(text: string, flag = "--schema"): ProducerSchemaSpec {
  if (text === "string" || text === "auto") return { kind: text };
  const colon = text.indexOf(":");
  const kind = text.slice(0, colon);
  const rest = text.slice(colon + 1);
  if ((kind === "avro" || kind === "json") && rest !== "") return { kind, file: rest };
  if (kind === "protobuf-native") {
    const last = rest.lastIndexOf(":");
    if (last > 0 && last < rest.length - 1) {
      return { kind, file: rest.slice(0, last), message: rest.slice(last + 1) };
    }
    throw new UsageError(`${flag} protobuf-native needs <descriptor set file>:<message name>`);
  }
  throw new UsageError(
    `${flag} must be avro:<file.avsc>, json:<file>, protobuf-native:<descriptor set>:<message>, ` +
      `string or auto, got '${text}'`,
  );
}

/**
 * Reads the files of a spec (or, for `auto`, the topic's latest schema from the broker) and
 * compiles it; a schema that cannot be used is a `SchemaDefinitionError`. The schema libraries
 * load with the first call.
 */
export async function loadProducerSchema(
  spec: ProducerSchemaSpec,
  topic: string,
  client?: PulsarClient,
): Promise<ProducerSchema> {
  const { loadProducerSchema } = await import("./producer_schema.ts");
  return await loadProducerSchema(spec, topic, client);
}
