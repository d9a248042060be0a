/**
 * `consume --schema auto` against the Java client on the real broker: the Java producer writes
 * with its own schemas (POJO AVRO and JSON, PROTOBUF_NATIVE, the legacy PROTOBUF, KeyValue INLINE
 * and SEPARATED, every primitive, two versions of one Avro schema in one topic) and records what it sent as JSON
 * rendered by Jackson; edgepipe's values must equal it field by field, and the envelope must
 * name the schema and version. One JVM run writes every case.
 */
import assert from "node:assert/strict";
import {
  Message,
  MessageId,
  PulsarAdmin,
  PulsarClient,
  TimeoutError,
} from "../../lib/pulsar/mod.ts";
import { schemaVersionNumber } from "../../lib/schema/schema_types.ts";
import { TopicSchemas, withFallback } from "../../lib/schema/topic_schemas.ts";
import { sendRaw } from "../../lib/pulsar/raw_send_test_util.ts";
import { ConsumeSession } from "../../lib/sources/consume/consume_session.ts";
import type { Envelope } from "../../lib/envelope.ts";
import { pulsarUrls } from "../harness/pulsar.ts";
import { runEdgepipe } from "../harness/edgepipe.ts";
import { javaProgram } from "../harness/java_client.ts";
import { startShellPipe } from "../harness/shell_pipe.ts";

const integration = { sanitizeOps: false, sanitizeResources: false };
const java = javaProgram(
  new URL("./java/SchemaInterop.java", import.meta.url).pathname,
  "SchemaInterop",
);

interface Expected {
  topic: string;
  kind: string;
  value: unknown;
}

/** Every envelope of `topic` from the earliest, read with a non-durable reader. */
async function readAll(
  client: PulsarClient,
  topic: string,
  options: { schema?: "auto" | "none"; payload?: "json" | "base64" } = {},
): Promise<Envelope[]> {
  const session = await ConsumeSession.open(client, {
    topics: [topic],
    ack: "none",
    exitAtEnd: true,
    log: () => {},
    ...options,
  });
  const out: Envelope[] = [];
  try {
    for await (const envelope of session.envelopes()) out.push(envelope);
  } finally {
    await session.close();
  }
  return out;
}

/** Jackson leaves out the null fields of a Schema.JSON value: so does the payload. */
function withoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutNulls);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value).filter(([, v]) => v !== null).map(([k, v]) => [k, withoutNulls(v)]),
    );
  }
  return value;
}

let produced: Promise<{ prefix: string; expected: Expected[] }> | undefined;

/** The Java producer's run, once for the file. */
function javaProduced(): Promise<{ prefix: string; expected: Expected[] }> {
  return produced ??= (async () => {
    const { serviceUrl } = await pulsarUrls();
    const prefix = `persistent://public/default/schemas-${crypto.randomUUID()}`;
    const file = await Deno.makeTempFile({ suffix: ".ndjson" });
    await java(["produce", serviceUrl, prefix, file]);
    const expected = (await Deno.readTextFile(file)).trim().split("\n").map((l) => JSON.parse(l));
    await Deno.remove(file);
    return { prefix, expected };
  })();
}

function byTopic(expected: Expected[]): Map<string, Expected[]> {
  const map = new Map<string, Expected[]>();
  for (const e of expected) map.set(e.topic, [...(map.get(e.topic) ?? []), e]);
  return map;
}

Deno.test({
  name: "schema interop: every Java-written schema kind decodes to the values Java sent",
  ...integration,
  async fn() {
    const { serviceUrl } = await pulsarUrls();
    const { prefix, expected } = await javaProduced();
    const topics = byTopic(expected);
    // Every kind the Java side wrote is here (BYTES registers no schema: read as base64 below).
    assert.deepEqual(
      new Set(expected.map((e) => e.kind)),
      new Set([
        "AVRO",
        "JSON",
        "PROTOBUF_NATIVE",
        "PROTOBUF",
        "KEY_VALUE",
        "STRING",
        "INT8",
        "INT16",
        "INT32",
        "INT64",
        "FLOAT",
        "DOUBLE",
        "BOOLEAN",
        "BYTES",
        "DATE",
        "TIME",
        "TIMESTAMP",
        "INSTANT",
        "LOCAL_DATE",
        "LOCAL_TIME",
        "LOCAL_DATE_TIME",
      ]),
    );
    const client = new PulsarClient({ serviceUrl });
    const failures: string[] = [];
    try {
      await Promise.all([...topics].map(async ([topic, cases]) => {
        const kind = cases[0].kind;
        const envelopes = await readAll(
          client,
          topic,
          kind === "BYTES" ? { payload: "base64" } : {},
        );
        assert.equal(envelopes.length, cases.length, `${topic}: message count`);
        for (const [i, envelope] of envelopes.entries()) {
          let want = cases[i].value;
          let got = envelope.value;
          if (kind === "JSON") want = withoutNulls(want);
          if (topic.endsWith("-kv-separated")) {
            const kv = want as { key: number; value: unknown };
            want = { key: kv.key, value: withoutNulls(kv.value) };
          }
          if (kind === "PROTOBUF_NATIVE") {
            const v = got as Record<string, unknown> & { options: { name: string }[] };
            got = {
              name: v.name,
              number: v.number,
              kind: v.kind,
              packed: v.packed,
              json_name: v.json_name,
              option_name: v.options[0].name,
            };
          }
          try {
            assert.deepEqual(got, want);
            if (kind === "BYTES") {
              assert.equal(envelope.schema, undefined, "no schema: no label");
            } else {
              assert.deepEqual(envelope.schema, {
                type: kind,
                name: topic.replace("persistent://", ""),
                version: topic.endsWith("-evolving") ? i : 0,
                // PROTOBUF's nested messages (Field.options) stay protobuf bytes, and it says so.
                ...(kind === "PROTOBUF" ? { undecoded: ["options"] } : {}),
              });
            }
          } catch (error) {
            failures.push(`${topic} #${i}: ${(error as Error).message}`);
          }
        }
      }));
    } finally {
      await client.close();
    }
    assert.deepEqual(failures, []);
    // Schema evolution: the second message was written with version 1 and has its new field.
    const evolving = topics.get(`${prefix}-evolving`)!;
    assert.deepEqual(evolving.map((e) => e.value), [
      { id: 1, name: "v1" },
      { id: 2, name: "v2", unit: "K" },
    ]);
  },
});

Deno.test({
  name: "schema interop: consume --schema none keeps the raw bytes; the CLI labels the schema",
  ...integration,
  async fn() {
    const { serviceUrl } = await pulsarUrls();
    const { prefix } = await javaProduced();
    const client = new PulsarClient({ serviceUrl });
    try {
      const raw = await readAll(client, `${prefix}-int32`, { schema: "none", payload: "base64" });
      assert.deepEqual(raw.map((e) => e.value), ["gAAAAA==", "AAAAKg=="]);
      assert.equal(raw[0].schema, undefined);
    } finally {
      await client.close();
    }
    const run = await runEdgepipe(["consume", `${prefix}-avro`, "-e"], {
      env: { PULSAR_SERVICE_URL: serviceUrl },
    });
    assert.equal(run.code, 0, run.stderr);
    const lines = run.stdout.trim().split("\n").map((l) => JSON.parse(l));
    assert.equal(lines.length, 4);
    assert.equal(lines[1].value.sensor, "s-1");
    assert.equal(lines[1].value.total, 10000000001);
    assert.deepEqual(lines[1].schema, {
      type: "AVRO",
      name: `${prefix.replace("persistent://", "")}-avro`,
      version: 0,
    });
  },
});

Deno.test({
  name: "schema interop: an unknown schema version and bytes that do not fit are dead-lettered",
  ...integration,
  async fn() {
    const { serviceUrl } = await pulsarUrls();
    const { prefix } = await javaProduced();
    const topic = `${prefix}-avro`;
    const client = new PulsarClient({ serviceUrl });
    const dir = await Deno.makeTempDir();
    try {
      // After Java's four: a version the broker never had, then a cut-short Avro record.
      await sendRaw(client, topic, [
        {
          metadata: { schemaVersion: new Uint8Array([0, 0, 0, 0, 0, 0, 0, 99]) },
          payload: new Uint8Array([2, 0x61]),
        },
        { metadata: { schemaVersion: new Uint8Array(8) }, payload: new Uint8Array([6]) },
      ]);
    } finally {
      await client.close();
    }
    try {
      const consume = (policy: string) =>
        runEdgepipe(
          ["consume", topic, "-s", "check", "-e", "--ack", "on-write", "--on-error", policy],
          { env: { PULSAR_SERVICE_URL: serviceUrl } },
        );
      const failed = await runEdgepipe(
        ["consume", topic, "-s", "fail-first", "-e", "--ack", "on-write"],
        { env: { PULSAR_SERVICE_URL: serviceUrl } },
      );
      assert.equal(failed.code, 1, "fail is the default policy");
      assert.equal(failed.stdout.trim().split("\n").length, 4, "Java's four came out first");
      assert.match(failed.stderr, /schema version 99 of \S+ cannot be read from the broker/);
      assert.equal(failed.stderr.trim().split("\n").length, 1, failed.stderr);

      const run = await consume(`dead-letter=${dir}/dead.ndjson`);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(run.stdout.trim().split("\n").length, 4);
      const dead = (await Deno.readTextFile(`${dir}/dead.ndjson`)).trim().split("\n")
        .map((l) => JSON.parse(l));
      assert.equal(dead.length, 2);
      assert.match(dead[0].deadLetter.error, /schema version 99 .*cannot be read/);
      assert.equal(dead[0].value, "AmE=", "raw bytes kept");
      assert.match(dead[1].deadLetter.error, /payload is not Avro of its AVRO schema/);
      // Both were acknowledged after being dead-lettered: nothing left for the subscription.
      const again = await consume("fail");
      assert.equal(again.code, 0, again.stderr);
      assert.equal(again.stdout.trim(), "");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "flights a Java producer wrote with Schema.AVRO score exactly as on the JSON path",
  ...integration,
  async fn() {
    const { serviceUrl } = await pulsarUrls();
    const flights =
      new URL("../../examples/data/flights-2001-03-12-morning.ndjson", import.meta.url)
        .pathname;
    const topic = `persistent://public/default/avro-flights-${crypto.randomUUID()}`;
    await java(["flights", serviceUrl, topic, flights]);
    const env = { PULSAR_SERVICE_URL: serviceUrl };
    const model = ["score", "--model", "models/flight-delay"];
    const avro = await (await startShellPipe([["consume", topic, "-e"], model], { env })).done;
    const json = await (await startShellPipe([["replay", flights], model], { env })).done;
    assert.deepEqual(avro.codes, [0, 0], avro.stderr.join("\n"));
    assert.deepEqual(json.codes, [0, 0], json.stderr.join("\n"));
    const events = (out: string) =>
      out.trim().split("\n").map((l) => JSON.parse(l)).filter((e) => e.$edgepipe === undefined);
    const fromAvro = events(avro.stdout);
    const fromJson = events(json.stdout);
    assert.equal(fromJson.length, 3417);
    assert.equal(fromAvro.length, fromJson.length, "every flight scored");
    assert.ok(fromAvro.every((e) => e.schema?.type === "AVRO"), "decoded with the Avro schema");
    assert.deepEqual(fromAvro.map((e) => e.value), fromJson.map((e) => e.value));
    assert.deepEqual(fromAvro.map((e) => e.score), fromJson.map((e) => e.score));
    assert.ok(fromAvro.every((e) => typeof e.score?.delayed === "number"), "real scores");
  },
});

Deno.test({
  name: "schema interop: the admin REST fallback gives the schemas GET_SCHEMA gives",
  ...integration,
  async fn() {
    const { serviceUrl, adminUrl } = await pulsarUrls();
    const { prefix } = await javaProduced();
    const client = new PulsarClient({ serviceUrl });
    const admin = new PulsarAdmin({ adminUrl });
    try {
      const cases: [string, number][] = [
        ...[
          "avro",
          "json",
          "protobuf-native",
          "protobuf",
          "kv-inline",
          "kv-separated",
          "string",
          "instant",
        ]
          .map((k): [string, number] => [k, 0]),
        ["evolving", 0],
        ["evolving", 1],
      ];
      for (const [kind, n] of cases) {
        const topic = `${prefix}-${kind}`;
        const version = new Uint8Array(8);
        version[7] = n;
        const binary = await client.getSchema(topic, version);
        const rest = await admin.getSchema(topic, n);
        assert.deepEqual(rest.version, binary.version, kind);
        assert.equal(rest.schema.type, binary.schema.type, kind);
        assert.deepEqual(rest.schema.properties ?? {}, binary.schema.properties ?? {}, kind);
        // The REST API re-serializes JSON definitions: compare them parsed, the rest byte for byte.
        const text = (b: Uint8Array) => new TextDecoder().decode(b);
        if (binary.schema.type === "KeyValue" || binary.schema.schemaData.length === 0) {
          assert.deepEqual(rest.schema.schemaData, binary.schema.schemaData, kind);
        } else {
          assert.deepEqual(
            JSON.parse(text(rest.schema.schemaData)),
            JSON.parse(text(binary.schema.schemaData)),
            kind,
          );
        }
      }
      await assert.rejects(admin.getSchema(`${prefix}-avro`, 99), /404|not found/i);
      // Through the fallback: a lookup whose binary side fails reads the REST schema instead.
      const lookup = withFallback(
        () => Promise.reject(new TimeoutError("GET_SCHEMA: no answer")),
        (topic, version) => admin.getSchema(topic, schemaVersionNumber(version)),
      );
      const schemas = new TopicSchemas(lookup);
      const [first] = await readAll(client, `${prefix}-avro`, {
        schema: "none",
        payload: "base64",
      });
      const msg = new Message(
        `${prefix}-avro`,
        new MessageId(1n, 1n),
        Uint8Array.from(atob(first.value as string), (c) => c.charCodeAt(0)),
        { publishTime: 1, schemaVersion: new Uint8Array(8) },
      );
      const decoded = await schemas.decode(msg, `${prefix}-avro`);
      assert.equal((decoded?.value as { sensor: string }).sensor, "s-0");
      assert.equal(decoded?.schema.type, "AVRO");
    } finally {
      await client.close();
    }
  },
});
