import assert from "node:assert/strict";
import { join } from "node:path";
import type { Envelope } from "../envelope.ts";
import { InputError } from "../errors.ts";
import { BufferedSink } from "./buffered_sink.ts";
import { encodeRecord, SegmentQueue } from "./buffer_segments.ts";
import type { Sink } from "./types.ts";

/** A destination that is down until `up()`; records what it got. */
function destination() {
  const got: unknown[] = [];
  let down = true;
  let opens = 0;
  const sink: Sink = {
    description: "test",
    send: (event: Envelope) => {
      if ((event.value as { bad?: boolean }).bad) {
        return Promise.reject(new InputError("cannot take it"));
      }
      got.push(event.value);
      return Promise.resolve();
    },
    flush: () => Promise.resolve(),
    close: () => Promise.resolve(),
  };
  return {
    got,
    get opens() {
      return opens;
    },
    up: () => (down = false),
    open: () => {
      opens++;
      return down ? Promise.reject(new Error("connection refused")) : Promise.resolve(sink);
    },
  };
}

const until = async (ready: () => boolean) => {
  for (let i = 0; i < 400 && !ready(); i++) await new Promise((r) => setTimeout(r, 25));
  assert.ok(ready(), "condition not reached in 10 s");
};

Deno.test("buffered sink: stored while the destination is down, then forwarded in order", async () => {
  const dir = await Deno.makeTempDir();
  const logs: string[] = [];
  const dest = destination();
  const sink = await BufferedSink.open(dest.open, { dir, log: (m) => logs.push(m), batch: 7 });
  for (let n = 0; n < 100; n++) await sink.send({ id: `e${n}`, value: n });
  assert.equal(sink.stats().buffered, 100);
  assert.ok(sink.stats().bytes > 100 * 16);
  assert.deepEqual(dest.got, []);
  dest.up();
  await until(() => dest.got.length === 100);
  assert.deepEqual(dest.got, Array.from({ length: 100 }, (_, n) => n));
  await until(() => sink.stats().buffered === 0);
  await sink.close();
  assert.ok(logs.some((m) => /destination unreachable/.test(m)), logs.join("\n"));
  await Deno.remove(dir, { recursive: true });
});

Deno.test("buffered sink: what was stored survives a restart and is replayed first", async () => {
  const dir = await Deno.makeTempDir();
  const logs: string[] = [];
  const first = destination();
  const a = await BufferedSink.open(first.open, {
    dir,
    log: (m) => logs.push(m),
    drainTimeoutMs: 0,
  });
  for (let n = 0; n < 50; n++) await a.send({ value: n });
  await a.close(); // the destination never came: all 50 stay on disk
  assert.ok(logs.some((m) => /50 event\(s\) stay stored/.test(m)), logs.join("\n"));
  const second = destination();
  second.up();
  const b = await BufferedSink.open(second.open, { dir, log: (m) => logs.push(m) });
  await b.send({ value: 50 });
  await until(() => second.got.length === 51);
  assert.deepEqual(second.got, Array.from({ length: 51 }, (_, n) => n));
  await b.close();
  // Forwarded and committed: a third start has nothing.
  const third = destination();
  third.up();
  const c = await BufferedSink.open(third.open, { dir, log: () => {}, drainTimeoutMs: 0 });
  assert.equal(c.stats().buffered, 0);
  await c.close();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("buffered sink: full queue makes send wait (backpressure), nothing dropped", async () => {
  const dir = await Deno.makeTempDir();
  const dest = destination();
  const sink = await BufferedSink.open(dest.open, {
    dir,
    maxBytes: 16 * 1024,
    segmentBytes: 4096,
    log: () => {},
  });
  const body = "x".repeat(1000);
  let stored = 0;
  const sends = Array.from(
    { length: 40 },
    (_, n) => sink.send({ value: { n, body } }).then(() => stored++),
  );
  await new Promise((r) => setTimeout(r, 300));
  assert.ok(stored < 40 && stored > 0, `stored ${stored} of 40 in a 16 KiB queue`);
  dest.up();
  await Promise.all(sends);
  await until(() => dest.got.length === 40);
  assert.deepEqual(
    dest.got.map((v) => (v as { n: number }).n),
    Array.from({ length: 40 }, (_, n) => n),
  );
  await sink.close();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("buffered sink: an event the destination can never take is said and left out", async () => {
  const dir = await Deno.makeTempDir();
  const logs: string[] = [];
  const dest = destination();
  dest.up();
  const sink = await BufferedSink.open(dest.open, { dir, log: (m) => logs.push(m) });
  await sink.send({ id: "ok1", value: 1 });
  await sink.send({ id: "bad", value: { bad: true } });
  await sink.send({ id: "ok2", value: 2 });
  await until(() => dest.got.length === 2);
  await sink.close();
  assert.deepEqual(dest.got, [1, 2]);
  assert.ok(logs.some((m) => /event bad/.test(m)), logs.join("\n"));
  assert.equal(sink.skipped, 1);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("buffered sink: a refusing destination stops forwarding, fails the next send, keeps what is stored", async () => {
  const dir = await Deno.makeTempDir();
  const logs: string[] = [];
  const refusal = new Error("bucket 'b' does not exist");
  let opens = 0;
  const sink = await BufferedSink.open(() => (opens++, Promise.reject(refusal)), {
    dir,
    log: (m) => logs.push(m),
    refused: (err) => err === refusal,
    drainTimeoutMs: 10_000,
  });
  await sink.send({ id: "e0", value: 0 });
  await until(() => logs.some((m) => /refused/.test(m)));
  await assert.rejects(sink.send({ id: "e1", value: 1 }), (err) => err === refusal);
  const started = Date.now();
  await sink.close(); // no 10 s drain wait: nothing can be forwarded
  assert.ok(Date.now() - started < 5_000, `close took ${Date.now() - started} ms`);
  assert.equal(opens, 1, "a refusal is not retried");
  assert.ok(logs.some((m) => /1 event\(s\) stay stored/.test(m)), logs.join("\n"));
  await Deno.remove(dir, { recursive: true });
});

Deno.test("segment queue: a torn tail is cut, damage mid-segment is skipped with a warning", async () => {
  const dir = await Deno.makeTempDir();
  const seg = (n: number) => join(dir, `${String(n).padStart(20, "0")}.seg`);
  const records = [0, 1, 2].map((n) => encodeRecord(JSON.stringify({ value: n }), 1000 + n));
  // Segment 0: three records, the second with a flipped byte. Segment 1: one record, then half
  // of another (a write that never completed).
  const zero = new Uint8Array(records.reduce((s, r) => s + r.length, 0));
  let at = 0;
  for (const r of records) (zero.set(r, at), at += r.length);
  zero[records[0].length + 20] ^= 0xff;
  await Deno.writeFile(seg(0), zero);
  const one = new Uint8Array(records[0].length + 10);
  one.set(records[0]);
  one.set(records[1].subarray(0, 10), records[0].length);
  await Deno.writeFile(seg(1), one);
  const logs: string[] = [];
  const queue = await SegmentQueue.open(dir, { log: (m) => logs.push(m) });
  assert.equal(queue.records, 2, "record 0 of each segment survives");
  assert.ok(
    logs.some((m) =>
      m.includes(`WARNING 00000000000000000000.seg is damaged at offset ${records[0].length}`)
    ),
    logs.join("\n"),
  );
  assert.ok(logs.some((m) => /partial record/.test(m)), logs.join("\n"));
  assert.equal((await Deno.stat(seg(1))).size, records[0].length, "the torn tail was cut");
  const read = await queue.read();
  assert.deepEqual(read.map((r) => JSON.parse(r.body).value), [0]);
  const next = await queue.read(read[0].next);
  assert.deepEqual(next.map((r) => JSON.parse(r.body).value), [0]);
  assert.equal(next[0].segment, 1);
  await queue.close();
  await Deno.remove(dir, { recursive: true });
});
