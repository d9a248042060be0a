/**
 * `edgepipe sink s3` against a real S3 server (MinIO), checked with an independent client (boto3
 * and pyarrow): every event lands in an object named by the prefix template, acknowledgements
 * reach the source only for stored events, and bad input fails with one clear line. The objects
 * hold whole envelopes (`--payload envelope`) so that each stored event shows its id; the default
 * record shape is checked in `terminal_payload_test.ts`.
 */
import assert from "node:assert/strict";
import { AckServer } from "../../lib/delivery/ack_server.ts";
import {
  createBucket,
  inspectObjects,
  s3Env,
  type S3Server,
  s3Server,
  startMinio,
} from "../harness/minio.ts";

const server = await s3Server();
const MAIN = new URL("../../cli/main.ts", import.meta.url).pathname;
const ORIGINS = ["SFO", "JFK", "ORD"];
const BASE_TIME = Date.UTC(2026, 10, 23, 22, 0, 0);

function event(i: number) {
  return {
    id: `e${i}`,
    key: ORIGINS[i % 3],
    eventTime: BASE_TIME + i * 60_000,
    value: { origin: ORIGINS[i % 3], delay: i % 97, note: "x".repeat(i % 13) },
  };
}

function ndjson(items: unknown[]): string {
  return items.map((item) => JSON.stringify(item) + "\n").join("");
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `edgepipe <args>` with `input` on stdin (a string, or chunks written with pauses). */
async function edgepipe(
  args: string[],
  input: string | AsyncIterable<string>,
  target: S3Server = server,
  env: Record<string, string> = {},
): Promise<Run> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args],
    env: { ...s3Env(target), ...env },
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  const encoder = new TextEncoder();
  try {
    if (typeof input === "string") await writer.write(encoder.encode(input));
    else for await (const chunk of input) await writer.write(encoder.encode(chunk));
    await writer.close();
  } catch { /* the command may exit before reading everything */ }
  const out = await child.output();
  const decoder = new TextDecoder();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}

async function withAcks<T>(body: (hello: string, acked: string[]) => Promise<T>): Promise<T> {
  const acked: string[] = [];
  const acks = await AckServer.listen({ source: "test", onAck: (id) => void acked.push(id) });
  try {
    const result = await body(JSON.stringify(acks.hello()) + "\n", acked);
    await acks.waitForTerminal(5_000);
    return result;
  } finally {
    await acks.close();
  }
}

let bucketCount = 0;
async function freshBucket(target: S3Server = server): Promise<string> {
  const bucket = `it-${Date.now().toString(36)}-${bucketCount++}`;
  await createBucket(target, bucket);
  return bucket;
}

for (const format of ["ndjson.gz", "ndjson.zst", "parquet"] as const) {
  Deno.test(`sink s3 --format ${format}: boto3 finds every event under its rendered prefix, all acknowledged`, async () => {
    const bucket = await freshBucket();
    const events = Array.from({ length: 2500 }, (_, i) => event(i));
    const { run, acked } = await withAcks(async (hello, acked) => ({
      run: await edgepipe([
        "sink",
        "s3",
        "--bucket",
        bucket,
        "--payload",
        "envelope",
        "--prefix",
        "flights/date=%Y-%m-%d/origin={value.origin}/",
        "--format",
        format,
        "--max-events",
        "400",
      ], hello + ndjson(events)),
      acked,
    }));
    assert.equal(run.code, 0, run.stderr);
    const objects = await inspectObjects(server, bucket, "", true);
    const stored: string[] = [];
    for (const object of objects) {
      assert.ok(object.key.endsWith(`.${format}`), object.key);
      if (format === "ndjson.gz") assert.equal(object.contentEncoding, "gzip");
      assert.ok(object.events <= 400);
      for (const line of object.lines!) {
        const e = line as { id: string; eventTime: number | string; value: { origin: string } };
        const day = new Date(Number(e.eventTime)).toISOString().slice(0, 10);
        assert.ok(
          object.key.startsWith(`flights/date=${day}/origin=${e.value.origin}/`),
          `${e.id} is in ${object.key}`,
        );
        stored.push(e.id);
      }
    }
    const expected = events.map((e) => e.id).sort();
    assert.deepEqual([...stored].sort(), expected, "every event stored exactly once");
    assert.deepEqual([...acked].sort(), expected, "every event acknowledged");
  });
}

Deno.test("sink s3 uploads a large object as a multipart upload", async () => {
  const bucket = await freshBucket();
  const payload = "p".repeat(1000);
  const events = Array.from({ length: 7000 }, (_, i) => ({ id: `m${i}`, value: { i, payload } }));
  const run = await edgepipe([
    "sink",
    "s3",
    "--bucket",
    bucket,
    "--payload",
    "envelope",
    "--format",
    "ndjson",
    "--max-events",
    "100000",
    "--max-bytes",
    "64MiB",
    "--part-size",
    "5MiB",
  ], ndjson(events));
  assert.equal(run.code, 0, run.stderr);
  const objects = await inspectObjects(server, bucket);
  assert.equal(objects.length, 1);
  assert.ok(objects[0].size > 5 * 1024 * 1024, `size ${objects[0].size}`);
  assert.match(objects[0].etag, /-2$/, "two parts");
  assert.deepEqual(objects[0].ids, events.map((e) => e.id));
});

for (const buffered of [false, true]) {
  Deno.test(`sink s3${buffered ? " --buffer-dir" : ""} with a missing bucket fails at start with one clear line`, async () => {
    const dir = await Deno.makeTempDir();
    const run = await edgepipe(
      ["sink", "s3", "--bucket", "no-such-bucket-here", ...(buffered ? ["--buffer-dir", dir] : [])],
      ndjson([event(1)]),
    );
    await Deno.remove(dir, { recursive: true });
    assert.equal(run.code, 1);
    const lines = run.stderr.trim().split("\n");
    assert.equal(lines.length, 1, run.stderr);
    assert.match(
      lines[0],
      /bucket 'no-such-bucket-here' at http:\/\/127\.0\.0\.1:\d+ does not exist/,
    );
  });
}

Deno.test("sink s3 with wrong credentials fails at start with one clear line", async () => {
  const bucket = await freshBucket();
  const run = await edgepipe(["sink", "s3", "--bucket", bucket], ndjson([event(1)]), server, {
    AWS_SECRET_ACCESS_KEY: "wrong-secret",
  });
  assert.equal(run.code, 1);
  const lines = run.stderr.trim().split("\n");
  assert.equal(lines.length, 1, run.stderr);
  assert.match(lines[0], /denied access|rejected the (signature|access key id)/);
  const unknownKey = await edgepipe(["sink", "s3", "--bucket", bucket], "", server, {
    AWS_ACCESS_KEY_ID: "nobody",
  });
  assert.equal(unknownKey.code, 1);
  assert.match(unknownKey.stderr, /denied access|rejected the access key id/);
});

Deno.test("sink s3: a prefix field missing from an event fails clearly, nothing unstored is acknowledged", async () => {
  const bucket = await freshBucket();
  const events = Array.from({ length: 50 }, (_, i) => event(i));
  const broken = { id: "broken", value: { delay: 3 } };
  const { run, acked } = await withAcks(async (hello, acked) => ({
    run: await edgepipe(
      [
        "sink",
        "s3",
        "--bucket",
        bucket,
        "--payload",
        "envelope",
        "--prefix",
        "o={value.origin}/",
        "--max-events",
        "10",
      ],
      hello + ndjson([...events.slice(0, 25), broken, ...events.slice(25)]),
    ),
    acked,
  }));
  assert.equal(run.code, 1);
  assert.match(run.stderr, /prefix field \{value\.origin\} is missing \(event broken\)/);
  const stored = new Set((await inspectObjects(server, bucket)).flatMap((o) => o.ids));
  assert.ok(!acked.includes("broken"));
  for (const id of acked) assert.ok(stored.has(id), `acknowledged ${id} is stored`);
});

Deno.test("sink s3 --on-error dead-letter=s3://…: the rejected event is stored with its error and stage", async () => {
  const bucket = await freshBucket();
  const events = Array.from({ length: 30 }, (_, i) => event(i));
  const broken = { id: "broken", value: { delay: 3 } };
  const { run, acked } = await withAcks(async (hello, acked) => ({
    run: await edgepipe([
      "sink",
      "s3",
      "--bucket",
      bucket,
      "--payload",
      "envelope",
      "--prefix",
      "ok/o={value.origin}/",
      "--on-error",
      `dead-letter=s3://${bucket}/dead/?format=ndjson`,
    ], hello + ndjson([...events.slice(0, 10), broken, ...events.slice(10)])),
    acked,
  }));
  assert.equal(run.code, 0, run.stderr);
  const good = (await inspectObjects(server, bucket, "ok/")).flatMap((o) => o.ids);
  assert.deepEqual(good.sort(), events.map((e) => e.id).sort());
  const dead = await inspectObjects(server, bucket, "dead/", true);
  const records = dead.flatMap((o) => o.lines!) as {
    id: string;
    deadLetter: { stage: string; error: string };
  }[];
  assert.equal(records.length, 1);
  assert.equal(records[0].id, "broken");
  assert.equal(records[0].deadLetter.stage, "sink s3");
  assert.match(records[0].deadLetter.error, /prefix field \{value\.origin\} is missing/);
  assert.deepEqual([...acked].sort(), [...events.map((e) => e.id), "broken"].sort());
});

async function* slowly(parts: string[], pause: () => Promise<void>): AsyncIterable<string> {
  for (let i = 0; i < parts.length; i++) {
    if (i > 0) await pause();
    yield parts[i];
  }
}

async function until(condition: () => boolean, timeoutMs: number, what: string) {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

Deno.test("sink s3: the server dying mid-stream ends in a clear failure after retries; only stored events are acknowledged", async () => {
  const minio = await startMinio();
  try {
    const bucket = await freshBucket(minio);
    const first = Array.from({ length: 400 }, (_, i) => event(i));
    const rest = Array.from({ length: 600 }, (_, i) => event(400 + i));
    const { run, acked } = await withAcks(async (hello, acked) => ({
      run: await edgepipe(
        [
          "sink",
          "s3",
          "--bucket",
          bucket,
          "--payload",
          "envelope",
          "--max-events",
          "100",
          "--max-attempts",
          "3",
        ],
        slowly([hello + ndjson(first), ndjson(rest)], async () => {
          await until(() => acked.length === 400, 20_000, "the first 400 acknowledgements");
          await minio.kill();
        }),
        minio,
      ),
      acked,
    }));
    assert.equal(run.code, 1);
    assert.match(run.stderr, /failed after 3 attempts/);
    assert.equal(run.stderr.trim().split("\n").length, 1, run.stderr);
    await minio.restart();
    const stored = new Set((await inspectObjects(minio, bucket)).flatMap((o) => o.ids));
    assert.deepEqual([...acked].sort(), first.map((e) => e.id).sort());
    for (const id of acked) assert.ok(stored.has(id), `acknowledged ${id} is stored`);
  } finally {
    await minio.stop();
  }
});

Deno.test("sink s3: a server back within the retry budget loses nothing", async () => {
  const minio = await startMinio();
  try {
    const bucket = await freshBucket(minio);
    const events = Array.from({ length: 1000 }, (_, i) => event(i));
    const { run, acked } = await withAcks(async (hello, acked) => ({
      run: await edgepipe(
        [
          "sink",
          "s3",
          "--bucket",
          bucket,
          "--payload",
          "envelope",
          "--max-events",
          "100",
          "--max-attempts",
          "10",
        ],
        slowly([hello + ndjson(events.slice(0, 300)), ndjson(events.slice(300))], async () => {
          await until(() => acked.length === 300, 20_000, "the first 300 acknowledgements");
          await minio.kill();
          setTimeout(() => void minio.restart(), 1500);
        }),
        minio,
      ),
      acked,
    }));
    assert.equal(run.code, 0, run.stderr);
    const stored = (await inspectObjects(minio, bucket)).flatMap((o) => o.ids);
    assert.deepEqual([...new Set(stored)].sort(), events.map((e) => e.id).sort());
    assert.deepEqual([...acked].sort(), events.map((e) => e.id).sort());
  } finally {
    await minio.stop();
  }
});
