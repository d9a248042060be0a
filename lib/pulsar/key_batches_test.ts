import assert from "node:assert/strict";
import { splitByKey, splitByKeyRuns } from "./key_batches.ts";
import type { SingleMessageMetadata } from "./wire/mod.ts";

function message(sequenceId: number, key?: string, orderingKey?: string) {
  const single: SingleMessageMetadata = { payloadSize: 1, sequenceId };
  if (key !== undefined) single.partitionKey = key;
  if (orderingKey !== undefined) single.orderingKey = new TextEncoder().encode(orderingKey);
  return { single, sequenceId, name: `${key ?? "-"}${orderingKey ?? ""}#${sequenceId}` };
}

Deno.test("splitByKey: one group per key, in order of first message, ids contiguous per group", () => {
  const messages = [
    message(10, "a"),
    message(11, "b"),
    message(12, "a"),
    message(13),
    message(14, "b"),
    message(15),
  ];
  const groups = splitByKey(messages);
  assert.deepEqual(groups.map((g) => g.map((m) => m.name)), [
    ["a#10", "a#12"],
    ["b#11", "b#14"],
    ["-#13", "-#15"],
  ]);
  assert.deepEqual(groups.map((g) => g.map((m) => m.sequenceId)), [[10, 11], [12, 13], [14, 15]]);
  for (const m of messages) assert.equal(m.single.sequenceId, m.sequenceId);
});

Deno.test("splitByKey: the ordering key decides over the partition key", () => {
  const groups = splitByKey([message(0, "a", "x"), message(1, "b", "x"), message(2, "a")]);
  assert.deepEqual(groups.map((g) => g.map((m) => m.name)), [["ax#0", "bx#1"], ["a#2"]]);
});

Deno.test("splitByKey: a single key leaves the batch and its ids as they were", () => {
  const messages = [message(3, "k"), message(4, "k")];
  const groups = splitByKey(messages);
  assert.equal(groups.length, 1);
  assert.equal(groups[0], messages);
  assert.deepEqual(messages.map((m) => m.sequenceId), [3, 4]);
});

Deno.test("splitByKeyRuns: runs of consecutive keys, order and ids untouched", () => {
  const messages = [
    message(0, "a"),
    message(1, "a"),
    message(2, "b"),
    message(3),
    message(4),
    message(5, "a"),
    message(6, "a", "x"),
  ];
  const runs = splitByKeyRuns(messages);
  assert.deepEqual(runs.map((r) => r.map((m) => m.name)), [
    ["a#0", "a#1"],
    ["b#2"],
    ["-#3", "-#4"],
    ["a#5"],
    ["ax#6"],
  ]);
  assert.deepEqual(runs.flat().map((m) => m.sequenceId), [0, 1, 2, 3, 4, 5, 6]);
});
