import assert from "node:assert/strict";
import { describeError } from "../errors.ts";
import type { DeadLetter, DeadLetterSink } from "../dead_letter.ts";
import type { Item } from "../envelope.ts";
import { ExpressionError } from "../expr/cel.ts";
import { filter } from "./filter.ts";
import type { Stage } from "./types.ts";

async function run(stage: Stage, items: Item[]): Promise<Item[]> {
  const out: Item[] = [];
  for await (const item of stage(ReadableStream.from(items))) out.push(item);
  return out;
}

const ev = (id: string, delay?: number): Item => ({
  id,
  value: delay === undefined ? {} : { delay },
});

Deno.test("filter keeps matches and acknowledges dropped ids in batches, never ahead of data", async () => {
  const out = await run(filter("event.value.delay > 10"), [
    ev("a", 20),
    ev("b", 1),
    ev("c", 2),
    { $edgepipe: "barrier", n: 1 },
    ev("d", 3),
    ev("e", 30),
    ev("f", 0),
  ]);
  assert.deepEqual(out, [
    ev("a", 20),
    { $edgepipe: "ack", ids: ["b", "c"] },
    { $edgepipe: "barrier", n: 1 },
    ev("e", 30),
    { $edgepipe: "ack", ids: ["d", "f"] },
  ]);
});

Deno.test("filter flushes dropped ids after a short idle, not only at end of input", async () => {
  async function* slow(): AsyncGenerator<Item> {
    yield ev("a", 1);
    await new Promise((r) => setTimeout(r, 60));
    yield ev("b", 50);
  }
  const out: Item[] = [];
  for await (const item of filter("event.value.delay > 10", { ackIdleMs: 5 })(slow())) {
    out.push(item);
  }
  assert.deepEqual(out, [{ $edgepipe: "ack", ids: ["a"] }, ev("b", 50)]);
});

Deno.test("filter batches acks up to maxAckBatch", async () => {
  const items = Array.from({ length: 5 }, (_, i) => ev(`x${i}`, 0));
  const out = await run(filter("event.value.delay > 10", { maxAckBatch: 2 }), items);
  assert.deepEqual(out.map((i) => (i as { ids: string[] }).ids), [["x0", "x1"], ["x2", "x3"], [
    "x4",
  ]]);
});

Deno.test("filter: an expression failing on an event fails, skips or dead-letters it", async () => {
  const items = [ev("a", 20), ev("b"), ev("c", 30)];
  await assert.rejects(
    () => run(filter("event.value.delay > 10"), items),
    (err) => /event b.*delay/.test(describeError(err)),
  );

  const skipped = await run(filter("event.value.delay > 10", { onError: { kind: "skip" } }), items);
  assert.deepEqual(skipped, [ev("a", 20), ev("c", 30), { $edgepipe: "ack", ids: ["b"] }]);

  const letters: DeadLetter[] = [];
  const sink: DeadLetterSink = {
    write: (record) => Promise.resolve(void letters.push(record)),
    close: () => Promise.resolve(),
  };
  const dead = await run(
    filter("event.value.delay > 10", {
      onError: { kind: "dead-letter", target: "mem" },
      deadLetters: sink,
    }),
    items,
  );
  assert.deepEqual(dead, skipped);
  assert.equal(letters.length, 1);
  assert.equal(letters[0].id, "b");
  assert.match(letters[0].deadLetter.error, /column 13/);
});

Deno.test("filter rejects expressions that are not bool, and non-bool results per event", async () => {
  assert.throws(() => filter("size(event.value)"), ExpressionError);
  await assert.rejects(
    () => run(filter("event.value.delay"), [ev("a", 1)]),
    (err) => /expected a bool/.test(describeError(err)),
  );
});
