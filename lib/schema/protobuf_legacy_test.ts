// Payloads below are protobuf wire bytes encoded by hand from the encoding spec (tag = number << 3
// | wire type; varints little-endian base 128; zigzag for sint; fixed little-endian), and the
// schemas are written out as avro-protobuf's ProtobufData.getSchema and the Java client's
// ProtobufSchema build them (record per message, union with null for a singular message field,
// array for repeated, enum symbols in declaration order, defaults 0 / "" / false / first symbol).
import assert from "node:assert/strict";
import { protobufLegacyCodec } from "./protobuf_legacy.ts";
import { compileSchema } from "./codec.ts";
import { SchemaDefinitionError, SchemaValueError } from "./errors.ts";
import { TopicSchemas } from "./topic_schemas.ts";
import { Message, MessageId } from "../pulsar/mod.ts";

const bytes = (...b: number[]) => new Uint8Array(b);
const text = (s: string) => [...new TextEncoder().encode(s)];
const info = (...fields: [number, string, string, string?][]) =>
  JSON.stringify(fields.map(([number, name, type, label]) => ({
    number,
    name,
    type,
    label: label ?? "LABEL_OPTIONAL",
    definition: null,
  })));

/**
 * google.protobuf.Field (type.proto) as ProtobufData.getSchema(Field.class) gives it; the schema
 * a Pulsar 4.0.8 broker stored after a Java producer with Schema.PROTOBUF(Field.class) is this.
 */
const FIELD_AVRO = JSON.stringify({
  type: "record",
  name: "Field",
  namespace: "com.google.protobuf",
  fields: [
    {
      name: "kind",
      type: {
        type: "enum",
        name: "Kind",
        namespace: "com.google.protobuf.Field",
        symbols: [
          "TYPE_UNKNOWN",
          "TYPE_DOUBLE",
          "TYPE_FLOAT",
          "TYPE_INT64",
          "TYPE_UINT64",
          "TYPE_INT32",
          "TYPE_FIXED64",
          "TYPE_FIXED32",
          "TYPE_BOOL",
          "TYPE_STRING",
          "TYPE_GROUP",
          "TYPE_MESSAGE",
          "TYPE_BYTES",
          "TYPE_UINT32",
          "TYPE_ENUM",
          "TYPE_SFIXED32",
          "TYPE_SFIXED64",
          "TYPE_SINT32",
          "TYPE_SINT64",
        ],
      },
      default: "TYPE_UNKNOWN",
    },
    {
      name: "cardinality",
      type: {
        type: "enum",
        name: "Cardinality",
        namespace: "com.google.protobuf.Field",
        symbols: [
          "CARDINALITY_UNKNOWN",
          "CARDINALITY_OPTIONAL",
          "CARDINALITY_REQUIRED",
          "CARDINALITY_REPEATED",
        ],
      },
      default: "CARDINALITY_UNKNOWN",
    },
    { name: "number", type: "int", default: 0 },
    { name: "name", type: { type: "string", "avro.java.string": "String" }, default: "" },
    { name: "type_url", type: { type: "string", "avro.java.string": "String" }, default: "" },
    { name: "oneof_index", type: "int", default: 0 },
    { name: "packed", type: "boolean", default: false },
    {
      name: "options",
      type: {
        type: "array",
        items: {
          type: "record",
          name: "Option",
          fields: [
            { name: "name", type: { type: "string", "avro.java.string": "String" }, default: "" },
            {
              name: "value",
              type: ["null", {
                type: "record",
                name: "Any",
                fields: [
                  { name: "type_url", type: "string", default: "" },
                  { name: "value", type: "bytes", default: "" },
                ],
              }],
              default: null,
            },
          ],
        },
      },
      default: [],
    },
    { name: "json_name", type: { type: "string", "avro.java.string": "String" }, default: "" },
    { name: "default_value", type: { type: "string", "avro.java.string": "String" }, default: "" },
  ],
});

const FIELD_INFO = info(
  [1, "kind", "ENUM"],
  [2, "cardinality", "ENUM"],
  [3, "number", "INT32"],
  [4, "name", "STRING"],
  [6, "type_url", "STRING"],
  [7, "oneof_index", "INT32"],
  [8, "packed", "BOOL"],
  [9, "options", "MESSAGE", "LABEL_REPEATED"],
  [10, "json_name", "STRING"],
  [11, "default_value", "STRING"],
);

Deno.test("PROTOBUF: google.protobuf.Field decodes field by field; options stay protobuf bytes", () => {
  const codec = protobufLegacyCodec(FIELD_AVRO, { __PARSING_INFO__: FIELD_INFO }, "t");
  const payload = bytes(
    ...[0x08, 0x03], // kind = 3 (TYPE_INT64)
    ...[0x10, 0x01], // cardinality = 1 (CARDINALITY_OPTIONAL)
    ...[0x18, 0xfb, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01], // number = -5
    ...[0x22, 0x02, ...text("f1")], // name
    ...[0x40, 0x01], // packed = true
    ...[0x4a, 0x04, 0x0a, 0x02, ...text("o1")], // options[0] = Option { name: "o1" }
    ...[0x52, 0x02, ...text("j1")], // json_name
  );
  assert.deepEqual(codec.decode(payload), {
    kind: "TYPE_INT64",
    cardinality: "CARDINALITY_OPTIONAL",
    number: -5,
    name: "f1",
    type_url: "",
    oneof_index: 0,
    packed: true,
    options: ["CgJvMQ=="], // base64 of 0a 02 6f 31
    json_name: "j1",
    default_value: "",
  });
  assert.deepEqual(codec.undecoded, ["options"]);
  // Nothing set: every field at its default, a repeated one empty.
  assert.deepEqual(codec.decode(bytes()), {
    kind: "TYPE_UNKNOWN",
    cardinality: "CARDINALITY_UNKNOWN",
    number: 0,
    name: "",
    type_url: "",
    oneof_index: 0,
    packed: false,
    options: [],
    json_name: "",
    default_value: "",
  });
});

Deno.test("PROTOBUF: every scalar wire type, packed and unpacked repeats, enums past the symbols", () => {
  const color = { type: "enum", name: "Color", symbols: ["RED", "GREEN", "BLUE"] };
  const avro = JSON.stringify({
    type: "record",
    name: "Sample",
    namespace: "test.Proto",
    fields: [
      ...["i32", "s32"].map((name) => ({ name, type: "int", default: 0 })),
      ...["s64", "u64"].map((name) => ({ name, type: "long", default: 0 })),
      ...["f32", "sf32"].map((name) => ({ name, type: "int", default: 0 })),
      { name: "f64", type: "long", default: 0 },
      { name: "fl", type: "float", default: 0 },
      { name: "db", type: "double", default: 0 },
      { name: "ok", type: "boolean", default: false },
      { name: "data", type: "bytes", default: "" },
      { name: "ints", type: { type: "array", items: "int" } },
      { name: "more", type: { type: "array", items: "int" } },
      { name: "colors", type: { type: "array", items: color } },
    ],
  });
  const parsing = info(
    [1, "i32", "INT32"],
    [2, "s32", "SINT32"],
    [3, "s64", "SINT64"],
    [4, "u64", "UINT64"],
    [5, "f32", "FIXED32"],
    [6, "sf32", "SFIXED32"],
    [7, "f64", "FIXED64"],
    [8, "fl", "FLOAT"],
    [9, "db", "DOUBLE"],
    [10, "ok", "BOOL"],
    [11, "data", "BYTES"],
    [12, "ints", "INT32", "LABEL_REPEATED"],
    [13, "more", "SINT32", "LABEL_REPEATED"],
    [14, "colors", "ENUM", "LABEL_REPEATED"],
  );
  const codec = protobufLegacyCodec(avro, { __PARSING_INFO__: parsing }, "t");
  const payload = bytes(
    ...[0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01], // i32 = -1
    ...[0x10, 0x05], // s32 = zigzag 5 = -3
    ...[0x18, 0xff, 0xff, 0xff, 0xff, 0xff, 0x3f], // s64 = zigzag 2^41-1 = -2^40
    ...[0x20, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01], // u64 = 2^63
    ...[0x2d, 0x00, 0x28, 0x6b, 0xee], // f32 = 0xee6b2800
    ...[0x35, 0xfe, 0xff, 0xff, 0xff], // sf32 = -2
    ...[0x39, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00], // f64 = 2^40
    ...[0x45, 0x00, 0x00, 0xc0, 0x3f], // fl = 1.5 (0x3fc00000)
    ...[0x49, 0, 0, 0, 0, 0, 0, 0xd0, 0xbf], // db = -0.25 (0xbfd0000000000000)
    ...[0x50, 0x01], // ok
    ...[0x5a, 0x02, 0x00, 0xff], // data
    ...[0x62, 0x03, 0x01, 0xac, 0x02], // ints packed [1, 300]
    ...[0x68, 0x01, 0x68, 0x02], // more unpacked [zigzag 1, zigzag 2] = [-1, 1]
    ...[0x72, 0x03, 0x02, 0x00, 0x07], // colors packed [2, 0, 7]
    ...[0x78, 0x09], // field 15: not in the schema, skipped as protobuf readers do
  );
  assert.deepEqual(codec.decode(payload), {
    i32: -1,
    s32: -3,
    s64: -1099511627776,
    u64: 9223372036854775808,
    f32: 4000000000,
    sf32: -2,
    f64: 1099511627776,
    fl: 1.5,
    db: -0.25,
    ok: true,
    data: "AP8=",
    ints: [1, 300],
    more: [-1, 1],
    colors: ["BLUE", "RED", 7],
  });
  assert.deepEqual(codec.undecoded, []);
});

/** A proto2-style message: explicit defaults, a required field, a nested message, a named enum. */
const DEFAULTS_AVRO = JSON.stringify({
  type: "record",
  name: "Settings",
  namespace: "test.Proto",
  fields: [
    {
      name: "first",
      type: { type: "enum", name: "Color", symbols: ["RED", "GREEN", "BLUE"] },
      default: "RED",
    },
    { name: "color", type: "Color", default: "GREEN" },
    { name: "label", type: "string", default: "none" },
    { name: "blob", type: "bytes", default: "\u0000\u00ff" },
    {
      name: "inner",
      type: ["null", { type: "record", name: "Inner", fields: [{ name: "x", type: "int" }] }],
      default: null,
    },
    { name: "req", type: "int" },
  ],
});
const DEFAULTS_INFO = info(
  [1, "first", "ENUM"],
  [2, "color", "ENUM"],
  [3, "label", "STRING"],
  [4, "blob", "BYTES"],
  [5, "inner", "MESSAGE"],
  [6, "req", "INT32", "LABEL_REQUIRED"],
);

Deno.test("PROTOBUF: absent fields take the schema's defaults; a missing required field fails", () => {
  const codec = protobufLegacyCodec(DEFAULTS_AVRO, { __PARSING_INFO__: DEFAULTS_INFO }, "t");
  assert.deepEqual(codec.decode(bytes(0x30, 0x07)), {
    first: "RED",
    color: "GREEN",
    label: "none",
    blob: "AP8=",
    inner: null,
    req: 7,
  });
  // The enum named by reference resolves; the nested message keeps its bytes.
  assert.deepEqual(codec.decode(bytes(0x10, 0x02, 0x2a, 0x02, 0x08, 0x01, 0x30, 0x00)), {
    first: "RED",
    color: "BLUE",
    label: "none",
    blob: "AP8=",
    inner: "CAE=",
    req: 0,
  });
  assert.deepEqual(codec.undecoded, ["inner"]);
  assert.throws(
    () => codec.decode(bytes(0x10, 0x02)),
    (err: unknown) =>
      err instanceof SchemaValueError &&
      /payload is not a protobuf Settings.*req/.test(err.message),
  );
});

Deno.test("PROTOBUF: bad payloads are value errors; a schema without field numbers is refused", () => {
  const codec = protobufLegacyCodec(FIELD_AVRO, { __PARSING_INFO__: FIELD_INFO }, "t");
  assert.throws(() => codec.decode(bytes(0x22, 0x05, 0x61)), SchemaValueError, "cut short");
  assert.throws(() => codec.decode(bytes(0x08)), SchemaValueError, "varint cut short");
  assert.throws(() => codec.encode({}), SchemaValueError);
  // name (4) sent as a varint: not a Field, though the bytes themselves parse.
  assert.throws(
    () => codec.decode(bytes(0x20, 0x01)),
    /field 'name' \(4\) has wire type 0, its type STRING has 2/,
  );
  // kind (1) as fixed32.
  assert.throws(() => codec.decode(bytes(0x0d, 1, 0, 0, 0)), /'kind' \(1\) has wire type 5/);
  assert.throws(
    () => protobufLegacyCodec(FIELD_AVRO, {}, "persistent://public/default/t"),
    (err: unknown) =>
      err instanceof SchemaDefinitionError &&
      err.message ===
        "persistent://public/default/t has a PROTOBUF schema without __PARSING_INFO__ " +
          "(the field numbers), which edgepipe cannot decode (read it with --schema none)",
  );
  const wrong = info([1, "nope", "INT32"]);
  assert.throws(
    () => protobufLegacyCodec(FIELD_AVRO, { __PARSING_INFO__: wrong }, "t"),
    /field 'nope' of __PARSING_INFO__ is not in the PROTOBUF schema's record/,
  );
  assert.throws(
    () =>
      protobufLegacyCodec(FIELD_AVRO, {
        __PARSING_INFO__: info([1, "kind", "ENUM"], [1, "name", "STRING"]),
      }, "t"),
    (err: unknown) => err instanceof SchemaDefinitionError && /duplicate/i.test(err.message),
  );
  assert.throws(
    () => protobufLegacyCodec(FIELD_AVRO, { __PARSING_INFO__: "{" }, "t"),
    /__PARSING_INFO__ is not JSON/,
  );
  assert.throws(
    () => protobufLegacyCodec("{}", { __PARSING_INFO__: FIELD_INFO }, "t"),
    /not an Avro record/,
  );
});

Deno.test("PROTOBUF through compileSchema, a KEY_VALUE half, and the envelope's label", async () => {
  const utf8 = new TextEncoder();
  const schemaData = utf8.encode(FIELD_AVRO);
  const codec = compileSchema({
    name: "t",
    type: "Protobuf",
    schemaData,
    properties: { __PARSING_INFO__: FIELD_INFO },
  });
  assert.deepEqual(codec.undecoded, ["options"]);
  assert.equal((codec.decode(bytes(0x22, 0x01, 0x61)) as { name: string }).name, "a");
  // KEY_VALUE(STRING, PROTOBUF) INLINE: the half's properties travel as JSON text.
  const kvData = new Uint8Array(8 + schemaData.length);
  new DataView(kvData.buffer).setInt32(4, schemaData.length);
  kvData.set(schemaData, 8);
  const kv = compileSchema({
    name: "kv",
    type: "KeyValue",
    schemaData: kvData,
    properties: {
      "key.schema.type": "STRING",
      "value.schema.type": "PROTOBUF",
      "value.schema.properties": JSON.stringify({ __PARSING_INFO__: FIELD_INFO }),
      "kv.encoding.type": "INLINE",
    },
  });
  assert.deepEqual(kv.undecoded, ["value.options"]);
  const kvPayload = bytes(0, 0, 0, 1, 0x6b, 0, 0, 0, 2, 0x40, 0x01);
  const decoded = kv.decode(kvPayload) as { key: string; value: { packed: boolean } };
  assert.equal(decoded.key, "k");
  assert.equal(decoded.value.packed, true);
  // The envelope's schema label names the fields left as bytes.
  const schemas = new TopicSchemas((_topic, version) =>
    Promise.resolve({
      version,
      schema: {
        name: "public/default/t",
        type: "Protobuf",
        schemaData,
        properties: {
          __PARSING_INFO__: FIELD_INFO,
        },
      },
    })
  );
  const msg = new Message("persistent://public/default/t", new MessageId(1n, 1n), bytes(), {
    publishTime: 1,
    schemaVersion: new Uint8Array(8),
  });
  const out = await schemas.decode(msg, "persistent://public/default/t");
  assert.deepEqual(out?.schema, {
    type: "PROTOBUF",
    name: "public/default/t",
    version: 0,
    undecoded: ["options"],
  });
});
