import assert from "node:assert/strict";
import { Message, MessageId } from "../../pulsar/mod.ts";
import { entryBytes, Unreported } from "./unreported.ts";

const message = (topic: string, entry: number, bytes = 1000) =>
  new Message(topic, new MessageId(7n, BigInt(entry)), new Uint8Array(bytes), { publishTime: 1 });

const settled = async (promise: Promise<void>) =>
  await Promise.race([promise.then(() => true), new Promise((r) => setTimeout(r, 20, false))]);

Deno.test("the count bound: reading waits until a report makes room, told once", async () => {
  const told: number[] = [];
  const unreported = new Unreported({ maxMessages: 3, onFull: (h) => void told.push(h.messages) });
  for (let i = 0; i < 3; i++) unreported.add(`id${i}`, message("t", i));
  assert.ok(unreported.full);
  const room = unreported.room();
  assert.equal(await settled(room), false, "no room before a report");
  assert.equal(unreported.take("unknown"), undefined);
  assert.equal(await settled(room), false, "an unknown id makes no room");
  assert.equal(unreported.take("id1")?.id.entryId, 1n);
  assert.equal(await settled(room), true);
  unreported.add("id3", message("t", 3));
  const again = unreported.room();
  unreported.take("id0");
  await again;
  assert.deepEqual(told, [3], "said once, however often it fills");
});

Deno.test("the bytes bound counts the entries, not the payloads", () => {
  const id = "CAcQAA==";
  const unreported = new Unreported({ maxBytes: 2 * entryBytes(id) });
  unreported.add(id, message("t", 0, 10_000_000));
  assert.ok(!unreported.full, "a 10 MB payload is not held");
  unreported.add(`${id}x`, message("t", 1));
  assert.ok(unreported.full);
  assert.equal(unreported.bytes, entryBytes(id) + entryBytes(`${id}x`));
});

Deno.test("handles keep topic and id per partition; a duplicate add is one entry", () => {
  const unreported = new Unreported();
  const a = message("t-partition-0", 1);
  const b = message("t-partition-1", 1);
  unreported.add("a", a);
  unreported.add("a", a);
  unreported.add("b", b);
  assert.equal(unreported.size, 2);
  const handle = unreported.take("b")!;
  assert.equal(handle.topic, "t-partition-1");
  assert.equal(handle.id, b.id);
  assert.equal(handle.payload.length, 0);
  assert.equal(unreported.take("b"), undefined, "taken once");
  assert.equal(unreported.size, 1);
});

Deno.test("release wakes a reader waiting for room (the source is stopping)", async () => {
  const unreported = new Unreported({ maxMessages: 1 });
  unreported.add("a", message("t", 0));
  const room = unreported.room();
  unreported.release();
  assert.equal(await settled(room), true);
});
