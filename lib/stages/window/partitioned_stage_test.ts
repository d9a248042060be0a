/**
 * `window` with state per source partition in a shared directory store: instances that follow one
 * another on the same partitions (a kill, a partition handed over) give together the windows one
 * process gives, with each count computed here from the events (hour buckets per key).
 */
import assert from "node:assert/strict";
import { decodeCheckpoint } from "../../checkpoint/format.ts";
import {
  DirectoryCheckpointStore,
  type PartitionKey,
  type SharedCheckpointStore,
} from "../../checkpoint/shared_store.ts";
import type { Envelope, Item } from "../../envelope.ts";
import { MessageId } from "../../pulsar/message_id.ts";
import { UpstreamEndedError } from "../upstream_end.ts";
import { window } from "./window.ts";
import { WINDOW_KIND } from "./snapshot.ts";

const TOPIC = "persistent://public/default/flights";
const HOUR = 3_600_000;
const T0 = Date.UTC(2001, 2, 12);
const HELLO = { $edgepipe: "hello", v: 1, ack: "/nowhere.sock", source: "consume" } as Item;
const END = { $edgepipe: "end", source: "consume" } as Item;
const record = (...partitions: number[]) =>
  ({
    $edgepipe: "partitions",
    partitions: partitions.map((partition) => ({ topic: TOPIC, partition })),
  }) as Item;

interface Ev extends Envelope {
  id: string;
  topic: string;
  partition: number;
  eventTime: number;
  value: { origin: string };
}

/** Partition p holds origins `Pp-0`, `Pp-1`; event n of a partition is at T0 + n * 7 min. */
function events(partition: number, from: number, to: number): Ev[] {
  const out: Ev[] = [];
  for (let n = from; n < to; n++) {
    out.push({
      id: new MessageId(10n + BigInt(partition), BigInt(n), partition, -1).toString(),
      topic: TOPIC,
      partition,
      eventTime: T0 + n * 7 * 60_000,
      value: { origin: `P${partition}-${n % 2}` },
    });
  }
  return out;
}

/** key@start → count, from first principles. */
function expected(all: Ev[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const e of all) {
    const at = `${e.value.origin}@${Math.floor(e.eventTime / HOUR) * HOUR}`;
    out.set(at, (out.get(at) ?? 0) + 1);
  }
  return out;
}

/** Runs one instance over `input`; its output, and whether its input ended properly. */
async function instance(store: SharedCheckpointStore, input: Item[]) {
  const stage = window({
    key: "value.origin",
    shape: { kind: "tumbling", size: HOUR },
    aggregates: "count()",
    sharedCheckpoint: { store, intervalMs: 1 },
    log: () => {},
  });
  const out: Item[] = [];
  let upstreamEnded = false;
  try {
    for await (const item of stage(ReadableStream.from(input))) out.push(item);
  } catch (error) {
    if (!(error instanceof UpstreamEndedError)) throw error;
    upstreamEnded = true;
  }
  return { out, upstreamEnded };
}

const results = (out: Item[]) =>
  out.filter((i) => (i as { window?: unknown }).window !== undefined) as unknown as {
    key: string;
    window: { start: number };
    value: { count: number };
  }[];
const acked = (out: Item[]) =>
  new Set(out.flatMap((i) => (i as { $edgepipe?: string; ids?: string[] }).ids ?? []));

/** The union of results: every window once with its count (a repeat must agree). */
function union(outs: Item[][]): Map<string, number> {
  const seen = new Map<string, number>();
  for (const r of outs.flatMap(results)) {
    const at = `${r.key}@${r.window.start}`;
    if (seen.has(at)) assert.equal(r.value.count, seen.get(at), `${at} repeated differently`);
    seen.set(at, r.value.count);
  }
  return seen;
}

Deno.test("an instance that dies: the next owner restores the partition and completes its windows", async () => {
  const dir = await Deno.makeTempDir();
  const store = await DirectoryCheckpointStore.open(dir);
  const p0 = events(0, 0, 40);
  const p1 = events(1, 0, 40);
  // A reads both partitions half-way and its input stops without an end (its consume died).
  const a = await instance(store, [HELLO, record(0, 1), ...p0.slice(0, 20), ...p1.slice(0, 20)]);
  assert.ok(a.upstreamEnded);
  // Every event A absorbed was acknowledged only with a durable checkpoint: all of them here.
  for (const e of [...p0.slice(0, 20), ...p1.slice(0, 20)]) assert.ok(acked(a.out).has(e.id));
  // B gets both; the broker redelivers from where A's acks reached (here: 5 events back).
  const b = await instance(store, [
    HELLO,
    record(0, 1),
    ...p0.slice(15),
    ...p1.slice(15),
    END,
  ]);
  assert.equal(b.upstreamEnded, false);
  assert.deepEqual(union([a.out, b.out]), expected([...p0, ...p1]));
  // The redelivered ones were acknowledged again, not counted twice (the counts above).
  for (const e of p0.slice(15, 20)) assert.ok(acked(b.out).has(e.id));
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a lost partition gets a final checkpoint; its new owner goes on from it", async () => {
  const dir = await Deno.makeTempDir();
  const store = await DirectoryCheckpointStore.open(dir);
  const p0 = events(0, 0, 30);
  const p1 = events(1, 0, 30);
  // A loses partition 1 after 12 of its events; an event of 1 still buffered is left alone.
  const a = await instance(store, [
    HELLO,
    record(0, 1),
    ...p0.slice(0, 10),
    ...p1.slice(0, 12),
    record(0),
    p1[12],
    ...p0.slice(10),
    END,
  ]);
  assert.ok(!acked(a.out).has(p1[12].id), "a stray event is not acknowledged");
  for (const e of p1.slice(0, 12)) assert.ok(acked(a.out).has(e.id), "final checkpoint acks");
  // B takes partition 1 over: everything after A's final checkpoint is redelivered to it.
  const b = await instance(store, [HELLO, record(1), ...p1.slice(12), END]);
  // The windows of partition 1 still open when A lost it come from B only.
  const open = Math.floor(p1[11].eventTime / HOUR) * HOUR;
  const fromA = results(a.out).filter((r) => r.key.startsWith("P1") && r.window.start >= open);
  assert.deepEqual(fromA, [], "A emitted none of partition 1's windows open at the loss");
  assert.ok(results(b.out).some((r) => r.key.startsWith("P1") && r.window.start === open));
  assert.deepEqual(union([a.out, b.out]), expected([...p0, ...p1]));
  await Deno.remove(dir, { recursive: true });
});

/** A store whose writes of one partition wait until released; it logs what became durable. */
class GatedStore implements SharedCheckpointStore {
  readonly where: string;
  readonly inner: DirectoryCheckpointStore;
  readonly durable: string[] = [];
  gate: Promise<void> | undefined;
  constructor(inner: DirectoryCheckpointStore) {
    this.inner = inner;
    this.where = inner.where;
  }
  newest(key: PartitionKey) {
    return this.inner.newest(key);
  }
  async put(key: PartitionKey, generation: number, bytes: Uint8Array) {
    await this.gate;
    const outcome = await this.inner.put(key, generation, bytes);
    if (outcome === "written") {
      const json = decodeCheckpoint(bytes, WINDOW_KIND).json as unknown as {
        pendingAcks: string[];
      };
      this.durable.push(...json.pendingAcks);
    }
    return outcome;
  }
  close() {}
}

Deno.test("acks follow durable checkpoints of the partition; a fenced old owner releases none", async () => {
  const dir = await Deno.makeTempDir();
  const gated = new GatedStore(await DirectoryCheckpointStore.open(dir));
  const p0 = events(0, 0, 20);
  // Every ack of an absorbed event names an id that a durable checkpoint held before.
  const stage = window({
    key: "value.origin",
    shape: { kind: "tumbling", size: HOUR },
    aggregates: "count()",
    sharedCheckpoint: { store: gated, intervalMs: 1 },
    idleMs: 5,
    log: () => {},
  });
  const input = [HELLO, record(0), ...p0.slice(0, 10)];
  const problems: string[] = [];
  let release: () => void = () => {};
  let sawFence = false;
  const out: Item[] = [];
  async function* feed() {
    for (const item of input) yield item;
    // Quiet input: A checkpoints what it holds, and acknowledges it once durable.
    while (!p0.slice(0, 10).every((e) => acked(out).has(e.id))) {
      await new Promise((r) => setTimeout(r, 5));
    }
    // B takes partition 0 over while A's next write waits: A's write is then fenced.
    gated.gate = new Promise((r) => (release = r));
    const b = await DirectoryCheckpointStore.open(dir);
    const restored = await b.newest({ topic: TOPIC, partition: 0 });
    assert.equal(
      await b.put({ topic: TOPIC, partition: 0 }, restored!.generation + 1, restored!.bytes),
      "written",
    );
    for (const item of p0.slice(10, 15)) yield item;
    await new Promise((r) => setTimeout(r, 20));
    release();
    await new Promise((r) => setTimeout(r, 50));
    sawFence = true;
  }
  try {
    for await (const item of stage(ReadableStream.from(feed()))) {
      out.push(item);
      for (const id of (item as { ids?: string[] }).ids ?? []) {
        if (!gated.durable.includes(id)) problems.push(id);
      }
    }
  } catch (error) {
    if (!(error instanceof UpstreamEndedError)) throw error;
  }
  assert.ok(sawFence);
  assert.deepEqual(problems, [], "acks before their checkpoint was durable");
  for (const e of p0.slice(0, 10)) assert.ok(acked(out).has(e.id), `${e.id} acknowledged`);
  for (const e of p0.slice(10, 15)) assert.ok(!acked(out).has(e.id), "fenced: not acknowledged");
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a record naming a partition another instance reads claims nothing (no fence of its owner)", async () => {
  const dir = await Deno.makeTempDir();
  const store = await DirectoryCheckpointStore.open(dir);
  const p0 = events(0, 0, 30);
  const out: Item[] = [];
  async function* feedA() {
    yield HELLO;
    yield record(0);
    for (const e of p0.slice(0, 15)) yield e;
    while (!p0.slice(0, 15).every((e) => acked(out).has(e.id))) {
      await new Promise((r) => setTimeout(r, 5));
    }
    // A newly started instance B is told "partition 0" before the broker says it is standby.
    await instance(store, [HELLO, record(0), record()]);
    for (const e of p0.slice(15)) yield e;
    yield END;
  }
  const stage = window({
    key: "value.origin",
    shape: { kind: "tumbling", size: HOUR },
    aggregates: "count()",
    sharedCheckpoint: { store, intervalMs: 1 },
    idleMs: 5,
    log: () => {},
  });
  for await (const item of stage(ReadableStream.from(feedA()))) out.push(item);
  assert.deepEqual(union([out]), expected(p0), "A alone gives every window whole");
  for (const e of p0) assert.ok(acked(out).has(e.id), `${e.id} acknowledged`);
  await Deno.remove(dir, { recursive: true });
});
