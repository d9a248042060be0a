import assert from "node:assert/strict";
import fc from "fast-check";
import { Environment } from "@marcbachmann/cel-js";
import { fastPredicate, UNSURE } from "./fast_predicate.ts";

const env = new Environment({ homogeneousAggregateLiterals: false }).registerVariable(
  "event",
  "map",
);

const field = fc.constantFrom("event.value.a", "event.value.b", "event.value.s", "event.key");
const literal = fc.oneof(
  fc.integer({ min: -3, max: 3 }).map(String),
  fc.constantFrom("1.5", "-0.0", "2.0", '"x"', '"y"', "true", "false", "null"),
);
const operand = fc.oneof(field, literal);
const comparison = fc.tuple(operand, fc.constantFrom("==", "!=", "<", "<=", ">", ">="), operand)
  .map(([a, op, b]) => `${a} ${op} ${b}`);
const expression: fc.Arbitrary<string> = fc.letrec((tie) => ({
  expr: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    comparison,
    fc.tuple(tie("expr"), fc.constantFrom("&&", "||"), tie("expr")).map(([a, op, b]) =>
      `(${a}) ${op} (${b})`
    ),
    tie("expr").map((e) => `!(${e})`),
  ),
})).expr as fc.Arbitrary<string>;
const value = fc.oneof(
  fc.integer({ min: -3, max: 3 }),
  fc.constantFrom(1.5, -0, 2, "x", "y", true, false, null),
);
const event = fc.record({
  key: fc.option(fc.constantFrom("x", "y"), { nil: undefined }),
  value: fc.record({ a: value, b: value, s: value }, { requiredKeys: [] }),
}, { requiredKeys: ["value"] });

Deno.test("property: whenever the fast path decides, CEL decides the same", () => {
  let decided = 0;
  fc.assert(
    fc.property(expression, fc.array(event, { minLength: 1, maxLength: 8 }), (src, events) => {
      let program;
      try {
        program = env.parse(src);
        if (!program.check().valid) return;
      } catch {
        return;
      }
      const fast = fastPredicate(program.ast);
      assert.ok(fast, `subset expression not compiled: ${src}`);
      for (const e of events) {
        const got = fast(e);
        if (got === UNSURE) continue;
        decided++;
        assert.equal(got, program({ event: e }), `${src} on ${JSON.stringify(e)}`);
      }
    }),
    { numRuns: 500 },
  );
  assert.ok(decided > 200, `fast path decided only ${decided} cases`);
});

Deno.test("expressions outside the subset are left to CEL", () => {
  for (const src of ["has(event.value.a)", "event.value.a in [1.0]", "size(event.key) > 1"]) {
    assert.equal(fastPredicate(env.parse(src).ast), undefined, src);
  }
});
