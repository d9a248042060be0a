/**
 * Decoding one protobuf message (google.protobuf.Field, ten fields, two repeated options) with
 * the older PROTOBUF schema's codec (top-level fields by `__PARSING_INFO__`, a wire-type check,
 * defaults from the Avro record) and with the PROTOBUF_NATIVE codec (protobufjs from descriptors):
 * the cost of the PROTOBUF path per message against the native one.
 *
 *   deno bench -A bench/protobuf_decode_bench.ts
 *
 * @module
 */
import protobuf from "protobufjs";
import descriptor from "protobufjs/ext/descriptor/index.js";
import { protobufLegacyCodec } from "../lib/schema/protobuf_legacy.ts";
import { protobufNativeSchema } from "../lib/schema/protobuf_native.ts";

// type.proto's Field as protobufjs ships it: the descriptor set of PROTOBUF_NATIVE, and the
// message the payload is encoded from.
const root = protobuf.Root.fromJSON(
  JSON.parse(
    await Deno.readTextFile(
      new URL(import.meta.resolve("protobufjs/google/protobuf/type.json")).pathname,
    ),
  ),
);
const set = descriptor.FileDescriptorSet.encode(
  (root as unknown as { toDescriptor(s: string): protobuf.Message }).toDescriptor("proto3"),
).finish();
const native = protobufNativeSchema(set, "google.protobuf.Field").codec;
const Field = root.lookupType("google.protobuf.Field");
const payload = Field.encode(Field.fromObject({
  kind: 12,
  cardinality: 3,
  number: 2,
  name: "f2",
  typeUrl: "type.googleapis.com/x.Y2",
  oneofIndex: 2,
  packed: true,
  options: [{ name: "o20" }, { name: "o21" }],
  jsonName: "j2",
  defaultValue: "d2",
})).finish();

const symbols = (e: string) => Object.keys(root.lookupEnum(`google.protobuf.Field.${e}`).values);
const str = { type: "string", "avro.java.string": "String" };
const avro = JSON.stringify({
  type: "record",
  name: "Field",
  namespace: "com.google.protobuf",
  fields: [
    { name: "kind", type: { type: "enum", name: "Kind", symbols: symbols("Kind") } },
    {
      name: "cardinality",
      type: { type: "enum", name: "Cardinality", symbols: symbols("Cardinality") },
    },
    { name: "number", type: "int", default: 0 },
    { name: "name", type: str, default: "" },
    { name: "type_url", type: str, default: "" },
    { name: "oneof_index", type: "int", default: 0 },
    { name: "packed", type: "boolean", default: false },
    { name: "options", type: { type: "array", items: "bytes" }, default: [] },
    { name: "json_name", type: str, default: "" },
    { name: "default_value", type: str, default: "" },
  ],
});
const info = JSON.stringify(
  Field.fieldsArray.map((f) => ({
    number: f.id,
    name: f.name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`),
    type: f.name === "kind" || f.name === "cardinality"
      ? "ENUM"
      : f.name === "options"
      ? "MESSAGE"
      : f.type.toUpperCase(),
    label: f.repeated ? "LABEL_REPEATED" : "LABEL_OPTIONAL",
  })),
);
const legacy = protobufLegacyCodec(avro, { __PARSING_INFO__: info }, "bench");

Deno.bench("PROTOBUF (legacy) decode, Field", { group: "field" }, () => {
  legacy.decode(payload);
});
Deno.bench("PROTOBUF_NATIVE decode, Field", { group: "field", baseline: true }, () => {
  native.decode(payload);
});

if (Deno.args.includes("--show")) {
  console.log(JSON.stringify(legacy.decode(payload)));
  console.log(JSON.stringify(native.decode(payload)));
}
