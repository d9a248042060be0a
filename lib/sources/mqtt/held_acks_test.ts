import assert from "node:assert/strict";
import { HeldAcks } from "./held_acks.ts";

Deno.test("held acknowledgements leave in arrival order, whatever the report order", () => {
  const held = new HeldAcks<string>();
  for (const id of ["a", "b", "c", "d"]) held.hold(id, id.toUpperCase());
  assert.deepEqual(held.report("c"), []);
  assert.deepEqual(held.report("b"), []);
  assert.deepEqual(held.report("a"), ["A", "B", "C"]);
  assert.equal(held.size, 1);
  assert.deepEqual(held.report("nope"), []);
  assert.deepEqual(held.report("d"), ["D"]);
  assert.equal(held.size, 0);
});

Deno.test("a report of an id twice releases nothing the second time", () => {
  const held = new HeldAcks<number>();
  held.hold("a", 1);
  assert.deepEqual(held.report("a"), [1]);
  assert.deepEqual(held.report("a"), []);
});

Deno.test("clear forgets held acknowledgements (the connection is gone)", () => {
  const held = new HeldAcks<number>();
  held.hold("a", 1);
  held.hold("b", 2);
  assert.equal(held.clear(), 2);
  assert.equal(held.has("a"), false);
  assert.deepEqual(held.report("a"), []);
});

Deno.test("many acknowledgements: the queue compacts and keeps order", () => {
  const held = new HeldAcks<number>();
  const out: number[] = [];
  for (let i = 0; i < 5000; i++) held.hold(`m${i}`, i);
  for (let i = 0; i < 5000; i += 2) out.push(...held.report(`m${i + 1}`), ...held.report(`m${i}`));
  assert.equal(out.length, 5000);
  assert.ok(out.every((v, i) => v === i));
});
