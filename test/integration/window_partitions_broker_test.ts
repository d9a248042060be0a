/**
 * Per-partition watermarks on the real broker: the real flights produced to a 6-partition topic
 * keyed by origin, read back by `consume --announce-partitions` (the partitions arrive
 * interleaved in whatever order the broker delivers them) into `window --tumbling 1h`: every
 * origin-hour comes out once, on time, with the count computed here from the file.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { PulsarAdmin } from "../../lib/pulsar/mod.ts";
import { pulsarUrls } from "../harness/pulsar.ts";
import { runEdgepipe } from "../harness/edgepipe.ts";
import { topicStats } from "../harness/topic_stats.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const MAIN = join(ROOT, "cli/main.ts");
const FLIGHTS = join(ROOT, "examples/data/flights-2001-03-12-morning.ndjson");
const HOUR = 3_600_000;

/** The flights on a new 6-partition topic; returns it and key@hour → count from the file. */
async function flightsTopic(serviceUrl: string, adminUrl: string) {
  const topic = `persistent://public/default/wm-flights-${crypto.randomUUID()}`;
  await new PulsarAdmin({ adminUrl }).createTopic(topic, 6);
  const text = await Deno.readTextFile(FLIGHTS);
  const produced = await runEdgepipe(["produce", topic, "--service-url", serviceUrl], {
    stdin: text,
  });
  assert.equal(produced.code, 0, produced.stderr);
  const expected = new Map<string, number>();
  for (const line of text.trim().split("\n")) {
    const e = JSON.parse(line);
    const at = `${e.value.origin}@${Math.floor(e.eventTime / HOUR) * HOUR}`;
    expected.set(at, (expected.get(at) ?? 0) + 1);
  }
  return { topic, expected };
}

/** Every result once, on time, with the expected count, and every expected window. */
function assertWindows(results: Record<string, unknown>[], expected: Map<string, number>) {
  const seen = new Set<string>();
  for (
    const r of results as {
      key: string;
      window: { start: number };
      value: { count: number };
      timing: string;
    }[]
  ) {
    const at = `${r.key}@${r.window.start}`;
    assert.ok(!seen.has(at), `${at} twice`);
    seen.add(at);
    assert.equal(r.value.count, expected.get(at), at);
    assert.equal(r.timing, "on_time", at);
  }
  assert.equal(seen.size, expected.size, "every origin-hour");
}

Deno.test({
  name: "6 partitions of real flights: per-partition watermarks, every window once and on time",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const { serviceUrl, adminUrl } = await pulsarUrls();
    const { topic, expected } = await flightsTopic(serviceUrl, adminUrl);

    const pipe = `deno run -A ${MAIN} consume ${topic} -s wm -e --ack on-write ` +
      `--announce-partitions --service-url ${serviceUrl} | deno run -A ${MAIN} window ` +
      `--key value.origin --tumbling 1h --agg 'count()'`;
    const out = await new Deno.Command("bash", {
      args: ["-c", `set -o pipefail\n${pipe}`],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert.ok(out.success, stderr);
    assert.doesNotMatch(stderr, /late/, "no late event");
    const lines = new TextDecoder().decode(out.stdout).trim().split("\n");
    const announced = JSON.parse(lines[0]);
    assert.equal(announced.$edgepipe, "partitions", "window passes the record on");
    assert.deepEqual(
      announced.partitions.map((p: { partition: number }) => p.partition).sort(),
      [0, 1, 2, 3, 4, 5],
    );
    // Acks of closed windows' events follow their results: only results are compared.
    const results = lines.slice(1).map((l) => JSON.parse(l)).filter((r) => !r.$edgepipe);
    assertWindows(results, expected);
  },
});

Deno.test({
  name: "run: a failover consume source announcing partitions, window per partition watermark",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const { serviceUrl, adminUrl } = await pulsarUrls();
    const { topic, expected } = await flightsTopic(serviceUrl, adminUrl);
    const dir = await Deno.makeTempDir();
    const file = join(dir, "p.yaml");
    await Deno.writeTextFile(
      file,
      `source:
  consume:
    topic: ${topic}
    subscription: wm-run
    type: failover
    announcePartitions: true
    exitAtEnd: true
    serviceUrl: ${serviceUrl}
stages:
  - window: { key: value.origin, tumbling: 1h, aggregates: "count()" }
sink: stdout
`,
    );
    const out = await runEdgepipe(["run", file]);
    assert.equal(out.code, 0, out.stderr);
    assert.doesNotMatch(out.stderr, /late/, "no late event");
    // run's stdout sink delivers records: the aggregates are top-level fields.
    const results = out.stdout.trim().split("\n").map((l) => JSON.parse(l))
      .map((r) => ({ ...r, value: { count: r.count } }));
    assertWindows(results, expected);
    // The broker says which type the subscription was made with.
    const stats = await topicStats(adminUrl, `${topic}-partition-0`);
    const subs = stats!.subscriptions as Record<string, { type: string }>;
    assert.equal(subs["wm-run"].type, "Failover");
    await Deno.remove(dir, { recursive: true });
  },
});
