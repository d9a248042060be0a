/**
 * What terminal stages deliver (docs/envelope.md, "What a terminal stage delivers"), on the real
 * broker and MinIO: for 1,000 flights after `score`, after `window` and after `map`, every field a
 * person sees on stdout before the terminal stage is in the message `produce` and `route` deliver
 * — read back with the official Java client — or in its documented metadata (key, event time,
 * properties); `sink stdout`, `sink file` and `sink s3` (read with boto3) store the same records.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { assertHolds } from "../harness/delivered.ts";
import { javaConsume } from "../harness/java_client.ts";
import { runEdgepipe } from "../harness/edgepipe.ts";
import { pulsarUrls } from "../harness/pulsar.ts";
import { createBucket, inspectObjects, s3Env, s3Server } from "../harness/minio.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const FLIGHTS = join(ROOT, "examples/data/flights-2001-03-12-morning.ndjson");
const MODEL = join(ROOT, "models/flight-delay");
const EVENTS = 1000;
const broker = await pulsarUrls();
const s3 = await s3Server();
const env = { PULSAR_SERVICE_URL: broker.serviceUrl, ...s3Env(s3) };
const unique = () => `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
const integration = { sanitizeOps: false, sanitizeResources: false };

type Envelope = Record<string, unknown>;

async function edgepipe(args: string[], stdin: string) {
  const run = await runEdgepipe(args, { stdin, env });
  assert.equal(run.code, 0, `edgepipe ${args.join(" ")}: ${run.stderr}`);
  return run.stdout;
}

const events = (text: string): Envelope[] =>
  text.trim().split("\n").map((l) => JSON.parse(l)).filter((e) => e.$edgepipe === undefined);
const ndjson = (items: unknown[]) => items.map((e) => JSON.stringify(e)).join("\n") + "\n";

/**
 * 1,000 flights as a consumer would print them (transport fields and a property included), and
 * what a person sees on stdout after each upstream stage.
 */
async function upstreamOutputs(): Promise<Record<string, Envelope[]>> {
  const lines = (await Deno.readTextFile(FLIGHTS)).trim().split("\n").slice(0, EVENTS);
  const input = ndjson(lines.map((line, i) => ({
    topic: "persistent://public/default/flights",
    partition: 0,
    publishTime: 1_732_400_000_000 + i,
    redeliveryCount: 0,
    properties: { source: "faa" },
    ...JSON.parse(line),
  })));
  const scored = await edgepipe(["score", "--model", MODEL], input);
  const windowed = await edgepipe([
    "window",
    "--key",
    "value.origin",
    "--tumbling",
    "15m",
    "--agg",
    "count(), avg(score.delayed), max(value.delay)",
  ], scored);
  const mapped = await edgepipe([
    "map",
    '{"route": event.value.origin + "-" + event.value.destination, "miles": event.value.distance}',
  ], scored);
  return { score: events(scored), window: events(windowed), map: events(mapped) };
}

const sorted = (records: unknown[]) => records.map((r) => JSON.stringify(r)).sort();

async function fileRecords(dir: string): Promise<unknown[]> {
  const out: unknown[] = [];
  for await (const entry of Deno.readDir(dir)) {
    const text = await Deno.readTextFile(join(dir, entry.name));
    out.push(...text.trim().split("\n").map((l) => JSON.parse(l)));
  }
  return out;
}

/** Which upstream stage a delivered record comes from, by the fields only it has. */
function stageOf(content: string): string {
  const record = JSON.parse(content);
  return record.window !== undefined ? "window" : record.route !== undefined ? "map" : "score";
}

Deno.test({
  name: "after score, window and map: produce, route, sink stdout|file|s3 deliver every field",
  ...integration,
  async fn() {
    const outputs = await upstreamOutputs();
    const id = unique();
    const prefix = `persistent://public/default/payload-${id}`;
    const producer = `produce-${id}`;
    let total = 0;
    for (const [stage, seen] of Object.entries(outputs)) {
      assert.ok(seen.length > 0);
      if (stage !== "window") assert.equal(seen.length, EVENTS);
      total += seen.length;
      const input = ndjson(seen);
      await edgepipe(["produce", `${prefix}-${stage}-p`, "--producer-name", producer], input);
      await edgepipe(["route", "--to", `true=${prefix}-${stage}-r`], input);
    }
    // One Java client reads all six topics (a JVM start costs many seconds on a busy machine):
    // the producer name tells produce's messages from route's, the fields the stage; each
    // topic's messages keep their order.
    const all = await javaConsume({ serviceUrl: broker.serviceUrl }, `${prefix}-.*`, 2 * total, {
      regex: true,
    });
    assert.equal(all.length, 2 * total);

    for (const [stage, seen] of Object.entries(outputs)) {
      const mine = all.filter((m) => stageOf(m.content) === stage);
      const messages = mine.filter((m) => m.producerName === producer);
      const routed = mine.filter((m) => m.producerName !== producer);
      assert.equal(messages.length, seen.length, stage);
      assert.equal(routed.length, seen.length, stage);
      seen.forEach((event, i) => {
        assertHolds(event, messages[i], `${stage}: produce #${i}`);
        assertHolds(event, routed[i], `${stage}: route #${i}`);
      });
      const records = messages.map((m) => JSON.parse(m.content));
      assert.deepEqual(routed.map((m) => JSON.parse(m.content)), records);

      const input = ndjson(seen);
      const stdout = await edgepipe(["sink", "stdout"], input);
      assert.deepEqual(stdout.trim().split("\n").map((l) => JSON.parse(l)), records, stage);

      const dir = await Deno.makeTempDir();
      const bucket = `payload-${stage}-${id}`.toLowerCase();
      try {
        await edgepipe(["sink", "file", dir, "--format", "ndjson", "--max-events", "300"], input);
        assert.deepEqual(sorted(await fileRecords(dir)), sorted(records), stage);
        await createBucket(s3, bucket);
        await edgepipe(
          ["sink", "s3", "--bucket", bucket, "--format", "ndjson.gz", "--max-events", "300"],
          input,
        );
        const objects = await inspectObjects(s3, bucket, "", true);
        const stored = objects.flatMap((o) => o.lines ?? []);
        assert.deepEqual(sorted(stored), sorted(records), stage);
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    }
  },
});
