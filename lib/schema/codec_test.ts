// Bytes below were written by the Java client's schemas (Pulsar 4.0.8: Schema.INSTANT.encode(…),
// Schema.KeyValue(STRING, INT32, INLINE).encode(…) …), so the codecs are checked against encodings
// they did not produce themselves.
import assert from "node:assert/strict";
import { compileSchema } from "./codec.ts";
import { SchemaDefinitionError, SchemaValueError } from "./errors.ts";
import { primitiveCodec } from "./primitives.ts";
import type { Schema } from "../pulsar/wire/mod.ts";

const unhex = (text: string) => new Uint8Array(text.match(/../g)!.map((h) => parseInt(h, 16)));
const hex = (bytes: Uint8Array) =>
  Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
const utf8 = new TextEncoder();

const JAVA: [Schema["type"], string, unknown][] = [
  ["Date", "00000000000003e8", 1000],
  ["Instant", "000000000000000500000007", "1970-01-01T00:00:05.000000007Z"],
  ["LocalDate", "0000000000000003", "1970-01-04"],
  ["LocalTime", "0000000000000009", "00:00:00.000000009"],
  ["LocalDateTime", "0000000000000001000000000000000b", "1970-01-02T00:00:00.000000011"],
  ["Float", "3fc00000", 1.5],
];

Deno.test("primitives decode the Java client's bytes and encode back to them", () => {
  for (const [type, bytes, value] of JAVA) {
    const codec = primitiveCodec(type)!;
    assert.deepEqual(codec.decode(unhex(bytes)), value, type);
    assert.equal(hex(codec.encode(value)), bytes, type);
  }
});

Deno.test("primitives refuse values that do not fit, and payloads of the wrong size", () => {
  assert.throws(() => primitiveCodec("Int8")!.encode(128), SchemaValueError);
  assert.throws(() => primitiveCodec("Int32")!.encode(1.5), SchemaValueError);
  assert.throws(() => primitiveCodec("Int64")!.encode("12x"), SchemaValueError);
  assert.throws(() => primitiveCodec("Bool")!.encode("yes"), SchemaValueError);
  assert.throws(() => primitiveCodec("LocalDate")!.encode("2001-02-30"), SchemaValueError);
  assert.throws(() => primitiveCodec("Int32")!.decode(new Uint8Array(3)), /4 bytes, got 3/);
  // INT64 beyond 2^53 stays exact, as text.
  const big = primitiveCodec("Int64")!;
  assert.equal(big.decode(unhex("7fffffffffffffff")), "9223372036854775807");
  assert.equal(hex(big.encode("9223372036854775807")), "7fffffffffffffff");
});

Deno.test("KEY_VALUE INLINE: the Java client's payload and schema data", () => {
  // KeyValueSchemaInfo of (STRING, INT32): both halves' schema data empty.
  const schema: Schema = {
    name: "kv",
    type: "KeyValue",
    schemaData: unhex("0000000000000000"),
    properties: {
      "key.schema.type": "STRING",
      "value.schema.type": "INT32",
      "kv.encoding.type": "INLINE",
    },
  };
  const codec = compileSchema(schema);
  assert.deepEqual(codec.decode(unhex("000000016b0000000400000007")), { key: "k", value: 7 });
  assert.equal(hex(codec.encode({ key: "k", value: 7 }).payload), "000000016b0000000400000007");
  assert.throws(() => codec.decode(unhex("000000056b")), /cut short/);
});

Deno.test("KEY_VALUE SEPARATED: the key comes from the message key's bytes", () => {
  const schema: Schema = {
    name: "kv",
    type: "KeyValue",
    schemaData: unhex("0000000000000000"),
    properties: {
      "key.schema.type": "INT32",
      "value.schema.type": "STRING",
      "kv.encoding.type": "SEPARATED",
    },
  };
  const codec = compileSchema(schema);
  assert.deepEqual(codec.decode(utf8.encode("v"), unhex("000003e8")), { key: 1000, value: "v" });
  assert.deepEqual(codec.decode(utf8.encode("v")), { key: null, value: "v" });
});

Deno.test("AVRO: a value that misses, adds or mistypes a field is refused, naming it", () => {
  const avro = compileSchema({
    name: "r",
    type: "Avro",
    schemaData: utf8.encode(JSON.stringify({
      type: "record",
      name: "R",
      fields: [
        { name: "n", type: "int" },
        { name: "s", type: ["null", "string"], default: null },
        { name: "b", type: "bytes" },
      ],
    })),
  });
  const ok = avro.encode({ n: 1, b: "AAE=" }).payload;
  assert.deepEqual(avro.decode(ok), { n: 1, s: null, b: "AAE=" }, "bytes as base64");
  assert.throws(() => avro.encode({ b: "" }), /n: missing, expected int/);
  assert.throws(() => avro.encode({ n: 1, b: "", x: 2 }), /x not in the schema/);
  assert.throws(() => avro.encode({ n: "1", b: "" }), /n: "1", expected int/);
  assert.throws(() => avro.decode(new Uint8Array([2])), SchemaValueError);
});

Deno.test("schemas edgepipe cannot read say so and how to read the bytes anyway", () => {
  // PROTOBUF decodes (protobuf_legacy_test.ts) only with the field numbers of __PARSING_INFO__.
  const record = utf8.encode('{"type":"record","name":"M","fields":[]}');
  assert.throws(
    () => compileSchema({ name: "t", type: "Protobuf", schemaData: record }, "topic-x"),
    (err: unknown) =>
      err instanceof SchemaDefinitionError &&
      /^topic-x has a PROTOBUF schema without __PARSING_INFO__.*--schema none\)$/.test(err.message),
  );
  const codec = compileSchema({
    name: "t",
    type: "Protobuf",
    schemaData: record,
    properties: { __PARSING_INFO__: "[]" },
  });
  assert.deepEqual(codec.decode(new Uint8Array()), {});
  assert.throws(
    () => compileSchema({ name: "t", type: "AutoConsume", schemaData: new Uint8Array() }, "y"),
    /: y has a AUTO_CONSUME schema, which edgepipe does not decode \(read it with --schema none\)$/,
  );
  assert.throws(
    () => compileSchema({ name: "t", type: "Avro", schemaData: utf8.encode("{nope") }),
    SchemaDefinitionError,
  );
});

Deno.test("time primitives decode and encode the same under other TZs (they are UTC)", async () => {
  const module = new URL("./primitives.ts", import.meta.url).href;
  const cases = JSON.stringify(JAVA.filter(([type]) => type !== "Float"));
  const script = `
    import { primitiveCodec } from "${module}";
    const unhex = (t) => new Uint8Array(t.match(/../g).map((h) => parseInt(h, 16)));
    const hex = (b) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
    console.log(JSON.stringify(${cases}.map(([type, bytes, value]) => [
      primitiveCodec(type).decode(unhex(bytes)), hex(primitiveCodec(type).encode(value)),
    ])));`;
  const expected = JAVA.filter(([type]) => type !== "Float").map(([, bytes, value]) => [
    value,
    bytes,
  ]);
  for (const tz of ["America/New_York", "Asia/Tokyo"]) {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["eval", "--ext=js", script],
      env: { TZ: tz },
    }).output();
    assert.ok(out.success, new TextDecoder().decode(out.stderr));
    assert.deepEqual(JSON.parse(new TextDecoder().decode(out.stdout)), expected, tz);
  }
});
