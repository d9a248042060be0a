/**
 * `edgepipe run` with a Pulsar source and Pulsar destinations on the real broker:
 * - examples/pulsar_alerts.yaml routes scored flights to two topics and leaves no backlog;
 * - a run consuming into S3 killed with SIGKILL mid-stream, then run again, loses nothing.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { ListObjectsV2Command } from "@aws-sdk/client-s3";
import { newS3Client } from "../../lib/sinks/s3.ts";
import { pulsarUrls } from "../harness/pulsar.ts";
import { createBucket, inspectObjects, s3Env, s3Server } from "../harness/minio.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const MAIN = join(ROOT, "cli/main.ts");
const FLIGHTS = join(ROOT, "examples/data/flights-2001-03-12-morning.ndjson");
const broker = await pulsarUrls();
const s3 = await s3Server();
const unique = () => `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;

async function edgepipe(
  args: string[],
  options: { stdin?: string; env?: Record<string, string> } = {},
) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args],
    env: { PULSAR_SERVICE_URL: broker.serviceUrl, ...options.env },
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (options.stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(options.stdin));
    await writer.close();
  }
  const out = await child.output();
  const decoder = new TextDecoder();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}

/** Every message now on `topic`, read with a reader from the beginning (no subscription). */
async function readTopic(topic: string): Promise<Record<string, unknown>[]> {
  const run = await edgepipe(["consume", topic, "-o", "earliest", "-e"]);
  assert.equal(run.code, 0, run.stderr);
  return run.stdout.trim() === ""
    ? []
    : run.stdout.trim().split("\n").map((l) => JSON.parse(l)).filter((e) => !e.$edgepipe);
}

async function backlog(topic: string, subscription: string): Promise<number> {
  const path = topic.replace("persistent://", "persistent/");
  const response = await fetch(`${broker.adminUrl}/admin/v2/${path}/stats`);
  const stats = await response.json();
  return stats.subscriptions?.[subscription]?.msgBacklog ?? -1;
}

Deno.test("examples/pulsar_alerts.yaml: scored flights routed to two topics, every message acknowledged", async () => {
  const id = unique();
  const flights = `persistent://public/default/it-flights-${id}`;
  const alerts = `persistent://public/default/it-alerts-${id}`;
  const archive = `persistent://public/default/it-archive-${id}`;
  const subscription = `it-${id}`;
  const input = await Deno.readTextFile(FLIGHTS);
  const produced = await edgepipe(["produce", flights], { stdin: input });
  assert.equal(produced.code, 0, produced.stderr);

  const run = await edgepipe(["run", join(ROOT, "examples/pulsar_alerts.yaml")], {
    env: {
      EDGEPIPE_FLIGHTS: flights,
      EDGEPIPE_ALERTS: alerts,
      EDGEPIPE_ARCHIVE: archive,
      EDGEPIPE_SUBSCRIPTION: subscription,
      EDGEPIPE_EXIT_AT_END: "true",
    },
  });
  assert.equal(run.code, 0, run.stderr);

  // The scores the score command gives on its own decide where each flight must be.
  const scored = await new Deno.Command("bash", {
    args: [
      "-c",
      `set -o pipefail; deno run -A ${MAIN} replay ${FLIGHTS} | deno run -A ${MAIN} score --model ${
        join(ROOT, "models/flight-delay")
      }`,
    ],
    stdout: "piped",
  }).output();
  assert.ok(scored.success);
  const all = new TextDecoder().decode(scored.stdout).trim().split("\n").map((l) => JSON.parse(l))
    .filter((item) => item.$edgepipe === undefined); // replay's end record
  const key = (value: unknown) => JSON.stringify(value);
  // Each message is the delivered record: the flight's fields with its score beside them.
  const record = (e: { value: Record<string, unknown>; score: unknown }) =>
    key({ ...e.value, score: e.score });
  const expectAlerts = all.filter((e) => e.score.delayed > 0.2).map(record).sort();
  const expectArchive = all.filter((e) => e.score.delayed <= 0.2).map(record).sort();
  assert.ok(expectAlerts.length > 0 && expectArchive.length > 0);

  const gotAlerts = await readTopic(alerts);
  const gotArchive = await readTopic(archive);
  assert.deepEqual(gotAlerts.map((e) => key(e.value)).sort(), expectAlerts);
  assert.deepEqual(gotArchive.map((e) => key(e.value)).sort(), expectArchive);
  assert.equal(await backlog(flights, subscription), 0, "every flight acknowledged");
});

Deno.test("edgepipe run consume → S3 killed with SIGKILL, then run again: every message lands", async () => {
  const id = unique();
  const topic = `persistent://public/default/it-kill-${id}`;
  const subscription = `it-kill-${id}`;
  const bucket = `run-kill-${id}`.toLowerCase();
  await createBucket(s3, bucket);
  const total = Number(Deno.env.get("EDGEPIPE_KILL_EVENTS") ?? 100_000);
  let input = "";
  for (let i = 0; i < total; i++) {
    input += JSON.stringify({ key: `k${i % 50}`, value: { i } }) + "\n";
  }
  const produced = await edgepipe(["produce", topic], { stdin: input });
  assert.equal(produced.code, 0, produced.stderr);

  const dir = await Deno.makeTempDir();
  try {
    const pipeline = join(dir, "p.yaml");
    await Deno.writeTextFile(
      pipeline,
      `source:\n  consume: { topic: ${topic}, subscription: ${subscription}, exitAtEnd: true }\nsink: 's3://${bucket}/events/?format=ndjson.gz&max-events=5000'\n`,
    );
    const env = { ...s3Env(s3), PULSAR_SERVICE_URL: broker.serviceUrl };
    const first = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", MAIN, "run", pipeline],
      env,
      stdout: "null",
      stderr: "null",
    }).spawn();
    // Kill it mid-stream, with uploads under way.
    const lister = newS3Client(s3);
    // About a third of the way: objects hold 5000 events each.
    const killAfterObjects = Math.max(2, Math.floor(total / 5000 / 3));
    const deadline = Date.now() + 120_000;
    while (true) {
      const listed = await lister.send(new ListObjectsV2Command({ Bucket: bucket }));
      if ((listed.KeyCount ?? 0) >= killAfterObjects) break;
      if (Date.now() > deadline) throw new Error("the first run stored nothing");
      await new Promise((r) => setTimeout(r, 50));
    }
    lister.destroy();
    first.kill("SIGKILL");
    const status = await first.status;
    assert.equal(status.signal, "SIGKILL");
    const storedAtKill = (await inspectObjects(s3, bucket, "events/"))
      .reduce((n, o) => n + o.events, 0);
    assert.ok(
      storedAtKill > 0 && storedAtKill < total,
      `killed mid-stream (${storedAtKill} stored)`,
    );

    const second = await edgepipe(["run", pipeline], { env });
    assert.equal(second.code, 0, second.stderr);
    assert.equal(await backlog(topic, subscription), 0);

    const objects = await inspectObjects(s3, bucket, "events/", true);
    const seen = new Set<number>();
    let stored = 0;
    for (const object of objects) {
      for (const line of object.lines!) {
        // The delivered record: the event's value, nothing having been added to it.
        seen.add((line as { i: number }).i);
        stored++;
      }
    }
    assert.equal(seen.size, total, "every message is in the bucket");
    console.log(
      `  ${total} messages: ${storedAtKill} stored before SIGKILL, ${stored - total} stored ` +
        `twice (their acknowledgements died with the process), none lost`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("consume | route: flights split between two topics by delay, acknowledged at the source", async () => {
  const id = unique();
  const flights = `persistent://public/default/it-route-in-${id}`;
  const late = `persistent://public/default/it-route-late-${id}`;
  const rest = `persistent://public/default/it-route-rest-${id}`;
  const subscription = `it-route-${id}`;
  const input = await Deno.readTextFile(FLIGHTS);
  const produced = await edgepipe(["produce", flights], { stdin: input });
  assert.equal(produced.code, 0, produced.stderr);
  const pipe = await new Deno.Command("bash", {
    args: [
      "-c",
      `set -o pipefail; deno run -A ${MAIN} consume ${flights} -s ${subscription} -e ` +
      `| deno run -A ${MAIN} route --to 'event.value.delay > 60.0=${late}' --default ${rest}`,
    ],
    env: { PULSAR_SERVICE_URL: broker.serviceUrl },
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(pipe.success, new TextDecoder().decode(pipe.stderr));
  const values = input.trim().split("\n").map((l) => JSON.parse(l).value);
  const key = (v: unknown) => JSON.stringify(v);
  const gotLate = (await readTopic(late)).map((e) => key(e.value)).sort();
  const gotRest = (await readTopic(rest)).map((e) => key(e.value)).sort();
  assert.deepEqual(gotLate, values.filter((v) => v.delay > 60).map(key).sort());
  assert.deepEqual(gotRest, values.filter((v) => !(v.delay > 60)).map(key).sort());
  assert.equal(await backlog(flights, subscription), 0, "every flight acknowledged");
});

Deno.test("edgepipe run consume → window (checkpointed) → S3, SIGKILL mid-stream: every window complete", async () => {
  const id = unique();
  const topic = `persistent://public/default/it-window-kill-${id}`;
  const bucket = `run-window-kill-${id}`.toLowerCase();
  await createBucket(s3, bucket);
  const total = Number(Deno.env.get("EDGEPIPE_WINDOW_KILL_EVENTS") ?? 50_000);
  const start = Date.UTC(2026, 0, 1);
  const expected = new Map<string, number>();
  let input = "";
  for (let i = 0; i < total; i++) {
    const key = `k${i % 20}`;
    const eventTime = start + i * 1000;
    input += JSON.stringify({ key, eventTime, value: { i, k: key } }) + "\n";
    const window = `${key}@${Math.floor(eventTime / 60_000) * 60_000}`;
    expected.set(window, (expected.get(window) ?? 0) + 1);
  }
  const produced = await edgepipe(["produce", topic], { stdin: input });
  assert.equal(produced.code, 0, produced.stderr);

  const dir = await Deno.makeTempDir();
  try {
    const pipeline = join(dir, "p.yaml");
    await Deno.writeTextFile(
      pipeline,
      `source:\n  consume: { topic: ${topic}, subscription: it, exitAtEnd: true }\nstages:\n  - window: { key: value.k, tumbling: 1m, aggregates: "count()", checkpoint: state }\nsink: 's3://${bucket}/windows/?format=ndjson&max-events=500'\n`,
    );
    const env = { ...s3Env(s3), PULSAR_SERVICE_URL: broker.serviceUrl };
    const first = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", MAIN, "run", pipeline],
      env,
      stdout: "null",
      stderr: "null",
    }).spawn();
    const lister = newS3Client(s3);
    const deadline = Date.now() + 120_000;
    while (((await lister.send(new ListObjectsV2Command({ Bucket: bucket }))).KeyCount ?? 0) < 3) {
      if (Date.now() > deadline) throw new Error("the first run stored nothing");
      await new Promise((r) => setTimeout(r, 50));
    }
    lister.destroy();
    first.kill("SIGKILL");
    assert.equal((await first.status).signal, "SIGKILL");

    const second = await edgepipe(["run", pipeline], { env });
    assert.equal(second.code, 0, second.stderr);
    assert.equal(await backlog(topic, "it"), 0);

    // A window result may be stored twice (emitted, then re-emitted after the restart), and an
    // event whose acknowledgement died with the process may be counted twice (at-least-once);
    // but every window must be there with at least its whole count.
    const results = (await inspectObjects(s3, bucket, "windows/", true)).flatMap((o) => o.lines!);
    const got = new Map<string, number>();
    for (const line of results) {
      // Delivered records: the window's key, bounds and aggregates side by side.
      const r = line as { key: string; window: { start: number }; count: number };
      const window = `${r.key}@${r.window.start}`;
      got.set(window, Math.max(got.get(window) ?? 0, r.count));
    }
    assert.deepEqual([...got.keys()].sort(), [...expected.keys()].sort());
    let over = 0;
    for (const [window, count] of expected) {
      assert.ok(got.get(window)! >= count, `${window}: ${got.get(window)} < ${count}`);
      if (got.get(window)! > count) over++;
    }
    console.log(
      `  ${total} events in ${expected.size} windows: ${results.length - expected.size} results ` +
        `stored twice, ${over} windows over-counted, none short`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
