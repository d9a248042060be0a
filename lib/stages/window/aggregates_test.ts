import assert from "node:assert/strict";
import fc from "fast-check";
import { UsageError } from "../../errors.ts";
import {
  addValues,
  mergeSlots,
  newSlots,
  parseAggregates,
  quantile,
  readValues,
  results,
} from "./aggregates.ts";
import { compileAggregates } from "./compiled_aggregates.ts";

const ALL = "count(), count(value.x), sum(value.x), avg(value.x), min(value.x), max(value.x), " +
  "p95(value.x), distinct(value.y), first(value.y), last(value.y), sum(value.z) as z, " +
  "collect(value.x, 3), collect(value.y, 1) as y1";

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

/** The last `n` non-null values by time, ties in arrival order: a stable sort, then a slice. */
function lastN(events: { t: number; x: number | null }[], n: number): number[] {
  return events
    .map((e, i) => ({ ...e, i }))
    .filter((e) => e.x !== null)
    .sort((a, b) => a.t - b.t || a.i - b.i)
    .slice(-n)
    .map((e) => e.x as number);
}

Deno.test("property: collect keeps the last N values by event time, ties in arrival order", () => {
  const spec = parseAggregates("collect(value.x, 5)");
  assert.equal(spec.aggregates[0].name, "collect_value_x");
  const compiled = compileAggregates(spec);
  const event = fc.record({
    t: fc.integer({ min: 0, max: 20 }),
    x: fc.option(fc.integer({ min: -99, max: 99 })),
  });
  fc.assert(fc.property(fc.array(event, { maxLength: 40 }), fc.nat(40), (events, cut) => {
    const generic = newSlots(spec);
    const fast = newSlots(spec);
    const values: unknown[] = [];
    for (const e of events) {
      readValues(spec, { value: { x: e.x } }, values);
      addValues(spec, generic, values, e.t);
      compiled.read({ value: { x: e.x } }, values);
      compiled.add(fast, values, e.t);
    }
    const want = lastN(events, 5);
    assert.deepEqual(results(spec, generic, events.length).collect_value_x, want);
    assert.deepEqual(results(spec, fast, events.length).collect_value_x, want);
    // Two halves merged (session windows growing together) give the same list.
    const left = newSlots(spec);
    const right = newSlots(spec);
    events.forEach((e, i) => {
      readValues(spec, { value: { x: e.x } }, values);
      addValues(spec, i < cut ? left : right, values, e.t);
    });
    mergeSlots(spec, left, right);
    assert.deepEqual(results(spec, left, events.length).collect_value_x, want);
  }));
});

Deno.test("collect needs a field and a count within bounds", () => {
  for (const bad of ["collect(value.x)", "collect(value.x, 0)", "collect(value.x, 1e3)"]) {
    assert.throws(() => parseAggregates(bad), /collect needs a field and a count/, bad);
  }
  assert.throws(() => parseAggregates("collect(value.x, 70000)"), /from 1 to 65536/);
  assert.equal(parseAggregates("collect(value.x, 64) as xs").aggregates[0].limit, 64);
});
