/**
 * Schema type names: the wire enum's (`Avro`, `KeyValue`, `ProtobufNative`) and the names the
 * Java client, `pulsar-admin` and the envelope use (`AVRO`, `KEY_VALUE`, `PROTOBUF_NATIVE`).
 *
 * @module
 */
import type { SchemaType } from "../pulsar/wire/mod.ts";

const JAVA_NAMES: Record<SchemaType, string> = {
  None: "NONE",
  String: "STRING",
  Json: "JSON",
  Protobuf: "PROTOBUF",
  Avro: "AVRO",
  Bool: "BOOLEAN",
  Int8: "INT8",
  Int16: "INT16",
  Int32: "INT32",
  Int64: "INT64",
  Float: "FLOAT",
  Double: "DOUBLE",
  Date: "DATE",
  Time: "TIME",
  Timestamp: "TIMESTAMP",
  KeyValue: "KEY_VALUE",
  Instant: "INSTANT",
  LocalDate: "LOCAL_DATE",
  LocalTime: "LOCAL_TIME",
  LocalDateTime: "LOCAL_DATE_TIME",
  ProtobufNative: "PROTOBUF_NATIVE",
  AutoConsume: "AUTO_CONSUME",
};

const WIRE_NAMES = new Map<string, SchemaType>(
  Object.entries(JAVA_NAMES).map(([wire, java]) => [java, wire as SchemaType]),
);
// The Java client names raw bytes BYTES; on the wire that is None.
WIRE_NAMES.set("BYTES", "None");

/**
 * The Java client's name of a wire schema type.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { javaSchemaName, wireSchemaType } from "./schema_types.ts";
 * assert.equal(javaSchemaName("KeyValue"), "KEY_VALUE");
 * assert.equal(wireSchemaType("LOCAL_DATE_TIME"), "LocalDateTime");
 * assert.equal(wireSchemaType("BYTES"), "None");
 * ```
 */
export function javaSchemaName(type: SchemaType): string {
  return JAVA_NAMES[type] ?? String(type);
}

/** The wire type of a Java schema type name, or undefined for a name the protocol lacks. */
export function wireSchemaType(javaName: string): SchemaType | undefined {
  return WIRE_NAMES.get(javaName);
}

/**
 * The number of an 8-byte big-endian schema version (what the broker assigns: 0, 1, 2 …).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { schemaVersionNumber } from "./schema_types.ts";
 * assert.equal(schemaVersionNumber(new Uint8Array([0, 0, 0, 0, 0, 0, 1, 2])), 258);
 * ```
 */
export function schemaVersionNumber(version: Uint8Array): number {
  let n = 0;
  for (const byte of version) n = n * 256 + byte;
  return n;
}
