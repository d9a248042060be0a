import assert from "node:assert/strict";
import { TICK, withIdleTicks } from "./idle_ticks.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function source<T>(steps: (T | number)[], log: string[] = []) {
  return {
    async *[Symbol.asyncIterator]() {
      try {
        for (const step of steps) {
          if (typeof step === "number") await sleep(step);
          else yield step;
        }
      } finally {
        log.push("source closed");
      }
    },
  };
}

Deno.test("withIdleTicks: items in order, ticks while quiet, only while wanted", async () => {
  const seen: string[] = [];
  let want = true;
  const t0 = performance.now();
  let tickAt = 0;
  for await (const item of withIdleTicks(source(["a", 60, "b", "c", 60, "d"]), 20, () => want)) {
    if (item === TICK) {
      seen.push("tick");
      tickAt ||= performance.now() - t0;
    } else {
      seen.push(item);
      if (item === "c") want = false;
    }
  }
  // A quiet period of 60 ms may hold two ticks of 20 ms (one per idle period).
  const collapsed = seen.filter((s, i) => !(s === "tick" && seen[i - 1] === "tick"));
  assert.deepEqual(collapsed, ["a", "tick", "b", "c", "d"]);
  assert.ok(tickAt >= 20, `ticked after ${tickAt} ms of quiet`);
});

Deno.test("withIdleTicks: a tick leaves the pending item to the next read", async () => {
  const seen: string[] = [];
  for await (const item of withIdleTicks(source(["a", 50, "b"]), 10, () => true)) {
    seen.push(item === TICK ? "tick" : item);
    if (item === TICK) await sleep(5); // the item may arrive while the tick is handled
  }
  assert.equal(seen[0], "a");
  assert.equal(seen.at(-1), "b");
  assert.ok(seen.includes("tick"));
  assert.equal(seen.filter((s) => s === "b").length, 1);
});

Deno.test("withIdleTicks: errors and early exits close the source and the timer", async () => {
  const log: string[] = [];
  const failing = {
    async *[Symbol.asyncIterator]() {
      try {
        yield 1;
        await sleep(30);
        throw new Error("boom");
      } finally {
        log.push("failing closed");
      }
    },
  };
  await assert.rejects(async () => {
    for await (const _ of withIdleTicks(failing, 5, () => true));
  }, /boom/);
  for await (const item of withIdleTicks(source(["a", "b"], log), 5, () => false)) {
    if (item === "a") break;
  }
  assert.deepEqual(log, ["failing closed", "source closed"]);
});

Deno.test("withIdleTicks: no tick while waiting for an item once ticks are no longer wanted", async () => {
  const seen: string[] = [];
  let want = true;
  for await (const item of withIdleTicks(source(["a", 80, "b"]), 10, () => want)) {
    seen.push(item === TICK ? "tick" : item);
    if (item === TICK) want = false;
  }
  assert.deepEqual(seen, ["a", "tick", "b"]);
});

Deno.test("withIdleTicks: pull takes items at hand, in order with next(), never past one in flight", async () => {
  const { NdjsonReader } = await import("../ndjson_reader.ts");
  const { LineItems } = await import("../stage_input.ts");
  const text = (from: number, to: number) =>
    new TextEncoder().encode(
      Array.from({ length: to - from }, (_, i) => `{"value":${from + i}}\n`).join(""),
    );
  // Two chunks: lines 0-2 arrive first, 3-4 only after a pause long enough for a tick.
  async function* chunks() {
    yield text(0, 3);
    await sleep(80);
    yield text(3, 5);
  }
  const items = new LineItems(new NdjsonReader(chunks()), () => {});
  const ticks = withIdleTicks(items, 20, () => true);
  const seen: (number | string)[] = [];
  const take = (item: unknown) =>
    seen.push(item === TICK ? "tick" : (item as { value: number }).value);
  assert.equal(ticks.pull(), undefined); // nothing read yet
  take((await ticks.next()).value);
  for (let item = ticks.pull(); item !== undefined; item = ticks.pull()) take(item);
  // The second chunk is not read yet: the wait ticks, and the item it was waiting for comes next.
  let next = await ticks.next();
  assert.equal(next.value, TICK);
  assert.equal(ticks.pull(), undefined, "an item in flight comes through next() first");
  while (next.value === TICK) next = await ticks.next();
  take(next.value);
  take(ticks.pull());
  assert.equal(ticks.pull(), undefined);
  assert.equal((await ticks.next()).done, true);
  assert.deepEqual(seen, [0, 1, 2, 3, 4]);
});
