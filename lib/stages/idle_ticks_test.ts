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
