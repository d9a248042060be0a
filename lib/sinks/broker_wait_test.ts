import assert from "node:assert/strict";
import { BrokerWaitNotice } from "./broker_wait.ts";

function notice(graceMs = 50) {
  const lines: string[] = [];
  let now = 0;
  const n = new BrokerWaitNotice({
    log: (line) => lines.push(line),
    graceMs,
    hint: "no send timeout",
    now: () => now,
  });
  return { n, lines, advance: (ms: number) => (now += ms) };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

Deno.test("a loss healed within the grace period says nothing", async () => {
  const { n, lines } = notice();
  n.onConnectionChange({ topic: "t", connected: false });
  n.onConnectionChange({ topic: "t", connected: true });
  await sleep(80);
  assert.deepEqual(lines, []);
  assert.equal(n.waiting, false);
  n.close();
});

Deno.test("an outage: one line after the grace period, one when the broker is back", async () => {
  const { n, lines, advance } = notice();
  n.onConnectionChange({ topic: "t", connected: false, error: new Error("connection reset") });
  await sleep(80);
  n.onConnectionChange({ topic: "t", connected: false }); // lost again while reconnecting
  advance(47_400);
  n.onConnectionChange({ topic: "t", connected: true });
  assert.deepEqual(lines, [
    "lost the broker (t: connection reset); waiting for the broker to come back, sends are held " +
    "(no send timeout)",
    "the broker is back after 47 s; sending again",
  ]);
  n.close();
});

Deno.test("partitions: back only once every producer is attached again", async () => {
  const { n, lines } = notice(0);
  for (const p of ["t-partition-0", "t-partition-1"]) {
    n.onConnectionChange({ topic: p, connected: false });
  }
  await sleep(20);
  assert.equal(lines.length, 1);
  n.onConnectionChange({ topic: "t-partition-0", connected: true });
  assert.equal(lines.length, 1, "one partition is still waiting");
  assert.ok(n.waiting);
  n.onConnectionChange({ topic: "t-partition-1", connected: true });
  assert.equal(lines.length, 2);
  assert.match(lines[1], /the broker is back/);
  // A later outage is told again.
  n.onConnectionChange({ topic: "t-partition-0", connected: false });
  await sleep(20);
  assert.equal(lines.length, 3);
  n.close();
});
