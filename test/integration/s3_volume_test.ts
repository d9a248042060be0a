/**
 * Many events to S3 (MinIO), counted by an independent client (boto3 + pyarrow):
 * - `edgepipe run`: replay → score → window → S3; the window counts in the objects add up to every event,
 *   and match per key and hour what this test counts on its own;
 * - `edgepipe sink s3` killed with SIGKILL while uploading, then started again with every event
 *   whose acknowledgement never came back (what a Pulsar source redelivers): every event is in
 *   the bucket afterwards.
 *
 * EDGEPIPE_VOLUME_EVENTS sets the size: 200,000 in `deno task test`; `deno task test:long` runs
 * it with 1,000,000 (results in `bench/long_results.md`).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { AckServer } from "../../lib/delivery/ack_server.ts";
import { createBucket, inspectObjects, s3Env, s3Server } from "../harness/minio.ts";

const server = await s3Server();
const MAIN = new URL("../../cli/main.ts", import.meta.url).pathname;
const ROOT = new URL("../../", import.meta.url).pathname;
const TOTAL = Number(Deno.env.get("EDGEPIPE_VOLUME_EVENTS") ?? 200_000);
const HOUR = 3_600_000;
const MODEL = join(ROOT, "models/flight-delay");

/** Writes TOTAL real flights (repeated, fresh ids, shifted times); returns per-window counts. */
async function writeEvents(path: string): Promise<Map<string, number>> {
  const base = (await Deno.readTextFile(
    join(ROOT, "examples/data/flights-2001-03-12-morning.ndjson"),
  )).trim().split("\n").map((l) => JSON.parse(l));
  const counts = new Map<string, number>();
  const file = await Deno.open(path, { write: true, create: true, truncate: true });
  const encoder = new TextEncoder();
  let chunk = "";
  for (let i = 0; i < TOTAL; i++) {
    const event = base[i % base.length];
    const eventTime = event.eventTime + Math.floor(i / base.length) * 3 * HOUR;
    chunk += JSON.stringify({ ...event, id: `m${i}`, eventTime }) + "\n";
    const window = `${event.value.origin}@${Math.floor(eventTime / HOUR) * HOUR}`;
    counts.set(window, (counts.get(window) ?? 0) + 1);
    if (chunk.length > 1 << 20) {
      await file.write(encoder.encode(chunk));
      chunk = "";
    }
  }
  await file.write(encoder.encode(chunk));
  file.close();
  return counts;
}

const work = await Deno.makeTempDir({ prefix: "edgepipe-million-" });
const EVENTS = join(work, "events.ndjson");
const expectedWindows = await writeEvents(EVENTS);
globalThis.addEventListener("unload", () => Deno.removeSync(work, { recursive: true }));

Deno.test(`edgepipe run: ${TOTAL} events replayed → score → window → S3; the objects count every event`, async () => {
  const bucket = `million-window-${Date.now().toString(36)}`;
  await createBucket(server, bucket);
  const pipeline = join(work, "window.yaml");
  await Deno.writeTextFile(
    pipeline,
    `source:\n  replay: { files: ${EVENTS} }\nstages:\n  - score: { model: ${MODEL} }\n  - window: { key: value.origin, tumbling: 1h, aggregates: "count(), avg(score.delayed)" }\nsink: 's3://${bucket}/windows/date=%Y-%m-%d/?format=parquet&max-events=20000&payload=envelope'\n`,
  );
  const run = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, "run", pipeline],
    env: s3Env(server),
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(run.code, 0, new TextDecoder().decode(run.stderr));
  const objects = await inspectObjects(server, bucket, "windows/", true);
  const got = new Map<string, number>();
  for (const object of objects) {
    assert.ok(object.key.endsWith(".parquet"));
    for (const row of object.lines!) {
      const r = row as {
        key: string;
        value: { count: number };
        extra: { window: { start: number } };
      };
      const window = `${r.key}@${r.extra.window.start}`;
      assert.ok(!got.has(window), `window ${window} written twice`);
      got.set(window, r.value.count);
    }
  }
  const sum = [...got.values()].reduce((a, b) => a + b, 0);
  assert.equal(sum, TOTAL, "window counts add up to every event");
  assert.deepEqual(got, expectedWindows);
});

Deno.test(`sink s3 killed with SIGKILL mid-upload loses none of ${TOTAL} events`, async () => {
  const bucket = `million-kill-${Date.now().toString(36)}`;
  await createBucket(server, bucket);
  const allIds = new Set<string>();
  const acked = new Set<string>();

  /** One sink process fed with the events `pick` selects; killed once `killAfter` acks came. */
  const feed = async (pick: (id: string) => boolean, killAfter?: number) => {
    const acks = await AckServer.listen({ source: "test", onAck: (id) => void acked.add(id) });
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        MAIN,
        "sink",
        "s3",
        "--bucket",
        bucket,
        "--prefix",
        "events/date=%Y-%m-%d/",
        "--max-events",
        "20000",
        // Whole envelopes, so duplicates and missing events are counted by id.
        "--payload",
        "envelope",
      ],
      env: s3Env(server),
      stdin: "piped",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const ackedBefore = acked.size;
    let killed = false;
    const killer = killAfter === undefined ? undefined : (async () => {
      while (acked.size - ackedBefore < killAfter) await new Promise((r) => setTimeout(r, 20));
      child.kill("SIGKILL");
      killed = true;
    })();
    const writer = child.stdin.getWriter();
    const encoder = new TextEncoder();
    let sent = 0;
    try {
      await writer.write(encoder.encode(JSON.stringify(acks.hello()) + "\n"));
      const file = await Deno.open(EVENTS);
      let rest = "";
      let chunk = "";
      for await (const bytes of file.readable.pipeThrough(new TextDecoderStream())) {
        const lines = (rest + bytes).split("\n");
        rest = lines.pop()!;
        for (const line of lines) {
          const id = line.slice(7, line.indexOf('"', 7));
          allIds.add(id);
          if (!pick(id)) continue;
          chunk += line + "\n";
          sent++;
        }
        if (chunk.length > 1 << 18) {
          await writer.write(encoder.encode(chunk));
          chunk = "";
        }
      }
      await writer.write(encoder.encode(chunk));
      await writer.close();
    } catch {
      // The pipe breaks when the process is killed: that is the point.
    }
    const status = await child.status;
    const stderr = new TextDecoder().decode(
      await new Response(child.stderr).arrayBuffer(),
    );
    await killer;
    await acks.waitForTerminal(2_000);
    await acks.close();
    return { status, sent, killed, stderr };
  };

  const first = await feed(() => true, Math.floor(TOTAL * 0.3));
  assert.ok(first.killed && first.status.signal === "SIGKILL", "the first sink was killed");
  const ackedAtKill = acked.size;
  assert.ok(ackedAtKill > 0 && ackedAtKill < TOTAL, `killed mid-stream (${ackedAtKill} acked)`);
  // Everything acknowledged before the kill must already be in the bucket.
  const afterKill = new Set(
    (await inspectObjects(server, bucket, "events/")).flatMap((o) => o.ids as string[]),
  );
  for (const id of acked) assert.ok(afterKill.has(id), `acknowledged ${id} is stored`);

  // The source redelivers what was never acknowledged.
  const second = await feed((id) => !acked.has(id));
  assert.equal(second.status.code, 0, second.stderr);
  assert.equal(acked.size, TOTAL, "every event acknowledged in the end");

  const stored = (await inspectObjects(server, bucket, "events/")).flatMap((o) =>
    o.ids as string[]
  );
  const unique = new Set(stored);
  assert.equal(allIds.size, TOTAL);
  for (const id of allIds) assert.ok(unique.has(id), `${id} is in the bucket`);
  console.log(
    `  ${TOTAL} events: ${ackedAtKill} acknowledged before SIGKILL, ${second.sent} redelivered, ` +
      `${stored.length - unique.size} stored twice (at-least-once), none lost`,
  );
});
