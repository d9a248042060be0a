import assert from "node:assert/strict";
import fc from "fast-check";
import type { Envelope } from "../../envelope.ts";
import { parseAggregates } from "./aggregates.ts";
import { type WindowShape, windowStarts } from "./assign.ts";
import { eventTimeReader, keyReader } from "./event_fields.ts";
import { WindowOperator, type WindowResult } from "./operator.ts";

const make = (shape: WindowShape, outOfOrderness: number, allowedLateness = 0) =>
  new WindowOperator({
    shape,
    aggregates: parseAggregates("count(), sum(value.x)"),
    keyOf: keyReader("k"),
    timeOf: eventTimeReader(),
    outOfOrderness,
    allowedLateness,
  });

const eventArb = fc.record({
  k: fc.constantFrom("a", "b", "c"),
  t: fc.integer({ min: 0, max: 500 }),
  x: fc.integer({ min: -5, max: 5 }),
});
const toEnvelope = (e: { k: string; t: number; x: number }): Envelope => ({
  eventTime: e.t,
  value: { k: e.k, x: e.x },
});

const shapeArb: fc.Arbitrary<WindowShape> = fc.oneof(
  fc.integer({ min: 1, max: 60 }).map((size) => ({ kind: "tumbling", size }) as WindowShape),
  fc.tuple(fc.integer({ min: 1, max: 20 }), fc.integer({ min: 1, max: 4 })).map((
    [slide, k],
  ) => ({ kind: "sliding", size: slide * k, slide }) as WindowShape),
  fc.integer({ min: 1, max: 30 }).map((gap) => ({ kind: "session", gap }) as WindowShape),
);

function results(op: WindowOperator) {
  const out = op.out as unknown as WindowResult[];
  op.out = [];
  return out;
}

Deno.test("property: watermark invariants and nothing lost", () => {
  fc.assert(
    fc.property(
      shapeArb,
      fc.array(eventArb, { maxLength: 80 }),
      fc.integer({ min: 0, max: 100 }),
      fc.integer({ min: 0, max: 50 }),
      (shape, events, ooo, lateness) => {
        const op = make(shape, ooo, lateness);
        let maxTime = -Infinity;
        let absorbed = 0;
        const last = new Map<string, WindowResult>();
        const keep = (r: WindowResult) => {
          // A session that grew supersedes the results of the sessions it swallowed.
          for (const [id, old] of last) {
            if (
              shape.kind === "session" && old.key === r.key &&
              r.window.start <= old.window.start && old.window.end <= r.window.end
            ) last.delete(id);
          }
          last.set(`${r.key}/${r.window.start}`, r);
        };
        for (const e of events) {
          const before = op.watermark;
          const outcome = op.process(toEnvelope(e));
          if (shape.kind !== "session") {
            // Late exactly when every window of the event was cleaned up before it came.
            const size = (shape as { size: number }).size;
            const allGone = windowStarts(shape, e.t).every((s) => s + size + lateness <= before);
            assert.equal(outcome === "late", allGone);
          }
          if (outcome === "absorbed") {
            absorbed++;
            maxTime = Math.max(maxTime, e.t);
          }
          // The watermark never goes back and is the highest absorbed time minus the bound.
          assert.ok(op.watermark >= before);
          assert.equal(op.watermark, maxTime - ooo);
          for (const r of results(op)) {
            if (r.timing === "on_time") assert.ok(r.window.end <= op.watermark);
            keep(r);
          }
        }
        op.flushAll();
        for (const r of results(op)) keep(r);
        assert.equal(op.windowCount, 0);
        if (shape.kind === "tumbling" || shape.kind === "session") {
          // Every absorbed event is in exactly one final result.
          const total = [...last.values()].reduce((n, r) => n + (r.value.count as number), 0);
          assert.equal(total, absorbed);
        }
      },
    ),
    { numRuns: 400 },
  );
});

Deno.test("property: disorder within the bound changes nothing", () => {
  fc.assert(
    fc.property(
      shapeArb,
      fc.array(eventArb, { maxLength: 80 }),
      fc.integer({ min: 0, max: 40 }),
      fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 80, maxLength: 80 }),
      (shape, events, bound, jitter) => {
        const sorted = [...events].sort((a, b) => a.t - b.t);
        // Ordering by time plus a jitter in [0, bound] puts each event at most `bound` behind the
        // highest time before it: bounded disorder, as the fixture's shuffle does.
        const shuffled = events.map((e, i) => ({ e, at: e.t + jitter[i] * bound }))
          .sort((a, b) => a.at - b.at).map(({ e }) => e);
        let seen = -Infinity;
        for (const e of shuffled) {
          assert.ok(e.t >= seen - bound);
          seen = Math.max(seen, e.t);
        }
        const run = (input: typeof events) => {
          const op = make(shape, bound);
          const outcomes = input.map((e) => op.process(toEnvelope(e)));
          op.flushAll();
          const final = results(op).map((r) => JSON.stringify(r)).sort();
          return { outcomes, final };
        };
        const a = run(sorted);
        const b = run(shuffled);
        assert.ok(b.outcomes.every((o) => o === "absorbed"));
        assert.deepEqual(b.final, a.final);
      },
    ),
    { numRuns: 400 },
  );
});

Deno.test("property: session windows equal gap clustering of each key's sorted times", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 30 }),
      fc.array(eventArb, { maxLength: 80 }),
      (gap, events) => {
        const op = make({ kind: "session", gap }, 1e9);
        for (const e of events) assert.equal(op.process(toEnvelope(e)), "absorbed");
        op.flushAll();
        const got = results(op).map((r) =>
          `${r.key}:${r.window.start}-${r.window.end}:${r.value.count}`
        )
          .sort();
        const expected: string[] = [];
        for (const k of ["a", "b", "c"]) {
          const ts = events.filter((e) => e.k === k).map((e) => e.t).sort((a, b) => a - b);
          let i = 0;
          while (i < ts.length) {
            let j = i;
            while (j + 1 < ts.length && ts[j + 1] - ts[j] <= gap) j++;
            expected.push(`${k}:${ts[i]}-${ts[j] + gap}:${j - i + 1}`);
            i = j + 1;
          }
        }
        assert.deepEqual(got, expected.sort());
      },
    ),
    { numRuns: 400 },
  );
});

Deno.test("property: the generated tumbling path equals the general one (sliding, slide = size)", () => {
  const messy = fc.record({
    id: fc.option(fc.constantFrom("i1", "i2", "i3"), { nil: undefined }),
    k: fc.oneof(fc.constantFrom("a", "b"), fc.integer({ min: 0, max: 2 }), fc.constant(null)),
    t: fc.oneof(
      fc.integer({ min: 0, max: 300 }),
      fc.constant("1970-01-01T00:00:00.100Z"),
      fc.constant("soon"),
      fc.constant(undefined),
    ),
    x: fc.oneof(fc.double({ min: -5, max: 5, noNaN: true }), fc.constant(null), fc.constant("x")),
    top: fc.boolean(),
  });
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 60 }),
      fc.integer({ min: 0, max: 20 }),
      fc.array(messy, { maxLength: 60 }),
      fc.integer({ min: 0, max: 50 }),
      fc.integer({ min: 0, max: 30 }),
      fc.integer({ min: 0, max: 3 }),
      (size, offset, events, ooo, lateness, earlyEvery) => {
        const run = (shape: WindowShape) => {
          const op = new WindowOperator({
            shape,
            aggregates: parseAggregates("count(), sum(value.x), min(x), last(x), p50(value.x)"),
            keyOf: keyReader("k"),
            timeOf: eventTimeReader(),
            outOfOrderness: ooo,
            allowedLateness: lateness,
            earlyEvery,
            trackIds: true,
          });
          const seen: unknown[] = [];
          for (const e of events) {
            // Some events carry their fields at the top (found first), others under `value`.
            const event: Envelope = e.top
              ? { id: e.id, eventTime: e.t as number, k: e.k, x: e.x } as unknown as Envelope
              : { id: e.id, publishTime: e.t as number, value: { k: e.k, x: e.x } };
            try {
              seen.push(op.process(event));
            } catch (err) {
              seen.push((err as Error).message);
            }
            seen.push(op.out.splice(0), op.watermark, op.windowCount);
          }
          op.flushAll();
          seen.push(op.out);
          return JSON.stringify(seen);
        };
        assert.equal(
          run({ kind: "tumbling", size, offset }),
          run({ kind: "sliding", size, slide: size, offset }),
        );
      },
    ),
    { numRuns: 400 },
  );
});
