import assert from "node:assert/strict";
import fc from "fast-check";
import { decodeCheckpoint, encodeCheckpoint } from "../../checkpoint/format.ts";
import type { Envelope } from "../../envelope.ts";
import { parseAggregates } from "./aggregates.ts";
import type { WindowShape } from "./assign.ts";
import { eventTimeReader, keyReader } from "./event_fields.ts";
import { WindowOperator } from "./operator.ts";
import { PartitionWatermarks } from "./partition_watermarks.ts";
import { restoreWindows, snapshotWindows, WINDOW_KIND } from "./snapshot.ts";

const AGG = "count(), sum(value.x), avg(value.x), min(value.x), max(value.x), p90(value.x), " +
  "distinct(value.x), first(value.x), last(value.x), count(value.x), collect(value.x, 3)";

const make = (shape: WindowShape) =>
  new WindowOperator({
    shape,
    aggregates: parseAggregates(AGG),
    keyOf: keyReader("k"),
    timeOf: eventTimeReader(),
    outOfOrderness: 20,
    allowedLateness: 15,
    earlyEvery: 3,
  });

const shapes: WindowShape[] = [
  { kind: "tumbling", size: 25 },
  { kind: "sliding", size: 30, slide: 10 },
  { kind: "session", gap: 7 },
  { kind: "count", size: 4 },
];

Deno.test("property: snapshot, encode, decode, restore, go on = never stopped", () => {
  fc.assert(
    fc.property(
      fc.constantFrom(...shapes),
      fc.array(
        fc.record({
          k: fc.constantFrom("a", "b", "c", "d"),
          t: fc.integer({ min: 0, max: 300 }),
          x: fc.option(fc.double({ min: -1e6, max: 1e6, noNaN: true })),
        }),
        { maxLength: 60 },
      ),
      fc.nat(),
      (shape, raw, cut) => {
        const events: Envelope[] = raw.map((e) => ({ eventTime: e.t, value: { k: e.k, x: e.x } }));
        const at = events.length === 0 ? 0 : cut % (events.length + 1);
        const run = (op: WindowOperator, part: Envelope[]) => {
          for (const e of part) op.process(e);
          const out = op.out.map((item) => JSON.stringify(item));
          op.out = [];
          return out;
        };
        const whole = make(shape);
        const expected = run(whole, events);
        whole.flushAll();
        expected.push(...run(whole, []));

        const first = make(shape);
        const head = run(first, events.slice(0, at));
        const bytes = encodeCheckpoint(
          snapshotWindows(first, { inputCount: at, outputPosition: 0, pendingAcks: ["i"] }, "c"),
        );
        const second = make(shape);
        const progress = restoreWindows(second, decodeCheckpoint(bytes, WINDOW_KIND));
        assert.deepEqual(progress, { inputCount: at, outputPosition: 0, pendingAcks: ["i"] });
        const tail = run(second, events.slice(at));
        second.flushAll();
        assert.deepEqual([...head, ...tail, ...run(second, [])], expected);
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("per-partition watermarks survive a checkpoint: a lagging partition stays on time", () => {
  const fresh = () =>
    new WindowOperator({
      shape: { kind: "tumbling", size: 100 },
      aggregates: parseAggregates("count()"),
      keyOf: keyReader("k"),
      timeOf: eventTimeReader(),
      watermarks: new PartitionWatermarks({ outOfOrderness: 0, now: 0 }),
    });
  const e = (partition: number, t: number): Envelope => ({
    topic: "t",
    partition,
    eventTime: t,
    value: { k: "a" },
  });
  const op = fresh();
  op.process(e(1, 150));
  op.process(e(0, 250));
  const progress = { inputCount: 2, outputPosition: 0, pendingAcks: [] };
  const saved = decodeCheckpoint(
    encodeCheckpoint(snapshotWindows(op, progress, "c")),
    WINDOW_KIND,
  );
  const back = fresh();
  restoreWindows(back, saved);
  assert.equal(back.watermark, 150);
  // Partition 0 runs on; partition 1 (at 150) still holds the window [100, 200) open.
  back.process(e(0, 400));
  assert.equal(back.process(e(1, 160)), "absorbed");
  assert.equal(back.watermark, 160);
});
