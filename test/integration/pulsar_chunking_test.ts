/**
 * Chunked messages interoperate with the official Java client on the real broker, both ways:
 * a Java producer with chunking on → edgepipe's consumer, and `edgepipe produce --chunking` (a
 * payload over the broker's maximum message size) → a Java consumer. Payloads are random bytes,
 * compared byte for byte.
 */
import assert from "node:assert/strict";
import { PulsarAdmin, PulsarClient } from "../../lib/pulsar/mod.ts";
import { ensureDistribution, pulsarUrls } from "../harness/pulsar.ts";
import { run } from "../harness/process.ts";
import { runEdgepipe } from "../harness/edgepipe.ts";

const integration = { sanitizeOps: false, sanitizeResources: false };
const SOURCE = new URL("../../lib/pulsar/wire/testdata/ChunkInterop.java", import.meta.url)
  .pathname;

let compiled: Promise<string> | undefined;

/** Compiles ChunkInterop.java against the distribution's jars once; returns the classpath. */
function classpath(): Promise<string> {
  return compiled ??= (async () => {
    const jars = `${await ensureDistribution()}/lib/*`;
    const classes = await Deno.makeTempDir({ prefix: "chunk-interop-" });
    const javac = await run("javac", ["-nowarn", "-cp", jars, "-d", classes, SOURCE]);
    if (!javac.ok) throw new Error(`javac failed:\n${javac.output}`);
    return `${classes}:${jars}`;
  })();
}

async function java(args: string[]): Promise<string> {
  const result = await run("java", ["-Xmx256m", "-cp", await classpath(), "ChunkInterop", ...args]);
  if (!result.ok) throw new Error(`ChunkInterop ${args[0]} failed:\n${result.output.slice(-3000)}`);
  return result.output;
}

function randomBytes(n: number): Uint8Array {
  const bytes = new Uint8Array(n);
  for (let i = 0; i < n; i += 65536) crypto.getRandomValues(bytes.subarray(i, i + 65536));
  return bytes;
}

Deno.test({
  name: "a chunked message from the Java client is reassembled byte-identical and fully acked",
  ...integration,
  async fn() {
    const { serviceUrl, adminUrl } = await pulsarUrls();
    const topic = `persistent://public/default/chunks-from-java-${crypto.randomUUID()}`;
    const dir = await Deno.makeTempDir();
    const client = new PulsarClient({ serviceUrl });
    try {
      const payload = randomBytes(300_000);
      await Deno.writeFile(`${dir}/in.bin`, payload);
      const consumer = await client.subscribe({
        topic,
        subscription: "check",
        initialPosition: "earliest",
      });
      // 50 000-byte chunks of the LZ4-compressed payload: 7 entries.
      const produced = await java(["produce", serviceUrl, topic, `${dir}/in.bin`, "50000"]);
      const javaId = /(\d+):(\d+):-1;(\d+):(\d+):-1/.exec(produced);
      assert.ok(javaId, `the Java client names first and last chunk: ${produced.slice(-300)}`);
      const msg = await consumer.receive(30_000);
      assert.equal(msg.decodeError, undefined, String(msg.decodeError));
      assert.equal(msg.payload.length, payload.length);
      assert.deepEqual(msg.payload, payload, "byte-identical");
      assert.equal(msg.key, "chunky");
      assert.deepEqual(msg.properties, { origin: "java" });
      assert.equal(`${msg.id.ledgerId}:${msg.id.entryId}`, `${javaId[3]}:${javaId[4]}`);
      consumer.ack(msg);
      await consumer.flushAcks();
      // Every chunk entry acknowledged: the subscription's backlog drains to 0.
      const admin = new PulsarAdmin({ adminUrl });
      let backlog = -1;
      for (let i = 0; i < 50 && backlog !== 0; i++) {
        if (i > 0) await new Promise((r) => setTimeout(r, 200));
        backlog = (await admin.topicStats(topic)).subscriptions.check.backlog;
      }
      assert.equal(backlog, 0, "all chunks were acknowledged");
    } finally {
      await client.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "edgepipe produce --chunking sends a message over the broker's limit that Java reads intact",
  ...integration,
  async fn() {
    const { serviceUrl } = await pulsarUrls();
    const topic = `persistent://public/default/chunks-to-java-${crypto.randomUUID()}`;
    const dir = await Deno.makeTempDir();
    try {
      const payload = randomBytes(6 * 1024 * 1024 + 12_345); // over the broker's 5 MiB default
      let binary = "";
      for (let i = 0; i < payload.length; i += 0x8000) {
        binary += String.fromCharCode(...payload.subarray(i, i + 0x8000));
      }
      const line = JSON.stringify({ key: "big", value: btoa(binary) }) + "\n";
      const env = { PULSAR_SERVICE_URL: serviceUrl };
      const refused = await runEdgepipe(["produce", topic, "--encoding", "base64"], {
        stdin: line,
        env,
      });
      assert.equal(refused.code, 1, "without --chunking the broker's limit applies");
      assert.match(refused.stderr, /exceeds the broker's limit/);
      const sent = await runEdgepipe(
        ["produce", topic, "--encoding", "base64", "--chunking", "--compression", "zstd"],
        { stdin: line, env },
      );
      assert.equal(sent.code, 0, sent.stderr);
      const consumed = await java(["consume", serviceUrl, topic, "java", `${dir}/out.bin`]);
      assert.match(consumed, new RegExp(`;\\d+:\\d+:-1 ${payload.length}`), consumed.slice(-300));
      assert.deepEqual(await Deno.readFile(`${dir}/out.bin`), payload, "byte-identical");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
