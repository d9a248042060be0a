/**
 * One codec per topic schema, whatever its type: primitives, AVRO, JSON, PROTOBUF_NATIVE, PROTOBUF
 * (decode only) and KEY_VALUE of any two of them. KEY_VALUE schema data is `[int32 key schema length][key schema]
 * [int32 value schema length][value schema]` (big-endian), with the halves' names, types and
 * properties in the schema's properties (`key.schema.type`, …, `kv.encoding.type`). An INLINE
 * payload is `[int32 key length][key][int32 value length][value]` (-1: null); a SEPARATED one
 * carries the value only, the key bytes travelling as the message key (base64).
 *
 * @module
 */
import type { Schema, SchemaType } from "../pulsar/wire/mod.ts";
import type { SchemaCodec } from "./types.ts";
import { type AvroCodec, avroCodec, jsonCodec } from "./avro.ts";
import { SchemaDefinitionError, SchemaValueError } from "./errors.ts";
import { primitiveCodec } from "./primitives.ts";
import { protobufNativeCodec } from "./protobuf_native.ts";
import { protobufLegacyCodec } from "./protobuf_legacy.ts";
import { javaSchemaName, wireSchemaType } from "./schema_types.ts";

export type { SchemaCodec } from "./types.ts";

const utf8 = new TextDecoder();

/** A codec and the fields it leaves undecoded (PROTOBUF's nested messages). */
type Half = AvroCodec & { undecoded?: string[] };

function simple(
  type: SchemaType,
  data: Uint8Array,
  what: string,
  properties: Record<string, string> | undefined,
): Half {
  const primitive = primitiveCodec(type);
  if (primitive) return { ...primitive, check: (v) => void primitive.encode(v) };
  const text = utf8.decode(data);
  switch (type) {
    case "Avro":
      return avroCodec(text, `AVRO schema of ${what}`);
    case "Json":
      return jsonCodec(text);
    case "ProtobufNative":
      return protobufNativeCodec(text);
    case "Protobuf":
      return protobufLegacyCodec(text, properties, what);
  }
  throw new SchemaDefinitionError(
    `${what} has a ${javaSchemaName(type)} schema, which edgepipe does not decode ` +
      "(read it with --schema none)",
  );
}

function halves(data: Uint8Array, what: string): [Uint8Array, Uint8Array] {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const parts: Uint8Array[] = [];
  let at = 0;
  for (let i = 0; i < 2; i++) {
    if (at + 4 > data.length) throw new SchemaValueError(`${what} is cut short`);
    const length = view.getInt32(at);
    at += 4;
    if (length < 0) {
      parts.push(new Uint8Array(0));
      continue;
    }
    if (at + length > data.length) throw new SchemaValueError(`${what} is cut short`);
    parts.push(data.subarray(at, at + length));
    at += length;
  }
  return [parts[0], parts[1]];
}

function joined(key: Uint8Array | undefined, value: Uint8Array | undefined): Uint8Array {
  const out = new Uint8Array(8 + (key?.length ?? 0) + (value?.length ?? 0));
  const view = new DataView(out.buffer);
  view.setInt32(0, key ? key.length : -1);
  if (key) out.set(key, 4);
  const at = 4 + (key?.length ?? 0);
  view.setInt32(at, value ? value.length : -1);
  if (value) out.set(value, at + 4);
  return out;
}

/** A KEY_VALUE half's own properties: JSON text of a map in `key.schema.properties` … */
function halfProperties(text: string | undefined, what: string): Record<string, string> {
  if (text === undefined || text === "") return {};
  try {
    const parsed = JSON.parse(text);
    if (parsed !== null && typeof parsed === "object" && !Array.isArray(parsed)) return parsed;
  } catch (cause) {
    throw new SchemaDefinitionError(`${what}: schema properties are not JSON`, { cause });
  }
  throw new SchemaDefinitionError(`${what}: schema properties are not a JSON object`);
}

function half(schema: Schema, side: "key" | "value", data: Uint8Array, what: string): Half {
  const props = schema.properties ?? {};
  const javaType = props[`${side}.schema.type`] ?? "BYTES";
  const type = wireSchemaType(javaType);
  if (!type || type === "KeyValue") {
    throw new SchemaDefinitionError(`${what}: unsupported KEY_VALUE ${side} type ${javaType}`);
  }
  const where = `${what} (${side})`;
  return simple(type, data, where, halfProperties(props[`${side}.schema.properties`], where));
}

function keyValue(schema: Schema, what: string): SchemaCodec {
  const [keyData, valueData] = halves(schema.schemaData, `KEY_VALUE schema of ${what}`);
  const key = half(schema, "key", keyData, what);
  const value = half(schema, "value", valueData, what);
  const separated = schema.properties?.["kv.encoding.type"] === "SEPARATED";
  const decodeHalf = (codec: AvroCodec, bytes: Uint8Array | undefined) =>
    bytes === undefined ? null : codec.decode(bytes);
  const undecoded = [
    ...(key.undecoded ?? []).map((f) => `key.${f}`),
    ...(value.undecoded ?? []).map((f) => `value.${f}`),
  ];
  return {
    type: "KeyValue",
    ...(undecoded.length > 0 ? { undecoded } : {}),
    decode(payload, keyBytes) {
      if (separated) return { key: decodeHalf(key, keyBytes), value: value.decode(payload) };
      const [k, v] = halves(payload, "KEY_VALUE payload");
      return { key: key.decode(k), value: value.decode(v) };
    },
    encode(record) {
      if (record === null || typeof record !== "object" || !("value" in record)) {
        throw new SchemaValueError("a KEY_VALUE value is an object {key, value}");
      }
      const { key: k, value: v } = record as { key?: unknown; value: unknown };
      const keyBytes = k === undefined || k === null ? undefined : key.encode(k);
      const valueBytes = v === null ? undefined : value.encode(v);
      if (separated) return { payload: valueBytes ?? new Uint8Array(0), key: keyBytes };
      return { payload: joined(keyBytes, valueBytes) };
    },
  };
}

/**
 * The codec of a schema; `what` names it in errors (the topic). Throws
 * {@linkcode SchemaDefinitionError} for a schema that cannot be used.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { compileSchema } from "./codec.ts";
 * const codec = compileSchema({ name: "t", type: "Int32", schemaData: new Uint8Array() });
 * assert.equal(codec.decode(new Uint8Array([0, 0, 1, 0])), 256);
 * ```
 */
export function compileSchema(schema: Schema, what = schema.name): SchemaCodec {
  if (schema.type === "KeyValue") return keyValue(schema, what);
  const codec = simple(schema.type, schema.schemaData, what, schema.properties);
  return {
    type: schema.type,
    ...(codec.undecoded?.length ? { undecoded: codec.undecoded } : {}),
    decode: (payload) => codec.decode(payload),
    encode: (value) => ({ payload: codec.encode(value) }),
  };
}
