import assert from "node:assert/strict";
import type { Item } from "../envelope.ts";
import { checkScoreField, compileAttacher } from "./attach_scores.ts";
import { UsageError } from "../errors.ts";
import type { OutputTensor } from "./worker_protocol.ts";

const events: Item[] = [
  { id: "a", value: 1 },
  { $edgepipe: "ack", ids: ["x"] },
  { id: "b", value: 2, score: "old" },
];

Deno.test("labels by class name (int64 indexes), probabilities by class, values by column", () => {
  const attach = compileAttacher([
    { name: "label", kind: "label", classes: ["no", "yes"], as: "label" },
    { name: "probabilities", kind: "probabilities", classes: ["no", "yes"] },
    { name: "y", kind: "value", as: "magnitude" },
  ], "score");
  const outputs: OutputTensor[] = [
    { name: "label", type: "int64", dims: [2], data: new BigInt64Array([1n, 7n]) },
    {
      name: "probabilities",
      type: "float32",
      dims: [2, 2],
      data: new Float32Array([0.25, 0.75, 0.5, 0.5]),
    },
    { name: "y", type: "float32", dims: [2, 3], data: new Float32Array([1, 9, 9, 2, 9, 9]) },
  ];
  const out: Item[] = [];
  attach(events, [0, -1, 1], 3, outputs, out);
  assert.deepEqual(out, [
    { id: "a", value: 1, score: { label: "yes", no: 0.25, yes: 0.75, magnitude: 1 } },
    events[1],
    { id: "b", value: 2, score: { label: 7, no: 0.5, yes: 0.5, magnitude: 2 } },
  ]);
  assert.equal(out[1], events[1], "control records pass as they are");
  assert.deepEqual(events[0], { id: "a", value: 1 }, "the input event is not changed");
  assert.deepEqual(Object.keys(out[2]), ["id", "value", "score"]);
});

Deno.test("a label without classes stays the index; a one-column value needs no second dim", () => {
  const attach = compileAttacher([
    { name: "l", kind: "label", as: "cls" },
    { name: "v", kind: "value", as: "v" },
  ], "out");
  const out: Item[] = [];
  attach([events[0]], [1], 1, [
    { name: "l", type: "int32", dims: [2], data: new Int32Array([4, 5]) },
    { name: "v", type: "float64", dims: [2], data: new Float64Array([0.5, 1.5]) },
  ], out);
  assert.deepEqual(out, [{ id: "a", value: 1, out: { cls: 5, v: 1.5 } }]);
});

Deno.test("field and class names are data, never code", () => {
  const hostile = 'x"}; throw new Error("injected"); //\u2028`${1}`';
  const attach = compileAttacher([
    { name: "p", kind: "probabilities", classes: [hostile, "__proto__"] },
  ], "__proto__");
  const out: Item[] = [];
  attach([events[0]], [0], 1, [
    { name: "p", type: "float32", dims: [1, 2], data: new Float32Array([0.25, 0.75]) },
  ], out);
  const scored = out[0] as Record<string, Record<string, number>>;
  assert.ok(Object.hasOwn(scored, "__proto__"), "an own field, not the prototype");
  assert.equal(Object.getPrototypeOf(scored), Object.prototype);
  assert.equal(scored["__proto__"][hostile], 0.25);
  assert.ok(Object.hasOwn(scored["__proto__"], "__proto__"));
  assert.equal(scored["__proto__"]["__proto__"], 0.75);
});

Deno.test("--as refuses the envelope's own fields, which the outputs would overwrite", () => {
  for (const name of ["value", "id", "key", "eventTime", "properties", "topic", "$edgepipe", ""]) {
    assert.throws(() => checkScoreField(name), UsageError, name);
  }
  checkScoreField("risk");
  checkScoreField("score");
});
