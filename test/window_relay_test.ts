/**
 * The window stage as an ack relay (behind a source's hello, with checkpoints): its own hello,
 * ids on results, an outbox of undelivered results that survives a checkpoint and is emitted
 * again on restore; without a hello nothing changes.
 */
import assert from "node:assert/strict";
import { endRecord, type Envelope, type HelloRecord, type Item } from "../lib/envelope.ts";
import {
  openWindowCheckpoints,
  window,
  type WindowOptions,
  type WindowRelayFactory,
} from "../lib/stages/window/window.ts";

const OPTIONS: WindowOptions = {
  key: "k",
  shape: { kind: "tumbling", size: 10_000 },
  aggregates: "count(), sum(value.x)",
};
const SOURCE: HelloRecord = { $edgepipe: "hello", v: 1, ack: "/tmp/src.sock", source: "consume" };
const OWN: HelloRecord = { $edgepipe: "hello", v: 1, ack: "/tmp/relay.sock", source: "window" };
const END = endRecord("consume");
const ev = (id: string, t: number, k: string): Envelope => ({
  id,
  eventTime: t,
  value: { k, x: 1 },
});

type Routes = Parameters<WindowRelayFactory>[1];

/** A relay factory that records what the stage asked for and hands back the routes. */
function fakeRelay() {
  const calls: { upstream: HelloRecord; routes: Routes }[] = [];
  const factory: WindowRelayFactory = (upstream, routes) => {
    calls.push({ upstream, routes });
    return Promise.resolve({ hello: () => OWN });
  };
  return { calls, factory };
}

async function stageIn(dir: string, factory?: WindowRelayFactory, intervalMs = 3_600_000) {
  const opened = await openWindowCheckpoints(dir, OPTIONS);
  return window({
    ...OPTIONS,
    late: { kind: "emit" },
    checkpoint: { store: opened.store, restored: opened.restored, intervalMs, relay: factory },
  });
}

const isResult = (item: Item) => (item as Envelope).window !== undefined;

Deno.test("window relay: own hello first, result ids, delivered results leave the outbox, the rest is emitted again on restore", async () => {
  const dir = await Deno.makeTempDir();
  const first = fakeRelay();
  const input: Item[] = [
    SOURCE,
    ev("a", 1000, "x"),
    ev("b", 2000, "x"),
    ev("c", 15_000, "y"), // closes x [0, 10 s)
    ev("d", 25_000, "y"), // closes y [10 s, 20 s)
    { ...ev("e", 1500, "z") }, // late: passed on with its id (--late emit)
    END,
  ];
  const out: Item[] = [];
  const stage = await stageIn(dir, first.factory);
  for await (const item of stage(ReadableStream.from(input))) {
    out.push(item);
    // The terminal reports the first result delivered while the stage still runs.
    if (isResult(item) && (item as Envelope).key === "x") {
      first.calls[0].routes.onDelivered((item as Envelope).id as string);
    }
  }
  assert.equal(first.calls.length, 1);
  assert.deepEqual(first.calls[0].upstream, SOURCE);
  assert.deepEqual(out[0], OWN, "the relay's hello replaces the source's");
  assert.equal(out.filter((i) => (i as HelloRecord).$edgepipe === "hello").length, 1);
  const results = out.filter(isResult) as Envelope[];
  assert.deepEqual(results.map((r) => [r.key, r.value]), [
    ["x", { count: 2, sum_value_x: 2 }],
    ["y", { count: 1, sum_value_x: 1 }],
    ["y", { count: 1, sum_value_x: 1 }],
  ]);
  const prefix = first.calls[0].routes.ownPrefix;
  assert.match(prefix, /^w:[0-9a-f]{8}:$/);
  const ids = results.map((r) => r.id as string);
  assert.ok(ids.every((id) => id.startsWith(prefix)), ids.join());
  assert.equal(new Set(ids).size, 3);
  const late = out.find((i) => (i as Envelope).late) as Envelope;
  assert.equal(late.id, "e", "a passed-through event keeps its id (the relay sends it on)");
  const acked = out.flatMap((i) =>
    (i as { $edgepipe?: string }).$edgepipe === "ack" ? (i as { ids: string[] }).ids : []
  );
  assert.deepEqual(acked.sort(), ["a", "b", "c", "d"]);

  // Restart from the final checkpoint: hello, then the outbox (the two y results, same ids, not
  // the delivered x result), then the acks that never came back through the relay.
  const second = fakeRelay();
  const again: Item[] = [];
  const restarted = await stageIn(dir, second.factory);
  for await (const item of restarted(ReadableStream.from([SOURCE, END]))) again.push(item);
  assert.equal(second.calls[0].routes.ownPrefix, prefix, "the relay id survives restarts");
  assert.deepEqual(again[0], OWN);
  assert.deepEqual(again.slice(1, 3), results.slice(1));
  assert.deepEqual(again[3], { $edgepipe: "ack", ids: ["a", "b", "c", "d"] });

  // Once the terminal reports them (results delivered, acks relayed), a restart emits nothing.
  const third = fakeRelay();
  const stage3 = await stageIn(dir, third.factory);
  const once: Item[] = [];
  for await (const item of stage3(ReadableStream.from([SOURCE, END]))) {
    once.push(item);
    if (isResult(item)) third.calls[0].routes.onDelivered((item as Envelope).id as string);
    if ((item as { $edgepipe?: string }).$edgepipe === "ack") {
      for (const id of (item as { ids: string[] }).ids) third.calls[0].routes.onRelayed(id);
    }
  }
  assert.equal(once.filter(isResult).length, 2);
  const fourth = fakeRelay();
  const stage4 = await stageIn(dir, fourth.factory);
  const none: Item[] = [];
  for await (const item of stage4(ReadableStream.from([SOURCE, END]))) none.push(item);
  assert.deepEqual(none, [OWN, END]);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("window relay: a checkpoint in the middle holds the undelivered results", async () => {
  const dir = await Deno.makeTempDir();
  const relay = fakeRelay();
  const events: Item[] = [SOURCE];
  for (let n = 0; n < 200; n++) events.push(ev(`i${n}`, n * 1000, n % 2 === 0 ? "p" : "q"));
  const stage = await stageIn(dir, relay.factory, 1);
  let results = 0;
  const iterator = stage(ReadableStream.from(events))[Symbol.asyncIterator]();
  // Stop in the middle, like a kill: no end-of-input flush, no final checkpoint.
  while (results < 10) {
    const next = await iterator.next();
    assert.equal(next.done, false);
    if (isResult(next.value)) results++;
    await new Promise((r) => setTimeout(r, 2)); // let background checkpoint writes land
  }
  // The stopped stage lets go of its directory (a killed process's lock goes with it).
  await iterator.return?.(undefined);
  const opened = await openWindowCheckpoints(dir, OPTIONS);
  opened.store.close();
  assert.ok(opened.restored, "a checkpoint was written");
  const outbox = opened.restored.json.outbox as Envelope[];
  assert.ok(outbox.length > 0 && outbox.length <= 10, `outbox of ${outbox.length}`);
  assert.ok(outbox.every((r) => typeof r.id === "string" && r.window !== undefined));
  await Deno.remove(dir, { recursive: true });
});

Deno.test("window relay: without a hello (a replay) the output is exactly that of no relay", async () => {
  const input: Item[] = [];
  for (let n = 0; n < 500; n++) input.push(ev(`i${n}`, n * 700, `k${n % 3}`));
  const run = async (factory?: WindowRelayFactory) => {
    const dir = await Deno.makeTempDir();
    // Only the final checkpoint: periodic ones depend on the wall clock, not on the relay.
    const stage = await stageIn(dir, factory);
    const out: string[] = [];
    for await (const item of stage(ReadableStream.from(input))) out.push(JSON.stringify(item));
    await Deno.remove(dir, { recursive: true });
    return out;
  };
  const relay = fakeRelay();
  const withRelay = await run(relay.factory);
  assert.equal(relay.calls.length, 0);
  assert.deepEqual(withRelay, await run());
  assert.ok(withRelay.every((line) => !line.includes('"w:')));
});

Deno.test("window relay: results reported during the drain after the end leave the outbox; a restart emits nothing", async () => {
  const dir = await Deno.makeTempDir();
  const relay = fakeRelay();
  const opened = await openWindowCheckpoints(dir, OPTIONS);
  const emitted: Envelope[] = [];
  const acked: string[] = [];
  let drained = 0;
  const stage = window({
    ...OPTIONS,
    checkpoint: {
      store: opened.store,
      intervalMs: 3_600_000,
      relay: relay.factory,
      // The terminal reports everything only once its input has ended, as produce does.
      drain: () => {
        drained++;
        for (const r of emitted) relay.calls[0].routes.onDelivered(r.id as string);
        for (const id of acked) relay.calls[0].routes.onRelayed(id);
        return Promise.resolve();
      },
    },
  });
  const input = [SOURCE, ev("a", 1000, "x"), ev("b", 12_000, "x"), ev("c", 25_000, "y"), END];
  for await (const item of stage(ReadableStream.from(input))) {
    if (isResult(item)) emitted.push(item as Envelope);
    if ((item as { $edgepipe?: string }).$edgepipe === "ack") {
      acked.push(...(item as { ids: string[] }).ids);
    }
  }
  assert.equal(drained, 1);
  assert.equal(emitted.length, 3);
  const again = fakeRelay();
  const restarted = await stageIn(dir, again.factory);
  const out = await Array.fromAsync(restarted(ReadableStream.from([SOURCE, END])));
  assert.deepEqual(out, [OWN, END], "nothing delivered is emitted again");
  await Deno.remove(dir, { recursive: true });
});

Deno.test("window relay: a full outbox stops reading until the terminal reports, and says so", async () => {
  const dir = await Deno.makeTempDir();
  const relay = fakeRelay();
  const opened = await openWindowCheckpoints(dir, OPTIONS);
  const said: string[] = [];
  let pulled = 0;
  async function* input(): AsyncGenerator<Item> {
    yield SOURCE;
    // Each event closes the window of the one before: one result per event from the second on.
    for (let n = 0; n < 20; n++) {
      pulled++;
      yield ev(`e${n}`, n * 10_000, "k");
    }
    yield END;
  }
  const stage = window({
    ...OPTIONS,
    log: (message) => void said.push(message),
    checkpoint: { store: opened.store, intervalMs: 3_600_000, relay: relay.factory, maxOutbox: 3 },
  });
  const iterator = stage(input())[Symbol.asyncIterator]();
  const results: Envelope[] = [];
  while (results.length < 3) {
    const next = await iterator.next();
    assert.equal(next.done, false, JSON.stringify(results));
    if (isResult(next.value)) results.push(next.value as Envelope);
  }
  // The outbox is full: the stage does not read on while nothing is reported.
  const waiting = iterator.next();
  const settled = await Promise.race([
    waiting.then(() => "moved"),
    new Promise((r) => setTimeout(() => r("waited"), 300)),
  ]);
  assert.equal(settled, "waited");
  assert.equal(pulled, 4, "three results and the event that caused the third");
  assert.equal(said.length, 1);
  assert.match(said[0], /3 results wait for the terminal stage's report; reading paused/);
  relay.calls[0].routes.onDelivered(results[0].id as string);
  const rest: Item[] = [];
  const report = (item: Item) => {
    rest.push(item);
    if (isResult(item)) relay.calls[0].routes.onDelivered((item as Envelope).id!);
  };
  report((await waiting).value as Item);
  for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
    report(next.value);
  }
  assert.equal(pulled, 20, "reading went on once there was room");
  assert.equal(rest.filter(isResult).length + results.length, 20);
  await Deno.remove(dir, { recursive: true });
});
