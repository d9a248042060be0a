import assert from "node:assert/strict";
import { compileExpression, EvaluationError, ExpressionError, toJson } from "./cel.ts";

Deno.test("compiled expressions read the envelope as event", () => {
  const expr = compileExpression('event.value.delay > 15 && event.key == "SFO"');
  assert.equal(expr.type, "bool");
  assert.equal(expr.evaluate({ key: "SFO", value: { delay: 16 } }), true);
  assert.equal(expr.evaluate({ key: "SFO", value: { delay: 15 } }), false);
  assert.equal(expr.evaluate({ key: "LAX", value: { delay: 99 } }), false);
});

Deno.test("invalid CEL points at the column", () => {
  assert.throws(() => compileExpression("event.value.delay > > 3"), (err: unknown) => {
    assert.ok(err instanceof ExpressionError);
    assert.equal(err.column, 21);
    assert.match(err.message, /column 21/);
    assert.doesNotMatch(err.message, /\n/);
    return true;
  });
  assert.throws(() => compileExpression("nope > 1"), /column 1 of 'nope > 1'/);
  assert.throws(() => compileExpression("  "), /invalid expression/);
});

Deno.test("an expression failing on one event says where, in one line", () => {
  const expr = compileExpression("event.value.delay * 2.0");
  assert.throws(() => expr.evaluate({ value: {} }), (err: unknown) => {
    assert.ok(err instanceof EvaluationError);
    assert.match(err.message, /column 13/);
    assert.match((err.cause as Error).message, /delay/);
    assert.doesNotMatch((err.cause as Error).message, /\n/);
    return true;
  });
});

Deno.test("results become plain JSON: ints as numbers, maps as objects", () => {
  const expr = compileExpression('{"n": size(event.value.list), "m": {"a": 1}, "l": [1, 2.5]}');
  assert.deepEqual(expr.evaluate({ value: { list: [1, 2, 3] } }), {
    n: 3,
    m: { a: 1 },
    l: [1, 2.5],
  });
  assert.equal(toJson(2n ** 70n), (2n ** 70n).toString());
  assert.deepEqual(toJson(new Map([["k", 1n]])), { k: 1 });
});
