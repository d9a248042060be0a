/**
 * `produce --schema`: the schema a producer registers (or checks) with the broker when it is
 * created, and the codec that turns each event's payload into bytes of that schema.
 *
 * ```
 * avro:<file.avsc>                          an Avro schema (JSON); payloads Avro binary
 * json:<file>                               an Avro-style record definition; payloads JSON text
 * protobuf-native:<descriptor set>:<Msg>    a FileDescriptorSet (protoc --include_imports
 *                                           --descriptor_set_out) and the message's full name
 * string                                    STRING: text as it is, other payloads as JSON text
 * auto                                      the topic's latest schema, as the broker has it
 * ```
 *
 * @module
 */
import type { PulsarClient, Schema } from "../pulsar/mod.ts";
import { avroCodec, jsonCodec } from "./avro.ts";
import { compileSchema } from "./codec.ts";
import type { ProducerSchema } from "./types.ts";
import { SchemaDefinitionError } from "./errors.ts";
import { protobufNativeSchema } from "./protobuf_native.ts";
import type { ProducerSchemaSpec } from "./producer_schema_spec.ts";

export { parseProducerSchema, type ProducerSchemaSpec } from "./producer_schema_spec.ts";
export type { ProducerSchema } from "./types.ts";

const utf8 = new TextEncoder();
const JAVA_AVRO_PROPERTIES = { __alwaysAllowNull: "true", __jsr310ConversionEnabled: "false" };

async function read<T>(file: string, reader: (f: string) => Promise<T>): Promise<T> {
  try {
    return await reader(file);
  } catch (cause) {
    throw new SchemaDefinitionError(
      `cannot read schema file ${file}: ${(cause as Error).message}`,
      {
        cause,
      },
    );
  }
}

function localName(topic: string): string {
  return topic.replace(/^[a-z-]+:\/\//, "").split("/").pop() ?? topic;
}

/**
 * Reads the files of a spec (or, for `auto`, the topic's latest schema from the broker) and
 * compiles it; a schema that cannot be used is a {@linkcode SchemaDefinitionError}.
 */
export async function loadProducerSchema(
  spec: ProducerSchemaSpec,
  topic: string,
  client?: PulsarClient,
): Promise<ProducerSchema> {
  const name = localName(topic);
  switch (spec.kind) {
    case "avro":
    case "json": {
      const text = await read(spec.file, Deno.readTextFile);
      let compact: string;
      try {
        compact = JSON.stringify(JSON.parse(text));
      } catch (cause) {
        throw new SchemaDefinitionError(`schema file ${spec.file} is not JSON`, { cause });
      }
      const codec = spec.kind === "avro"
        ? avroCodec(compact, `AVRO schema ${spec.file}`)
        : jsonCodec(compact);
      const schema: Schema = {
        name,
        type: spec.kind === "avro" ? "Avro" : "Json",
        schemaData: utf8.encode(compact),
        properties: JAVA_AVRO_PROPERTIES,
      };
      return {
        schema,
        codec: {
          type: schema.type,
          decode: codec.decode,
          encode: (v) => ({ payload: codec.encode(v) }),
        },
      };
    }
    case "protobuf-native": {
      const set = await read(spec.file, Deno.readFile);
      const { schemaData, codec } = protobufNativeSchema(
        set,
        spec.message,
        `descriptor set ${spec.file}`,
      );
      return {
        schema: { name, type: "ProtobufNative", schemaData: utf8.encode(schemaData) },
        codec: {
          type: "ProtobufNative",
          decode: codec.decode,
          encode: (v) => ({ payload: codec.encode(v) }),
        },
      };
    }
    case "string": {
      const schema: Schema = { name, type: "String", schemaData: new Uint8Array(0) };
      const strings = compileSchema(schema);
      return {
        schema,
        codec: {
          ...strings,
          encode: (v) => strings.encode(typeof v === "string" ? v : JSON.stringify(v)),
        },
      };
    }
    case "auto": {
      if (!client) throw new SchemaDefinitionError("--schema auto needs the broker");
      let schema: Schema;
      try {
        schema = (await client.getSchema(topic)).schema;
      } catch (cause) {
        throw new SchemaDefinitionError(
          `--schema auto: ${topic} has no schema to produce with (${(cause as Error).message})`,
          { cause },
        );
      }
      return { schema, codec: compileSchema(schema, topic) };
    }
  }
}
