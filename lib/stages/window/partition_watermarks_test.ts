import assert from "node:assert/strict";
import { nameOf, PartitionWatermarks } from "./partition_watermarks.ts";

const T = "persistent://public/default/t";

Deno.test("the watermark is the lowest partition's highest time minus out-of-orderness", () => {
  const w = new PartitionWatermarks({ outOfOrderness: 10, now: 0 });
  assert.equal(w.see(T, 0, 100), 90);
  assert.equal(w.see(T, 1, 50), 40, "a new, lower partition holds the watermark back");
  assert.equal(w.see(T, 0, 200), 40, "the higher partition moving on changes nothing");
  assert.equal(w.see(T, 1, 70), 60);
  assert.equal(w.see(T, 1, 60), 60, "an older event does not move a partition back");
  assert.equal(w.see(T, 1, 300), 190, "partition 0 (200) is now the lowest");
  assert.equal(w.size, 2);
});

Deno.test("events without topic and partition are one partition", () => {
  const w = new PartitionWatermarks({ outOfOrderness: 0, now: 0 });
  w.see(undefined, undefined, 5);
  assert.equal(w.see(undefined, undefined, 9), 9);
  assert.equal(w.size, 1);
  assert.equal(nameOf(undefined, undefined), "");
  assert.equal(nameOf(T, 3), `${T}#3`);
});

Deno.test("idle timeout: a quiet partition stops holding back, and holds again when back", () => {
  const w = new PartitionWatermarks({ outOfOrderness: 0, idleTimeoutMs: 1000, now: 0 });
  w.see(T, 0, 100);
  w.see(T, 1, 10);
  assert.equal(w.tick(500), 10, "not idle yet");
  w.see(T, 0, 150);
  assert.equal(w.tick(999), 10, "partition 1 was seen last at 0: 999 ms quiet, not yet");
  w.see(T, 0, 160);
  assert.equal(w.tick(1200), 160, "partition 1 idle since 0 for 1200 ms: ignored");
  assert.equal(w.see(T, 1, 20), 20, "partition 1 is back and holds the watermark again");
});

Deno.test("idle timeout: with every partition idle, the highest of theirs", () => {
  const w = new PartitionWatermarks({ outOfOrderness: 5, idleTimeoutMs: 100, now: 0 });
  w.see(T, 0, 100);
  w.see(T, 1, 40);
  assert.equal(w.tick(100), 95);
});

Deno.test("without idle timeout a quiet partition holds the watermark for ever", () => {
  const w = new PartitionWatermarks({ outOfOrderness: 0, now: 0 });
  w.see(T, 0, 100);
  w.see(T, 1, 10);
  assert.equal(w.tick(1e9), 10);
  assert.equal(w.wantsTicks, false);
});

Deno.test("idle advance: a quiet input moves the watermark on with the wall clock", () => {
  const w = new PartitionWatermarks({ outOfOrderness: 0, idleAdvanceMs: 1000, now: 0 });
  w.see(T, 0, 5000);
  w.see(T, 1, 4000);
  assert.equal(w.tick(100), 4000, "events came since the last tick: not quiet");
  assert.equal(w.tick(900), 4000, "quiet for 800 ms: not yet");
  assert.equal(w.tick(1100), 5000 + 1000, "quiet for 1000 ms: highest time + 1000");
  w.see(T, 1, 4100);
  assert.equal(w.tick(1200), 4100, "input again: back to the partitions' minimum");
});

Deno.test("snapshot and restore keep each partition's highest time", () => {
  const w = new PartitionWatermarks({ outOfOrderness: 0, now: 0 });
  w.see(T, 0, 100);
  w.see(T, 1, 30);
  const saved = w.snapshot();
  assert.deepEqual(saved, { [`${T}#0`]: 100, [`${T}#1`]: 30 });
  const back = new PartitionWatermarks({ outOfOrderness: 0, now: 0 });
  back.restore(saved);
  assert.equal(back.watermark, 30);
  assert.equal(back.see(T, 1, 120), 100);
});

Deno.test("announced partitions hold the watermark back before their first event", () => {
  const w = new PartitionWatermarks({ outOfOrderness: 0, idleTimeoutMs: 1000, now: 0 });
  w.announce([{ topic: T, partition: 0 }, { topic: T, partition: 1 }]);
  w.tick(100);
  assert.equal(w.see(T, 0, 500), -Infinity, "partition 1 has sent nothing yet");
  assert.equal(w.see(T, 1, 300), 300);
  w.tick(200);
  w.announce([{ topic: T, partition: 2 }]);
  assert.equal(w.watermark, -Infinity, "a newly announced partition holds it back too");
  assert.equal(w.tick(1000), -Infinity, "partition 2 quiet for 800 ms only");
  w.see(T, 0, 600);
  w.see(T, 1, 400);
  assert.equal(w.tick(1200), 400, "partition 2 quiet for the idle timeout: 0 and 1 count");
  assert.equal(w.size, 3);
});

Deno.test("a partition no longer announced stops holding the watermark back", () => {
  const w = new PartitionWatermarks({ outOfOrderness: 0, now: 0 });
  w.announce([{ topic: T, partition: 0 }, { topic: T, partition: 1 }]);
  w.see(T, 0, 500);
  assert.equal(w.see(T, 1, 100), 100);
  // A Failover subscription moved partition 1 to another consumer.
  w.announce([{ topic: T, partition: 0 }]);
  assert.equal(w.watermark, 500);
  assert.equal(w.size, 1);
  // An event of it still in flight brings it back (it holds again).
  assert.equal(w.see(T, 1, 120), 120);
});
