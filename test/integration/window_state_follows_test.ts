/**
 * Window state that follows its partition, on the real broker: three instances of
 * `consume --type failover | window --checkpoint-store s3://bucket/prefix | produce` (S3 on a real
 * MinIO; a shared directory in the second variant) over the real flights on a 6-partition topic
 * keyed by origin (1 h tumbling windows per origin). The flights are produced in chunks while the
 * instances run; one instance is killed with SIGKILL mid-stream, while it holds partitions with
 * open windows (read from the store by boto3: the newest generation of those partitions was
 * written by its window process and holds windows); its partitions go to the other two, which
 * restore their state from the store and write new generations of them. A fourth instance is
 * started later (the broker hands it partitions the others lose, with a final checkpoint). The
 * union of every result must be the count per (origin, hour) computed here from the file: every
 * window, each with its right count; repeats only as at-least-once allows, and counted apart from
 * missing windows.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { PulsarAdmin } from "../../lib/pulsar/mod.ts";
import { partitionFor } from "../../lib/pulsar/routing.ts";
import { runEdgepipe } from "../harness/edgepipe.ts";
import { createBucket, s3Env, s3Server } from "../harness/minio.ts";
import { pulsarUrls } from "../harness/pulsar.ts";
import { type ShellPipe, startShellPipe } from "../harness/shell_pipe.ts";
import { publishedCount, topicStats } from "../harness/topic_stats.ts";
import { type StoredNewest, storedNewest, type StoreUnderTest } from "./_stored_checkpoints.ts";

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

/** A store to run the test on: its `--checkpoint-store` argument and environment. */
async function storeOf(
  kind: StoreUnderTest["kind"],
  run: string,
): Promise<{ store: StoreUnderTest; spec: string; env: Record<string, string> }> {
  if (kind === "directory") {
    const dir = await Deno.makeTempDir({ prefix: "edgepipe-follow-" });
    return { store: { kind, dir }, spec: dir, env: {} };
  }
  const server = await s3Server();
  const bucket = `follow-${run}`;
  await createBucket(server, bucket);
  const prefix = "hourly/";
  return {
    store: { kind, server, bucket, prefix },
    spec: `s3://${bucket}/hourly`,
    env: s3Env(server),
  };
}

for (const kind of ["s3", "directory"] as const) {
  Deno.test({
    name:
      `3 failover instances (${kind} store), one killed -9 and a fourth started: windows follow their partitions`,
    sanitizeOps: false,
    sanitizeResources: false,
    fn: () => followTest(kind),
  });
}

async function followTest(kind: StoreUnderTest["kind"]) {
  const { serviceUrl, adminUrl } = await pulsarUrls();
  const run = crypto.randomUUID().slice(0, 8);
  const { store, spec, env: storeEnv } = await storeOf(kind, run);
  const env = { ...storeEnv, PULSAR_SERVICE_URL: serviceUrl, NO_COLOR: "1" };
  const source = `persistent://public/default/follow-flights-${run}`;
  const target = `persistent://public/default/follow-out-${run}`;
  await new PulsarAdmin({ adminUrl }).createTopic(source, PARTITIONS);

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
        spec,
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
  // The window process of each instance, as the store's objects name their writer.
  const writers = await Promise.all(started.map(async (pipe) => `/${await pipe.pid(1)}`));
  let atKill = new Map<number, StoredNewest>();
  let held: number[] = [];
  try {
    assert.ok(await until(async () => (await consumers()) >= 3, 60_000), "3 consumers");
    await produce(chunk(0));
    await produce(chunk(1));
    await produce(chunk(2));
    // Kill one instance (all three of its processes) once results are coming out and, on S3,
    // once the store shows it holding a partition with open windows.
    assert.ok(await until(async () => (await publishedCount(adminUrl, target)) > 0, 60_000));
    const victim = writers[0];
    const holding = (stored: Map<number, StoredNewest>) =>
      [...stored].filter(([, s]) => s.writer?.endsWith(victim)).map(([p]) => p);
    if (kind === "s3") {
      const withState = async () =>
        [...(await storedNewest(store, source))].some(([, s]) =>
          s.writer?.endsWith(victim) && s.windows > 0
        );
      assert.ok(await until(withState, 60_000), "instance 0 checkpointed open windows");
    }
    atKill = await storedNewest(store, source);
    const results = await publishedCount(adminUrl, target);
    await started[0].abort();
    held = holding(atKill);
    console.log(
      `    killed instance 0 after ${results} results (of ${expected.size} windows), holding ` +
        `partitions [${held}] (${held.map((p) => atKill.get(p)!.windows)} open windows)`,
    );
    assert.ok(results < expected.size, "the kill landed mid-stream");
    if (kind === "s3") {
      assert.ok(held.length > 0, "instance 0 held partitions when it died");
      assert.ok(held.some((p) => atKill.get(p)!.windows > 0), "and state in them");
    }
    await produce(chunk(3));
    started.push(await instance());
    writers.push(`/${await started[3].pid(1)}`);
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

  // The killed instance's partitions were taken over: each has newer generations, which (on
  // S3, where objects name their writer) another instance's window process wrote.
  const after = await storedNewest(store, source);
  const others = writers.slice(1);
  for (const p of held) {
    const now = after.get(p)!;
    assert.ok(now.generation > atKill.get(p)!.generation, `partition ${p} written after the kill`);
    const writer = now.writer ?? "";
    assert.ok(others.some((o) => writer.endsWith(o)), `partition ${p} taken over: ${writer}`);
  }
  const fourth = writers[3];
  console.log(
    `    taken over: ${
      held.map((p) =>
        `${p}: generation ${atKill.get(p)!.generation} → ` +
        `${after.get(p)!.generation}`
      ).join(", ")
    }; the fourth instance wrote the newest ` +
      `generation of [${[...after].filter(([, s]) => s.writer?.endsWith(fourth)).map(([p]) => p)}]`,
  );
  if (store.kind === "directory") await Deno.remove(store.dir, { recursive: true });
}
