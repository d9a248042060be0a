/**
 * AVRO and JSON schemas. The Java client writes an AVRO value as plain Avro binary (no
 * single-object header) with the writer's schema; a JSON-schema value as JSON text, the schema
 * being an Avro record definition. Decoding uses the writer's schema of each message's version,
 * so that several versions in one topic each decode as they were written.
 *
 * @module
 */
import avro from "avsc";
import { Buffer } from "node:buffer";
import { SchemaDefinitionError, SchemaValueError } from "./errors.ts";

/** Decodes and encodes values of one Avro schema. */
export interface AvroCodec {
  /** The value of an Avro binary payload. */
  decode(bytes: Uint8Array): unknown;
  /** The Avro binary of a value; {@linkcode SchemaValueError} naming what does not fit. */
  encode(value: unknown): Uint8Array;
  /** Checks a value against the schema, {@linkcode SchemaValueError} naming what does not fit. */
  check(value: unknown): void;
}

const utf8 = new TextDecoder();

/** Turns Buffers (bytes, fixed) into base64 text, so that values are plain JSON. */
function plain(value: unknown): unknown {
  if (value instanceof Uint8Array) return Buffer.from(value).toString("base64");
  if (Array.isArray(value)) return value.map(plain);
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = plain(v);
    return out;
  }
  return value;
}

/** Buffers for base64 text where the schema has bytes: the reverse of `plain`. */
function binaryFields(type: avro.Type, value: unknown): unknown {
  const name = type.typeName;
  if ((name === "bytes" || name === "fixed") && typeof value === "string") {
    return Buffer.from(value, "base64");
  }
  if (name === "record" && value !== null && typeof value === "object") {
    const out: Record<string, unknown> = { ...(value as Record<string, unknown>) };
    for (const field of (type as avro.types.RecordType).fields) {
      if (field.name in out) out[field.name] = binaryFields(field.type, out[field.name]);
    }
    return out;
  }
  if (name === "array" && Array.isArray(value)) {
    return value.map((v) => binaryFields((type as avro.types.ArrayType).itemsType, v));
  }
  return value;
}

/** Why `value` does not fit: the paths avsc reports. */
function misfit(type: avro.Type, value: unknown): string | undefined {
  const problems: string[] = [];
  type.isValid(value, {
    noUndeclaredFields: true,
    errorHook: (path: string[], got: unknown, expected: avro.Type) => {
      const where = path.length > 0 ? path.join(".") : "the value";
      const extra = undeclared(expected, got);
      if (extra.length > 0) {
        problems.push(`${where}: ${extra.join(", ")} not in the schema`);
        return;
      }
      const what = got === undefined ? "missing" : `${JSON.stringify(got) ?? String(got)}`;
      problems.push(`${where}: ${what}, expected ${describe(expected)}`);
    },
  });
  return problems.length > 0 ? problems.slice(0, 3).join("; ") : undefined;
}

/** Fields of a record value its record type does not declare. */
function undeclared(type: avro.Type, value: unknown): string[] {
  if (type.typeName !== "record" || value === null || typeof value !== "object") return [];
  const declared = new Set((type as avro.types.RecordType).fields.map((f) => f.name));
  return Object.keys(value).filter((k) => !declared.has(k));
}

function describe(type: avro.Type): string {
  const schema = type.schema() as unknown;
  const text = typeof schema === "string" ? schema : JSON.stringify(schema);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/**
 * The codec of an Avro schema given as its JSON text.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { avroCodec } from "./avro.ts";
 * const codec = avroCodec('{"type":"record","name":"R","fields":[{"name":"n","type":"int"}]}');
 * assert.deepEqual(codec.decode(codec.encode({ n: 3 })), { n: 3 });
 * assert.throws(() => codec.encode({}), /n: missing/);
 * ```
 */
export function avroCodec(schemaText: string, what = "AVRO schema"): AvroCodec {
  let type: avro.Type;
  try {
    type = avro.Type.forSchema(JSON.parse(schemaText), { wrapUnions: "auto" });
  } catch (cause) {
    throw new SchemaDefinitionError(`${what}: ${(cause as Error).message}`, { cause });
  }
  const hasBinary = /"(bytes|fixed)"/.test(schemaText);
  const check = (value: unknown) => {
    const why = misfit(type, value);
    if (why) throw new SchemaValueError(`value does not fit the ${what}: ${why}`);
  };
  return {
    decode(bytes) {
      const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      let value: unknown;
      try {
        value = type.fromBuffer(buffer);
      } catch (cause) {
        throw new SchemaValueError(
          `payload is not Avro of its ${what}: ${(cause as Error).message}`,
          {
            cause,
          },
        );
      }
      return hasBinary ? plain(value) : { ...(value as object) };
    },
    encode(value) {
      const typed = hasBinary ? binaryFields(type, value) : value;
      check(typed);
      return new Uint8Array(type.toBuffer(typed));
    },
    check(value) {
      check(hasBinary ? binaryFields(type, value) : value);
    },
  };
}

/**
 * The codec of a JSON schema: JSON text in the payload, values checked against the schema's Avro
 * record definition when it has one.
 */
export function jsonCodec(schemaText: string): AvroCodec {
  let checker: AvroCodec | undefined;
  try {
    if (schemaText.trim() !== "") checker = avroCodec(schemaText, "JSON schema");
  } catch {
    checker = undefined; // not an Avro-style definition: JSON without checks
  }
  return {
    decode(bytes) {
      try {
        return JSON.parse(utf8.decode(bytes));
      } catch (cause) {
        throw new SchemaValueError(`payload of a JSON schema is not JSON`, { cause });
      }
    },
    encode(value) {
      checker?.check(value);
      return new TextEncoder().encode(JSON.stringify(value));
    },
    check(value) {
      checker?.check(value);
    },
  };
}
