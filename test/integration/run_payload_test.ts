/**
 * The Pulsar sink of `edgepipe run` delivers what a person sees (docs/envelope.md, "What a
 * terminal stage delivers"): 1,000 flights through `score`, `score | window` and `score | map`
 * pipelines, each run once into a topic (read back with the official Java client) and once to
 * `stdout?payload=envelope`, which shows the envelopes the sink was handed.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { assertHolds } from "../harness/delivered.ts";
import { javaConsume } from "../harness/java_client.ts";
import { runEdgepipe } from "../harness/edgepipe.ts";
import { pulsarUrls } from "../harness/pulsar.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const FLIGHTS = join(ROOT, "examples/data/flights-2001-03-12-morning.ndjson");
const MODEL = join(ROOT, "models/flight-delay");
const EVENTS = 1000;
const broker = await pulsarUrls();
const env = { PULSAR_SERVICE_URL: broker.serviceUrl };

const STAGES: Record<string, string> = {
  score: `  - score: { model: ${MODEL} }\n`,
  window: `  - score: { model: ${MODEL} }\n` +
    `  - window: { key: value.origin, tumbling: 15m, aggregates: "count(), avg(score.delayed)" }\n`,
  map: `  - score: { model: ${MODEL} }\n` +
    `  - map: '{"route": event.value.origin + "-" + event.value.destination}'\n`,
};

Deno.test({
  name: "run: the Pulsar sink delivers every field after score, window and map",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const id = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
    const dir = await Deno.makeTempDir();
    try {
      const lines = (await Deno.readTextFile(FLIGHTS)).trim().split("\n").slice(0, EVENTS);
      const input = join(dir, "flights.ndjson");
      await Deno.writeTextFile(
        input,
        lines.map((l) => JSON.stringify({ properties: { source: "faa" }, ...JSON.parse(l) }))
          .join("\n") + "\n",
      );
      const prefix = `persistent://public/default/run-payload-${id}`;
      const seenBy: Record<string, Record<string, unknown>[]> = {};
      for (const [name, stages] of Object.entries(STAGES)) {
        const pipeline = (sink: string) =>
          `source:\n  replay: { files: ${input} }\nstages:\n${stages}sink: '${sink}'\n`;
        await Deno.writeTextFile(join(dir, "seen.yaml"), pipeline("stdout?payload=envelope"));
        await Deno.writeTextFile(join(dir, "topic.yaml"), pipeline(`${prefix}-${name}`));
        const seenRun = await runEdgepipe(["run", join(dir, "seen.yaml")], { env });
        assert.equal(seenRun.code, 0, seenRun.stderr);
        seenBy[name] = seenRun.stdout.trim().split("\n").map((l) => JSON.parse(l));
        if (name !== "window") assert.equal(seenBy[name].length, EVENTS);
        const toTopic = await runEdgepipe(["run", join(dir, "topic.yaml")], { env });
        assert.equal(toTopic.code, 0, toTopic.stderr);
      }
      // One Java client for the three topics (a JVM start costs many seconds on a busy machine);
      // the fields only one pipeline adds say which topic a message is from.
      const total = Object.values(seenBy).reduce((n, seen) => n + seen.length, 0);
      const all = await javaConsume({ serviceUrl: broker.serviceUrl }, `${prefix}-.*`, total, {
        regex: true,
      });
      assert.equal(all.length, total);
      const stageOf = (content: string) => {
        const record = JSON.parse(content);
        return record.window !== undefined
          ? "window"
          : record.route !== undefined
          ? "map"
          : "score";
      };
      for (const [name, seen] of Object.entries(seenBy)) {
        const messages = all.filter((m) => stageOf(m.content) === name);
        assert.equal(messages.length, seen.length, name);
        seen.forEach((event, i) => assertHolds(event, messages[i], `${name} #${i}`));
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
