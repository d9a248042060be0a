import assert from "node:assert/strict";
import fc from "fast-check";
import { UsageError } from "../../errors.ts";
import {
  addValues,
  newSlots,
  parseAggregates,
  quantile,
  readValues,
  results,
} from "./aggregates.ts";
import { compileAggregates } from "./compiled_aggregates.ts";

const ALL = "count(), count(value.x), sum(value.x), avg(value.x), min(value.x), max(value.x), " +
  "p95(value.x), distinct(value.y), first(value.y), last(value.y), sum(value.z) as z";

Deno.test("property: compiled reading and adding equal the generic loops", () => {
  const spec = parseAggregates(ALL);
  const compiled = compileAggregates(spec);
  fc.assert(fc.property(
    fc.array(
      fc.record({
        t: fc.integer({ min: 0, max: 100 }),
        x: fc.option(fc.double({ noNaN: true, noDefaultInfinity: true })),
        y: fc.option(fc.oneof(fc.string(), fc.integer(), fc.constant({ a: 1 }))),
        z: fc.oneof(fc.integer(), fc.constant("bad"), fc.constant(undefined)),
      }),
      { maxLength: 30 },
    ),
    (events) => {
      const a = newSlots(spec);
      const b = newSlots(spec);
      const va: unknown[] = [];
      const vb: unknown[] = [];
      for (const e of events) {
        const event = { value: { x: e.x, y: e.y, z: e.z } };
        let ea: unknown, eb: unknown;
        try {
          readValues(spec, event, va);
        } catch (err) {
          ea = (err as Error).message;
        }
        try {
          compiled.read(event, vb);
        } catch (err) {
          eb = (err as Error).message;
        }
        assert.equal(eb, ea);
        if (ea !== undefined) continue;
        assert.deepEqual(vb, va);
        addValues(spec, a, va, e.t);
        compiled.add(b, vb, e.t);
      }
      assert.deepEqual(results(spec, b, events.length), results(spec, a, events.length));
    },
  ));
});

Deno.test("aggregate lists: names, aliases, quantiles and mistakes", () => {
  const spec = parseAggregates(
    "count(), avg(value.delay), p99.9(value.delay), max(size(event.key))",
  );
  assert.deepEqual(spec.aggregates.map((a) => a.name), [
    "count",
    "avg_value_delay",
    "p99_9_value_delay",
    "max_size_event_key",
  ]);
  assert.equal(spec.aggregates[2].q, 0.999);
  for (
    const bad of ["", "median(x)", "sum()", "avg(x) as a, max(x) as a", "p100(x)", "avg(x"]
  ) assert.throws(() => parseAggregates(bad), UsageError, bad);
  assert.throws(() => parseAggregates("sum(event.value >)"), /column/);
});

Deno.test("quantiles interpolate linearly from the nearer rank, as numpy does", () => {
  assert.equal(quantile([], 0.5), null);
  assert.equal(quantile([7], 0.95), 7);
  assert.equal(quantile([1, 2, 3, 4], 0.5), 2.5);
  // numpy.quantile([-11, 6], 0.95) == 5.1499999999999995 (pandas' groupby gives ...999)
  assert.equal(quantile([6, -11], 0.95), 5.1499999999999995);
});
