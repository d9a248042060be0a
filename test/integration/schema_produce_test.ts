/**
 * `produce --schema` against the Java client on the real broker: edgepipe registers the schema
 * and encodes each value; a Java consumer with the matching schema (Schema.AVRO / Schema.JSON of
 * its POJO, Schema.PROTOBUF_NATIVE of google.protobuf.Field, Schema.STRING) reads them back
 * field by field. Bad input: an incompatible schema, a value missing a required Avro field, a
 * descriptor set that does not name the message.
 */
import assert from "node:assert/strict";
import { BrokerError, PulsarAdmin, PulsarClient, type Schema } from "../../lib/pulsar/mod.ts";
import { pulsarUrls } from "../harness/pulsar.ts";
import { runEdgepipe } from "../harness/edgepipe.ts";
import { javaProgram } from "../harness/java_client.ts";

const integration = { sanitizeOps: false, sanitizeResources: false };
const java = javaProgram(
  new URL("./java/SchemaInterop.java", import.meta.url).pathname,
  "SchemaInterop",
);

let files: Promise<string> | undefined;

/** Java's schema files (Reading's Avro schema, a descriptor set): `<base>.avsc`, `<base>.pb`. */
function javaFiles(): Promise<string> {
  return files ??= (async () => {
    const base = `${await Deno.makeTempDir()}/reading`;
    await java(["files", base]);
    return base;
  })();
}

const readings = [0, 1, 2].map((i) => ({
  sensor: `s-${i}`,
  count: i,
  total: 10_000_000_000 + i,
  temp: 20.25 + i,
  ratio: 0.5 + i,
  ok: i % 2 === 0,
  note: i === 1 ? null : `n${i}`,
  tags: [`a${i}`, "b"],
}));

async function produce(topic: string, args: string[], lines: unknown[]) {
  const { serviceUrl } = await pulsarUrls();
  return await runEdgepipe(["produce", topic, ...args], {
    env: { PULSAR_SERVICE_URL: serviceUrl },
    stdin: lines.map((l) => JSON.stringify(l)).join("\n") + "\n",
  });
}

interface JavaRead {
  topic: string;
  value: unknown;
  key: string | null;
  version: number;
}

/** One JVM reads every `[topic, kind, count]` with the matching Java schema. */
async function javaConsumes(cases: [string, string, number][]): Promise<JavaRead[]> {
  const { serviceUrl } = await pulsarUrls();
  const file = await Deno.makeTempFile();
  await java(["consume", serviceUrl, file, ...cases.flatMap(([t, k, n]) => [t, k, String(n)])]);
  const lines = (await Deno.readTextFile(file)).trim().split("\n").map((l) => JSON.parse(l));
  await Deno.remove(file);
  return lines;
}

/** Schema.KeyValue(INT32, JSON(Reading), SEPARATED) as the Java client's SchemaInfo has it. */
function kvSchema(readingDefinition: Uint8Array): Schema {
  const data = new Uint8Array(8 + readingDefinition.length);
  const view = new DataView(data.buffer);
  view.setInt32(0, 0); // INT32's schema data is empty
  view.setInt32(4, readingDefinition.length);
  data.set(readingDefinition, 8);
  return {
    name: "kv",
    type: "KeyValue",
    schemaData: data,
    properties: {
      "key.schema.name": "INT32",
      "key.schema.type": "INT32",
      "key.schema.properties": "{}",
      "value.schema.name": "",
      "value.schema.type": "JSON",
      "value.schema.properties": '{"__alwaysAllowNull":"true","__jsr310ConversionEnabled":"false"}',
      "kv.encoding.type": "SEPARATED",
    },
  };
}

const topicOf = (name: string) =>
  `persistent://public/default/schema-produce-${name}-${crypto.randomUUID()}`;

Deno.test({
  name: "produce --schema avro|json|string|protobuf-native and run's schema sink: Java reads them",
  ...integration,
  async fn() {
    const base = await javaFiles();
    const cases = [
      { kind: "avro", schema: `avro:${base}.avsc`, values: readings, want: readings },
      {
        kind: "json",
        schema: `json:${base}.avsc`,
        values: readings,
        want: readings,
      },
      {
        kind: "string",
        schema: "string",
        values: ["héllo ✓", { a: 1 }],
        want: ["héllo ✓", '{"a":1}'],
      },
      {
        kind: "protobuf-native",
        schema: `protobuf-native:${base}.pb:google.protobuf.Field`,
        values: [
          {
            name: "f1",
            number: 1,
            kind: "TYPE_STRING",
            packed: true,
            json_name: "j1",
            options: [{ name: "o1" }],
          },
          { name: "f2", number: 2, kind: "TYPE_INT64" },
        ],
        want: [
          {
            name: "f1",
            number: 1,
            kind: "TYPE_STRING",
            packed: true,
            json_name: "j1",
            option_name: "o1",
          },
          {
            name: "f2",
            number: 2,
            kind: "TYPE_INT64",
            packed: false,
            json_name: "",
            option_name: null,
          },
        ],
      },
    ];
    const topics = cases.map((c) => topicOf(c.kind));
    for (const [i, c] of cases.entries()) {
      const lines = c.values.map((value, n) => ({ key: `k${n}`, value }));
      const run = await produce(topics[i], ["--schema", c.schema], lines);
      assert.equal(run.code, 0, `${c.kind}: ${run.stderr}`);
    }
    // edgepipe run: the Avro topic read with its schema, written again with it to another topic.
    const piped = topicOf("run");
    const pipeline = `${await Deno.makeTempDir()}/avro.yaml`;
    await Deno.writeTextFile(
      pipeline,
      `source:\n  consume: { topic: '${topics[0]}', subscription: run, exitAtEnd: true, ` +
        `schema: auto }\nsink: { to: 'topic:${piped}', schema: 'avro:${base}.avsc' }\n`,
    );
    const { serviceUrl } = await pulsarUrls();
    const ran = await runEdgepipe(["run", pipeline], { env: { PULSAR_SERVICE_URL: serviceUrl } });
    assert.equal(ran.code, 0, ran.stderr);
    // KEY_VALUE SEPARATED, registered with GET_OR_CREATE_SCHEMA as the Java client describes it,
    // then produced with --schema auto: the key travels as the message key (base64).
    const kvTopic = topicOf("kv");
    const client = new PulsarClient({ serviceUrl });
    await new PulsarAdmin({ adminUrl: (await pulsarUrls()).adminUrl }).createTopic(kvTopic);
    try {
      const kv = kvSchema(await Deno.readFile(`${base}.avsc`));
      const version = await client.getOrCreateSchema(kvTopic, kv);
      assert.deepEqual(version, new Uint8Array(8), "the first version is 0");
      assert.deepEqual(await client.getOrCreateSchema(kvTopic, kv), version, "found, not added");
    } finally {
      await client.close();
    }
    const kvRun = await produce(
      kvTopic,
      ["--schema", "auto"],
      readings.map((r, i) => ({ value: { key: 1000 + i, value: r } })),
    );
    assert.equal(kvRun.code, 0, kvRun.stderr);
    const read = await javaConsumes([
      ...cases.map((c, i): [string, string, number] => [topics[i], c.kind, c.values.length]),
      [piped, "avro", readings.length],
      [kvTopic, "kv-separated", readings.length],
    ]);
    assert.deepEqual(
      read.filter((m) => m.topic === kvTopic).map((m) => m.value),
      readings.map((r, i) => ({ key: 1000 + i, value: r })),
      "KEY_VALUE SEPARATED",
    );
    assert.deepEqual(
      read.filter((m) => m.topic === kvTopic).map((m) => m.key),
      ["AAAD6A==", "AAAD6Q==", "AAAD6g=="],
      "the INT32 key's bytes, base64",
    );
    assert.deepEqual(read.filter((m) => m.topic === piped).map((m) => m.value), readings, "run");
    for (const [i, c] of cases.entries()) {
      const lines = c.values.map((_, n) => ({ key: `k${n}` }));
      const got = read.filter((m) => m.topic === topics[i]);
      assert.deepEqual(got.map((m) => m.value), c.want, c.kind);
      assert.deepEqual(got.map((m) => m.key), lines.map((l) => l.key), `${c.kind} keys`);
      assert.deepEqual(got.map((m) => m.version), c.values.map(() => 0), `${c.kind} version`);
    }
  },
});

Deno.test({
  name: "produce --schema: a value missing a required Avro field is dead-lettered, not half-sent",
  ...integration,
  async fn() {
    const base = await javaFiles();
    const topic = topicOf("missing");
    const dir = await Deno.makeTempDir();
    try {
      const { count: _, ...noCount } = readings[1];
      const run = await produce(
        topic,
        ["--schema", `avro:${base}.avsc`, "--on-error", `dead-letter=${dir}/dead.ndjson`],
        [{ value: readings[0] }, { value: noCount }, { value: readings[2] }],
      );
      assert.equal(run.code, 0, run.stderr);
      const dead = (await Deno.readTextFile(`${dir}/dead.ndjson`)).trim().split("\n")
        .map((l) => JSON.parse(l));
      assert.equal(dead.length, 1);
      assert.match(
        dead[0].deadLetter.error,
        /line 2: value does not fit the AVRO schema .*count: missing/,
      );
      assert.deepEqual(dead[0].value, noCount);
      const got = await javaConsumes([[topic, "avro", 2]]);
      assert.deepEqual(got.map((m) => m.value), [readings[0], readings[2]]);

      const failed = await produce(topic, ["--schema", `avro:${base}.avsc`], [{ value: noCount }]);
      assert.equal(failed.code, 1);
      assert.match(failed.stderr, /count: missing, expected int/);
      assert.equal(failed.stderr.trim().split("\n").length, 1, failed.stderr);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "produce --schema: an incompatible schema and a descriptor without the message: one line",
  ...integration,
  async fn() {
    const base = await javaFiles();
    const topic = topicOf("incompatible");
    const first = await produce(topic, ["--schema", `avro:${base}.avsc`], [{ value: readings[0] }]);
    assert.equal(first.code, 0, first.stderr);
    const other = `${await Deno.makeTempDir()}/other.avsc`;
    await Deno.writeTextFile(
      other,
      JSON.stringify({
        type: "record",
        name: "Reading",
        namespace: "SchemaInterop",
        fields: [{ name: "sensor", type: "int" }],
      }),
    );
    const refused = await produce(topic, ["--schema", `avro:${other}`], [{ value: { sensor: 1 } }]);
    assert.equal(refused.code, 1);
    assert.match(
      refused.stderr,
      /^edgepipe produce: the broker refused the schema for \S+: IncompatibleSchema: .*compatibility check/,
    );
    assert.equal(refused.stderr.trim().split("\n").length, 1, refused.stderr);
    // GET_OR_CREATE_SCHEMA refuses it the same way, with the broker's code.
    const { serviceUrl } = await pulsarUrls();
    const client = new PulsarClient({ serviceUrl });
    try {
      await assert.rejects(
        client.getOrCreateSchema(topic, {
          name: "x",
          type: "Avro",
          schemaData: await Deno.readFile(other),
        }),
        (err: unknown) =>
          err instanceof BrokerError && err.code === "IncompatibleSchema" &&
          /compatibility check/.test(err.message),
      );
    } finally {
      await client.close();
    }

    const unnamed = await produce(topicOf("pb"), [
      "--schema",
      `protobuf-native:${base}.pb:acme.Reading`,
    ], [{ value: {} }]);
    assert.equal(unnamed.code, 1);
    assert.match(
      unnamed.stderr,
      /has no message 'acme\.Reading' \(it has: .*google\.protobuf\.Field/,
    );
    assert.equal(unnamed.stderr.trim().split("\n").length, 1, unnamed.stderr);
  },
});
