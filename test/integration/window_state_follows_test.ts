/**
 * Window state that follows its partition, on the real broker: three instances of
 * `consume --type failover | window --checkpoint-store DIR | produce` over the real flights on a
 * 6-partition topic keyed by origin (1 h tumbling windows per origin). The flights are produced
 * in chunks while the instances run; one instance is killed with SIGKILL mid-stream (its
 * partitions go to the other two, which restore their state from the store) and a fourth is
 * started later (the broker hands it partitions the others lose, with a final checkpoint). The
 * union of every result must be the count per (origin, hour) computed here from the file: every
 * window, each with its right count; repeats only as at-least-once allows, and counted.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { PulsarAdmin } from "../../lib/pulsar/mod.ts";
import { partitionFor } from "../../lib/pulsar/routing.ts";
import { runEdgepipe } from "../harness/edgepipe.ts";
import { pulsarUrls } from "../harness/pulsar.ts";
import { type ShellPipe, startShellPipe } from "../harness/shell_pipe.ts";
import { publishedCount, topicStats } from "../harness/topic_stats.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const FLIGHTS = join(ROOT, "examples/data/flights-2001-03-12-morning.ndjson");
const HOUR = 3_600_000;
const PARTITIONS = 6;
const CHUNKS = 6;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `check` every 250 ms until it is true or `ms` have passed; whether it became true. */
async function until(check: () => Promise<boolean>, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await sleep(250);
  }
  return false;
}

Deno.test({
  name: "3 failover instances, one killed -9 and a fourth started: windows follow their partitions",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const { serviceUrl, adminUrl } = await pulsarUrls();
    const env = { PULSAR_SERVICE_URL: serviceUrl, NO_COLOR: "1" };
    const run = crypto.randomUUID().slice(0, 8);
    const source = `persistent://public/default/follow-flights-${run}`;
    const target = `persistent://public/default/follow-out-${run}`;
    await new PulsarAdmin({ adminUrl }).createTopic(source, PARTITIONS);
    const store = await Deno.makeTempDir({ prefix: "edgepipe-follow-" });

    // The reference, from the file: flights per (origin, hour).
    const lines = (await Deno.readTextFile(FLIGHTS)).trim().split("\n");
    const expected = new Map<string, number>();
    let last = -Infinity;
    for (const line of lines) {
      const e = JSON.parse(line);
      const at = `${e.value.origin}@${Math.floor(e.eventTime / HOUR) * HOUR}`;
      expected.set(at, (expected.get(at) ?? 0) + 1);
      last = Math.max(last, e.eventTime);
    }
    // One event per partition two hours after the last flight closes every flight window; the
    // sentinels' own windows stay open (nothing ends the stream).
    const sentinels: string[] = [];
    for (let p = 0, n = 0; p < PARTITIONS; n++) {
      const key = `~close-${n}`;
      if (partitionFor(key, PARTITIONS) !== p) continue;
      sentinels.push(JSON.stringify({ key, eventTime: last + 2 * HOUR, value: { origin: key } }));
      p++;
    }

    const instance = () =>
      startShellPipe([
        ["consume", source, "-s", "follow", "--type", "failover", "--announce-partitions"],
        [
          "window",
          "--key",
          "value.origin",
          "--tumbling",
          "1h",
          "--checkpoint-store",
          store,
          "--checkpoint-interval",
          "200ms",
        ],
        ["produce", target],
      ], { env });
    const consumers = async () => {
      let least = Infinity;
      for (let p = 0; p < PARTITIONS; p++) {
        // deno-lint-ignore no-explicit-any
        const stats = (await topicStats(adminUrl, `${source}-partition-${p}`)) as any;
        least = Math.min(least, stats?.subscriptions?.follow?.consumers?.length ?? 0);
      }
      return least;
    };
    const produce = async (chunk: string[]) => {
      const out = await runEdgepipe(["produce", source], { env, stdin: chunk.join("\n") + "\n" });
      assert.equal(out.code, 0, out.stderr);
    };
    const chunk = (i: number) =>
      lines.slice(
        Math.floor((i * lines.length) / CHUNKS),
        Math.floor(((i + 1) * lines.length) / CHUNKS),
      );

    const started: ShellPipe[] = await Promise.all([instance(), instance(), instance()]);
    try {
      assert.ok(await until(async () => (await consumers()) >= 3, 60_000), "3 consumers");
      await produce(chunk(0));
      await produce(chunk(1));
      await produce(chunk(2));
      // Kill one instance (all three of its processes) once results are coming out.
      assert.ok(await until(async () => (await publishedCount(adminUrl, target)) > 0, 60_000));
      const atKill = await publishedCount(adminUrl, target);
      await started[0].abort();
      console.log(`    killed instance 0 after ${atKill} results (of ${expected.size} windows)`);
      assert.ok(atKill < expected.size, "the kill landed mid-stream");
      await produce(chunk(3));
      started.push(await instance());
      assert.ok(await until(async () => (await consumers()) >= 3, 60_000), "the fourth joined");
      await produce(chunk(4));
      await produce(chunk(5));
      await produce(sentinels);
      // Wait until the output holds a result for every window (or give up after a while).
      await until(async () => (await publishedCount(adminUrl, target)) >= expected.size, 90_000);
      await sleep(2000); // what is still on its way
    } finally {
      for (const pipe of started.slice(1)) await pipe.signal(0, "SIGTERM").catch(() => false);
      await Promise.race([Promise.all(started.map((p) => p.done)), sleep(15_000)]);
      for (const pipe of started) if (!pipe.finished) await pipe.abort();
    }
    const stderr = (await Promise.all(started.map((p) => p.done))).map((d) => d.stderr.join(""));

    const read = await runEdgepipe(["consume", target, "-e"], { env });
    assert.equal(read.code, 0, read.stderr);
    const seen = new Map<string, number[]>();
    let results = 0;
    for (const line of read.stdout.trimEnd().split("\n")) {
      const r = JSON.parse(line);
      if (r.$edgepipe !== undefined) continue;
      const at = `${r.key}@${r.eventTime + 1 - HOUR}`;
      if (!seen.has(at)) seen.set(at, []);
      seen.get(at)!.push(r.value.count);
      results++;
    }
    const missing = [...expected.keys()].filter((at) => !seen.has(at));
    const partial = [...seen].filter(([at, counts]) => counts.some((c) => c !== expected.get(at)));
    const duplicates = results - seen.size;
    console.log(
      `    ${lines.length} flights, ${expected.size} windows expected; ${results} results, ` +
        `${seen.size} distinct, ${duplicates} duplicates, ${missing.length} missing, ` +
        `${partial.length} with a wrong count`,
    );
    assert.deepEqual(missing.slice(0, 10), [], `${missing.length} windows missing\n${stderr}`);
    assert.deepEqual(partial.slice(0, 10), [], `${partial.length} windows with a wrong count`);
    assert.equal(seen.size, expected.size, "nothing but the expected windows");
    await Deno.remove(store, { recursive: true });
  },
});
