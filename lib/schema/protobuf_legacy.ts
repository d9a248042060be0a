/**
 * The older PROTOBUF schema (the Java client's `Schema.PROTOBUF(Msg.class)`): the schema data is
 * the Avro record that avro-protobuf derives from the message class (field names in declaration
 * order, enum symbols, defaults, nested messages as records), and the schema's `__PARSING_INFO__`
 * property is a JSON list of `{number, name, type, label}` for the message's top-level fields
 * (`type` a protobuf field type name: `INT64`, `SINT32`, `ENUM`, `MESSAGE` …). Each payload is
 * the protobuf binary of the message.
 *
 * Only the top-level fields have known numbers and wire types, so only they are decoded. A field of
 * a message type keeps its protobuf bytes (base64; an array of them when repeated; null when
 * absent), and the codec lists such fields in `undecoded`: the nested record names no field
 * numbers, and numbering them by position would be a guess. Values otherwise follow
 * PROTOBUF_NATIVE: proto field names, 64-bit integers as numbers, bytes as base64, every field
 * present (an absent one at its Avro default, which carries proto2 `[default = …]`), enums by name.
 * The Avro enum lists symbols in declaration order without numbers: value n is the n-th symbol
 * (enums numbered 0, 1, 2 … as declared), a number past the symbols stays a number.
 *
 * @module
 */
import protobuf from "protobufjs";
import { SchemaDefinitionError, SchemaValueError } from "./errors.ts";
import type { AvroCodec } from "./avro.ts";

/** The schema property that lists the top-level fields' numbers and types. */
export const PARSING_INFO = "__PARSING_INFO__";

/** One entry of `__PARSING_INFO__`, as the Java client writes it. */
interface ParsingInfo {
  number: number;
  name: string;
  type: string;
  label: string;
}

/** protobuf field types as protobufjs reads them; ENUM as its number, MESSAGE as its bytes. */
const WIRE_TYPES: Record<string, string> = {
  DOUBLE: "double",
  FLOAT: "float",
  INT64: "int64",
  UINT64: "uint64",
  INT32: "int32",
  FIXED64: "fixed64",
  FIXED32: "fixed32",
  BOOL: "bool",
  STRING: "string",
  BYTES: "bytes",
  UINT32: "uint32",
  SFIXED32: "sfixed32",
  SFIXED64: "sfixed64",
  SINT32: "sint32",
  SINT64: "sint64",
  ENUM: "int32",
  MESSAGE: "bytes",
};

/** The wire type (0 varint, 1 fixed64, 2 length-delimited, 5 fixed32) of each field type. */
const WIRE_OF: Record<string, number> = {
  DOUBLE: 1,
  FIXED64: 1,
  SFIXED64: 1,
  FLOAT: 5,
  FIXED32: 5,
  SFIXED32: 5,
  STRING: 2,
  BYTES: 2,
  MESSAGE: 2,
};

/** What the Avro schema says of one top-level field. */
interface AvroField {
  /** The enum's symbols, for an ENUM field (repeated or not). */
  symbols?: string[];
  /** The Avro default (absent for repeated and required fields). */
  default?: unknown;
  hasDefault: boolean;
  /** The Avro type is `bytes` (defaults are ISO-8859-1 text). */
  bytes: boolean;
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** Every named Avro type (records, enums) by full name, however deep. */
function namedTypes(schema: unknown, namespace: string, out: Map<string, Json>): void {
  if (Array.isArray(schema)) {
    for (const branch of schema) namedTypes(branch, namespace, out);
    return;
  }
  if (!isObject(schema)) return;
  let ns = namespace;
  if (typeof schema.name === "string") {
    ns = typeof schema.namespace === "string" ? schema.namespace : namespace;
    const full = schema.name.includes(".")
      ? schema.name
      : ns
      ? `${ns}.${schema.name}`
      : schema.name;
    out.set(full, schema);
    if (schema.name.includes(".")) ns = full.slice(0, full.lastIndexOf("."));
  }
  if (Array.isArray(schema.fields)) {
    for (const field of schema.fields) if (isObject(field)) namedTypes(field.type, ns, out);
  }
  namedTypes(schema.items, ns, out);
  if (isObject(schema.type) || Array.isArray(schema.type)) namedTypes(schema.type, ns, out);
}

/** The type a reference names, or the type itself; `items` of an array. */
function resolved(type: unknown, named: Map<string, Json>, namespace: string): unknown {
  if (typeof type === "string") {
    return named.get(type) ?? named.get(`${namespace}.${type}`) ?? type;
  }
  if (isObject(type) && type.type === "array") return resolved(type.items, named, namespace);
  if (isObject(type) && typeof type.type !== "string") return resolved(type.type, named, namespace);
  return type;
}

function avroFields(
  schemaText: string,
  what: string,
): { name: string; fields: Map<string, AvroField> } {
  let schema: unknown;
  try {
    schema = JSON.parse(schemaText);
  } catch (cause) {
    throw new SchemaDefinitionError(`${what}: the PROTOBUF schema data is not JSON`, { cause });
  }
  if (!isObject(schema) || schema.type !== "record" || !Array.isArray(schema.fields)) {
    throw new SchemaDefinitionError(`${what}: the PROTOBUF schema data is not an Avro record`);
  }
  const named = new Map<string, Json>();
  namedTypes(schema, "", named);
  const namespace = typeof schema.namespace === "string" ? schema.namespace : "";
  const fields = new Map<string, AvroField>();
  for (const field of schema.fields) {
    if (!isObject(field) || typeof field.name !== "string") continue;
    const type = resolved(field.type, named, namespace);
    const symbols = isObject(type) && type.type === "enum" && Array.isArray(type.symbols)
      ? type.symbols.map(String)
      : undefined;
    fields.set(field.name, {
      symbols,
      default: field.default,
      hasDefault: "default" in field,
      bytes: type === "bytes" || (isObject(type) && type.type === "bytes"),
    });
  }
  return { name: String(schema.name), fields };
}

function parsingInfo(properties: Record<string, string> | undefined, what: string): ParsingInfo[] {
  const text = properties?.[PARSING_INFO];
  if (text === undefined) {
    throw new SchemaDefinitionError(
      `${what} has a PROTOBUF schema without ${PARSING_INFO} (the field numbers), which edgepipe ` +
        "cannot decode (read it with --schema none)",
    );
  }
  let list: unknown;
  try {
    list = JSON.parse(text);
  } catch (cause) {
    throw new SchemaDefinitionError(`${what}: ${PARSING_INFO} is not JSON`, { cause });
  }
  const ok = (e: unknown): e is ParsingInfo =>
    isObject(e) && Number.isInteger(e.number) && (e.number as number) > 0 &&
    typeof e.name === "string" && /^[A-Za-z_]\w*$/.test(e.name) && typeof e.type === "string" &&
    typeof e.label === "string";
  if (!Array.isArray(list) || !list.every(ok)) {
    throw new SchemaDefinitionError(
      `${what}: ${PARSING_INFO} is not a list of {number, name, type, label}`,
    );
  }
  return list;
}

/** Avro's JSON default of a bytes field (one character per byte) as base64. */
function bytesDefault(text: unknown): unknown {
  if (typeof text !== "string") return text;
  return btoa(Array.from(text, (c) => String.fromCharCode(c.charCodeAt(0) & 0xff)).join(""));
}

/** One top-level field: how to read it and what an absent one is. */
interface Plan {
  info: ParsingInfo;
  avro: AvroField;
  repeated: boolean;
}

function plans(info: ParsingInfo[], avro: Map<string, AvroField>, what: string): Plan[] {
  return info.map((entry) => {
    const field = avro.get(entry.name);
    if (!field) {
      throw new SchemaDefinitionError(
        `${what}: field '${entry.name}' of ${PARSING_INFO} is not in the PROTOBUF schema's record`,
      );
    }
    if (!(entry.type in WIRE_TYPES)) {
      throw new SchemaDefinitionError(
        `${what}: field '${entry.name}' has protobuf type ${entry.type}, which edgepipe cannot read`,
      );
    }
    if (entry.type === "ENUM" && !field.symbols) {
      throw new SchemaDefinitionError(`${what}: enum field '${entry.name}' has no Avro enum`);
    }
    return { info: entry, avro: field, repeated: entry.label === "LABEL_REPEATED" };
  });
}

/**
 * Checks that each top-level field the payload carries has its type's wire type (a repeated
 * number may also come packed): protobufjs would read a mismatch as garbage.
 */
function checkWireTypes(bytes: Uint8Array, plan: Map<number, Plan>, message: string): void {
  const reader = protobuf.Reader.create(bytes);
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    const wire = tag & 7;
    const p = plan.get(tag >>> 3);
    if (p) {
      const want = WIRE_OF[p.info.type] ?? 0;
      if (wire !== want && !(p.repeated && want !== 2 && wire === 2)) {
        throw new SchemaValueError(
          `payload is not a protobuf ${message}: field '${p.info.name}' (${tag >>> 3}) has ` +
            `wire type ${wire}, its type ${p.info.type} has ${want}`,
        );
      }
    }
    reader.skipType(wire);
  }
}

function readerType(name: string, plan: Plan[]): protobuf.Type {
  const type = new protobuf.Type(name.replace(/\W/g, "_") || "Message");
  for (const { info, repeated } of plan) {
    const rule = repeated ? "repeated" : undefined; // required is checked after decoding
    type.add(new protobuf.Field(info.name, info.number, WIRE_TYPES[info.type], rule));
  }
  new protobuf.Root().add(type);
  return type;
}

function valueOf(plan: Plan, raw: unknown): unknown {
  const { info, avro, repeated } = plan;
  if (repeated && (raw === undefined || raw === null)) return [];
  if (raw === undefined || raw === null) {
    if (info.type === "MESSAGE") return null;
    return avro.bytes ? bytesDefault(avro.default) : avro.default ?? null;
  }
  if (info.type !== "ENUM") return raw;
  const name = (n: unknown) =>
    typeof n === "number" && n >= 0 && n < avro.symbols!.length ? avro.symbols![n] : n;
  return repeated ? (raw as unknown[]).map(name) : name(raw);
}

/** The codec of a PROTOBUF schema: decode only (edgepipe does not produce PROTOBUF). */
export interface ProtobufLegacyCodec extends AvroCodec {
  /** Top-level fields of a message type, left as their protobuf bytes (base64). */
  readonly undecoded: string[];
}

/**
 * The codec of a PROTOBUF schema's data (the Avro record text) and properties; `what` names the
 * topic in errors. A schema without `__PARSING_INFO__` is a {@linkcode SchemaDefinitionError}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { protobufLegacyCodec } from "./protobuf_legacy.ts";
 * const record = '{"type":"record","name":"M","fields":[{"name":"n","type":"long","default":0}]}';
 * const info = '[{"number":1,"name":"n","type":"SINT64","label":"LABEL_OPTIONAL"}]';
 * const codec = protobufLegacyCodec(record, { __PARSING_INFO__: info }, "t");
 * assert.deepEqual(codec.decode(new Uint8Array([0x08, 0x03])), { n: -2 });
 * assert.deepEqual(codec.decode(new Uint8Array()), { n: 0 });
 * ```
 */
export function protobufLegacyCodec(
  schemaText: string,
  properties: Record<string, string> | undefined,
  what: string,
): ProtobufLegacyCodec {
  const info = parsingInfo(properties, what);
  const avro = avroFields(schemaText, what);
  const plan = plans(info, avro.fields, what);
  let type: protobuf.Type;
  try {
    type = readerType(avro.name, plan);
  } catch (cause) {
    // Two fields of one number or name.
    throw new SchemaDefinitionError(`${what}: ${PARSING_INFO}: ${(cause as Error).message}`, {
      cause,
    });
  }
  const byNumber = new Map(plan.map((p) => [p.info.number, p]));
  const refuse = () => {
    throw new SchemaValueError(`${what}: edgepipe does not write PROTOBUF (use PROTOBUF_NATIVE)`);
  };
  return {
    undecoded: plan.filter((p) => p.info.type === "MESSAGE").map((p) => p.info.name),
    decode(bytes) {
      let raw: Record<string, unknown>;
      try {
        checkWireTypes(bytes, byNumber, avro.name);
        raw = type.toObject(type.decode(bytes), { longs: Number, bytes: String });
      } catch (cause) {
        if (cause instanceof SchemaValueError) throw cause;
        throw new SchemaValueError(
          `payload is not a protobuf ${avro.name}: ${(cause as Error).message}`,
          { cause },
        );
      }
      const out: Record<string, unknown> = {};
      for (const p of plan) {
        if (p.info.label === "LABEL_REQUIRED" && raw[p.info.name] === undefined) {
          // As the Java client's parser: a message without a required field is not one.
          throw new SchemaValueError(
            `payload is not a protobuf ${avro.name}: required field '${p.info.name}' is missing`,
          );
        }
        out[p.info.name] = valueOf(p, raw[p.info.name]);
      }
      return out;
    },
    encode: refuse,
    check: refuse,
  };
}
