/**
 * PROTOBUF_NATIVE schemas: the schema data is JSON
 * `{"fileDescriptorSet": <base64 FileDescriptorSet>, "rootMessageTypeName": "pkg.Msg",
 * "rootFileDescriptorName": "file.proto"}`, and each payload is the protobuf binary of the root
 * message. Values: proto field names, enums by name, 64-bit integers as numbers, bytes as base64,
 * fields at their defaults included.
 *
 * @module
 */
import protobuf from "protobufjs";
import descriptor from "protobufjs/ext/descriptor/index.js";
import { SchemaDefinitionError, SchemaValueError } from "./errors.ts";
import type { AvroCodec } from "./avro.ts";

const TO_OBJECT = { enums: String, longs: Number, bytes: String, defaults: true } as const;

interface FileProto {
  name?: string;
  package?: string;
  messageType?: { name?: string }[];
}

function b64(bytes: Uint8Array): string {
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(text);
}

function rootOf(set: Uint8Array, what: string): protobuf.Root {
  try {
    const decoded = descriptor.FileDescriptorSet.decode(set);
    return (protobuf.Root as unknown as { fromDescriptor(d: unknown): protobuf.Root })
      .fromDescriptor(decoded);
  } catch (cause) {
    throw new SchemaDefinitionError(`${what}: not a protobuf FileDescriptorSet`, { cause });
  }
}

function typeOf(root: protobuf.Root, message: string, what: string): protobuf.Type {
  try {
    return root.lookupType(message.replace(/^\./, ""));
  } catch (cause) {
    const names: string[] = [];
    const walk = (ns: protobuf.NamespaceBase) => {
      for (const nested of ns.nestedArray) {
        if (nested instanceof protobuf.Type) names.push(nested.fullName.replace(/^\./, ""));
        if (nested instanceof protobuf.Namespace) walk(nested);
      }
    };
    walk(root);
    throw new SchemaDefinitionError(
      `${what} has no message '${message}' (it has: ${names.slice(0, 10).join(", ") || "none"})`,
      { cause },
    );
  }
}

/**
 * A copy of `value` with enum names as their numbers, which `verify` wants; a field the message
 * does not have or an enum name it does not know is a {@linkcode SchemaValueError}.
 */
function normalized(type: protobuf.Type, value: unknown, path: string): unknown {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new SchemaValueError(
      `${path || type.name} needs an object, got ${JSON.stringify(value)}`,
    );
  }
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    const field = type.fields[key];
    const where = path ? `${path}.${key}` : key;
    if (!field) throw new SchemaValueError(`${where} is not a field of ${type.fullName.slice(1)}`);
    field.resolve();
    const one = (item: unknown, at: string): unknown => {
      if (field.resolvedType instanceof protobuf.Enum && typeof item === "string") {
        const n = field.resolvedType.values[item];
        if (n === undefined) {
          throw new SchemaValueError(`${at}: '${item}' is not a value of ${field.type}`);
        }
        return n;
      }
      if (field.resolvedType instanceof protobuf.Type && item !== null) {
        return normalized(field.resolvedType, item, at);
      }
      return item;
    };
    out[key] = field.repeated && Array.isArray(v)
      ? v.map((item, i) => one(item, `${where}[${i}]`))
      : one(v, where);
  }
  return out;
}

function codecOf(type: protobuf.Type): AvroCodec {
  const check = (value: unknown) => {
    const plain = normalized(type, value, "") as Record<string, unknown>;
    const why = type.verify(plain);
    if (why) throw new SchemaValueError(`value does not fit ${type.name}: ${why}`);
    return plain;
  };
  return {
    decode(bytes) {
      try {
        return type.toObject(type.decode(bytes), TO_OBJECT);
      } catch (cause) {
        throw new SchemaValueError(
          `payload is not a protobuf ${type.name}: ${(cause as Error).message}`,
          { cause },
        );
      }
    },
    encode(value) {
      return type.encode(type.fromObject(check(value))).finish();
    },
    check: (value) => void check(value),
  };
}

/** The codec of a PROTOBUF_NATIVE schema's data. */
export function protobufNativeCodec(schemaData: string): AvroCodec {
  let info: { fileDescriptorSet?: string; rootMessageTypeName?: string };
  try {
    info = JSON.parse(schemaData);
  } catch (cause) {
    throw new SchemaDefinitionError("PROTOBUF_NATIVE schema data is not JSON", { cause });
  }
  if (typeof info.fileDescriptorSet !== "string" || typeof info.rootMessageTypeName !== "string") {
    throw new SchemaDefinitionError(
      "PROTOBUF_NATIVE schema data lacks fileDescriptorSet or rootMessageTypeName",
    );
  }
  const set = Uint8Array.from(atob(info.fileDescriptorSet), (c) => c.charCodeAt(0));
  const what = "PROTOBUF_NATIVE descriptor set";
  return codecOf(typeOf(rootOf(set, what), info.rootMessageTypeName, what));
}

/**
 * The schema data (JSON text) and codec of message `message` of a descriptor set file
 * (`protoc --include_imports --descriptor_set_out=…`), as the Java client registers it.
 */
export function protobufNativeSchema(
  set: Uint8Array,
  message: string,
  what = "descriptor set",
): { schemaData: string; codec: AvroCodec } {
  const type = typeOf(rootOf(set, what), message, what);
  const full = type.fullName.replace(/^\./, "");
  const files = (descriptor.FileDescriptorSet.decode(set) as unknown as { file: FileProto[] })
    .file;
  const file = files.find((f) =>
    (f.messageType ?? []).some((m) => (f.package ? `${f.package}.${m.name}` : m.name) === full)
  );
  if (!file?.name) {
    throw new SchemaDefinitionError(`${what}: '${message}' is not a top-level message of a file`);
  }
  const schemaData = JSON.stringify({
    fileDescriptorSet: b64(set),
    rootMessageTypeName: full,
    rootFileDescriptorName: file.name,
  });
  return { schemaData, codec: codecOf(type) };
}
