/**
 * The legacy PROTOBUF schema (`Schema.PROTOBUF(Field.class)` of the Java client) on the real
 * broker, looked at closer than in the interop matrix (schema_consume_test.ts): what the broker
 * stores (an Avro record and `__PARSING_INFO__`, checked against the Java descriptor), the CLI's
 * values, a payload that does not parse, and a PROTOBUF schema without the parsing info.
 */
import assert from "node:assert/strict";
import { PulsarAdmin, PulsarClient } from "../../lib/pulsar/mod.ts";
import { sendRaw } from "../../lib/pulsar/raw_send_test_util.ts";
import { pulsarUrls } from "../harness/pulsar.ts";
import { runEdgepipe } from "../harness/edgepipe.ts";
import { javaProgram } from "../harness/java_client.ts";

const integration = { sanitizeOps: false, sanitizeResources: false };
const java = javaProgram(
  new URL("./java/SchemaInterop.java", import.meta.url).pathname,
  "SchemaInterop",
);

async function lines(file: string): Promise<Record<string, unknown>[]> {
  return (await Deno.readTextFile(file)).trim().split("\n").map((l) => JSON.parse(l));
}

Deno.test({
  name: "PROTOBUF: the broker keeps Avro and __PARSING_INFO__; consume gives Java's values",
  ...integration,
  async fn() {
    const { serviceUrl, adminUrl } = await pulsarUrls();
    const topic = `persistent://public/default/protobuf-${crypto.randomUUID()}`;
    const dir = await Deno.makeTempDir();
    const env = { PULSAR_SERVICE_URL: serviceUrl };
    try {
      await java(["protobuf", serviceUrl, topic, `${dir}/sent.ndjson`]);
      await java(["parsing-info", `${dir}/descriptor.json`]);
      const sent = await lines(`${dir}/sent.ndjson`);
      const descriptor = JSON.parse(await Deno.readTextFile(`${dir}/descriptor.json`)) as {
        name: string;
      }[];

      // What the broker stores: the Avro record of Field, and one entry per top-level field.
      const { schema } = await new PulsarAdmin({ adminUrl }).getSchema(topic);
      assert.equal(schema.type, "Protobuf");
      const record = JSON.parse(new TextDecoder().decode(schema.schemaData));
      assert.equal(record.type, "record");
      assert.equal(record.name, "Field");
      assert.deepEqual(
        record.fields.map((f: { name: string }) => f.name),
        descriptor.map((d) => d.name),
      );
      const info = JSON.parse(schema.properties!.__PARSING_INFO__);
      assert.deepEqual(
        info.map(({ number, name, type, label }: Record<string, unknown>) => ({
          number,
          name,
          type,
          label,
        })),
        descriptor,
      );

      // consume --schema auto: every field as Java set it (options as protobuf bytes).
      const run = await runEdgepipe(["consume", topic, "-e"], { env });
      assert.equal(run.code, 0, run.stderr);
      const got = run.stdout.trim().split("\n").map((l) => JSON.parse(l));
      assert.deepEqual(got.map((e) => e.value), sent.map((e) => e.value));
      assert.deepEqual(got[0].schema, {
        type: "PROTOBUF",
        name: topic.replace("persistent://", ""),
        version: 0,
        undecoded: ["options"],
      });

      // Bytes that are no Field (a string cut short) take the --on-error path.
      const client = new PulsarClient({ serviceUrl });
      try {
        await sendRaw(client, topic, [{
          metadata: { schemaVersion: new Uint8Array(8) },
          payload: new Uint8Array([0x22, 0x05, 0x61]),
        }]);
      } finally {
        await client.close();
      }
      const dead = `${dir}/dead.ndjson`;
      const lettered = await runEdgepipe(
        [
          "consume",
          topic,
          "-s",
          "dl",
          "-e",
          "--ack",
          "on-write",
          "--on-error",
          `dead-letter=${dead}`,
        ],
        { env },
      );
      assert.equal(lettered.code, 0, lettered.stderr);
      assert.equal(lettered.stdout.trim().split("\n").length, 3);
      const [letter] = await lines(dead) as { deadLetter: { error: string }; value: string }[];
      assert.match(letter.deadLetter.error, /payload is not a protobuf Field/);
      assert.equal(letter.value, "IgVh", "raw bytes kept (base64 of 22 05 61)");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "PROTOBUF without __PARSING_INFO__: one line naming the topic and --schema none",
  ...integration,
  async fn() {
    const { serviceUrl } = await pulsarUrls();
    const topic = `persistent://public/default/protobuf-bare-${crypto.randomUUID()}`;
    const record = '{"type":"record","name":"M","namespace":"x","fields":' +
      '[{"name":"n","type":"int","default":0}]}';
    const client = new PulsarClient({ serviceUrl });
    try {
      const producer = await client.createProducer({
        topic,
        schema: {
          name: topic,
          type: "Protobuf",
          schemaData: new TextEncoder().encode(record),
          properties: {},
        },
      });
      await producer.send({ payload: new Uint8Array([0x08, 0x07]) });
      await producer.close();
    } finally {
      await client.close();
    }
    const env = { PULSAR_SERVICE_URL: serviceUrl };
    const run = await runEdgepipe(["consume", topic, "-e"], { env });
    assert.equal(run.code, 1);
    assert.equal(run.stdout.trim(), "");
    const stderr = run.stderr.trim().split("\n");
    assert.equal(stderr.length, 1, run.stderr);
    assert.match(
      stderr[0],
      new RegExp(
        `${topic} has a PROTOBUF schema without __PARSING_INFO__ .*\\(read it with --schema none\\)`,
      ),
    );
    const raw = await runEdgepipe(
      ["consume", topic, "-e", "--schema", "none", "--payload", "base64"],
      { env },
    );
    assert.equal(raw.code, 0, raw.stderr);
    assert.equal(JSON.parse(raw.stdout).value, "CAc=", "base64 of 08 07");
  },
});
