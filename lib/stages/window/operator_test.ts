import assert from "node:assert/strict";
import type { Envelope, Item } from "../../envelope.ts";
import { parseAggregates } from "./aggregates.ts";
import type { WindowShape } from "./assign.ts";
import { eventTimeReader, keyReader } from "./event_fields.ts";
import { WindowOperator, type WindowOperatorOptions, type WindowResult } from "./operator.ts";

function operator(
  shape: WindowShape,
  extra: Partial<WindowOperatorOptions> = {},
  agg = "count(), sum(value.x)",
) {
  return new WindowOperator({
    shape,
    aggregates: parseAggregates(agg),
    keyOf: keyReader("k"),
    timeOf: eventTimeReader(),
    ...extra,
  });
}

const ev = (k: string, t: number, x = 1, id?: string): Envelope => ({
  ...(id ? { id } : {}),
  eventTime: t,
  value: { k, x },
});

function feed(op: WindowOperator, events: Envelope[], flush = true) {
  const outcomes = events.map((e) => op.process(e));
  if (flush) op.flushAll();
  const out = op.out;
  op.out = [];
  return { outcomes, out };
}

const brief = (items: Item[]) =>
  items.map((i) => {
    if ("$edgepipe" in i) return `ack:${(i as { ids: string[] }).ids.join("+")}`;
    const r = i as unknown as WindowResult;
    return `${r.key}@${r.window.start}-${r.window.end}:${r.value.count}/${r.value.sum_value_x}:${r.timing}`;
  });

Deno.test("tumbling windows fire when the watermark passes their end, sorted by end, start, key", () => {
  const op = operator({ kind: "tumbling", size: 10 });
  const { out } = feed(
    op,
    [ev("b", 1), ev("a", 2), ev("a", 9, 5), ev("b", 12), ev("a", 30)],
    false,
  );
  assert.deepEqual(brief(out), ["a@0-10:2/6:on_time", "b@0-10:1/1:on_time", "b@10-20:1/1:on_time"]);
  assert.equal(op.watermark, 30);
  op.flushAll();
  assert.deepEqual(brief(op.out), ["a@30-40:1/1:on_time"]);
});

Deno.test("result envelopes have key, window, value, eventTime = end - 1 and timing", () => {
  const op = operator({ kind: "tumbling", size: 10 }, {}, "count(), avg(value.x) as mean");
  feed(op, [ev("a", 3, 4), ev("a", 5, 6)], false);
  op.flushAll();
  assert.deepEqual(op.out, [{
    key: "a",
    window: { start: 0, end: 10 },
    value: { count: 2, mean: 5 },
    eventTime: 9,
    timing: "on_time",
  }]);
});

Deno.test("out-of-orderness holds windows open; later events are late and change nothing", () => {
  const op = operator({ kind: "tumbling", size: 10 }, { outOfOrderness: 5 });
  const { outcomes, out } = feed(op, [
    ev("a", 1),
    ev("a", 13),
    ev("a", 8),
    ev("a", 15),
    ev("a", 9),
  ]);
  assert.deepEqual(outcomes, ["absorbed", "absorbed", "absorbed", "absorbed", "late"]);
  assert.deepEqual(brief(out), ["a@0-10:2/2:on_time", "a@10-20:2/2:on_time"]);
});

Deno.test("allowed lateness re-emits an updated result, then cleans up", () => {
  const op = operator({ kind: "tumbling", size: 10 }, { allowedLateness: 10, trackIds: true });
  const { outcomes, out } = feed(op, [
    ev("a", 1, 1, "i1"),
    ev("a", 10, 1, "i2"),
    ev("a", 2, 1, "i3"),
    ev("a", 25, 1, "i4"),
    ev("a", 3, 1, "i5"),
  ]);
  assert.deepEqual(outcomes, ["absorbed", "absorbed", "absorbed", "absorbed", "late"]);
  assert.deepEqual(brief(out), [
    "a@0-10:1/1:on_time",
    "a@0-10:2/2:late",
    "a@10-20:1/1:on_time",
    "ack:i1+i3",
    "a@20-30:1/1:on_time",
    "ack:i2+i4",
  ]);
});

Deno.test("sliding windows count an event in every window that holds it", () => {
  const op = operator({ kind: "sliding", size: 10, slide: 5 });
  const { out } = feed(op, [ev("a", 7), ev("a", 12)]);
  assert.deepEqual(brief(out), ["a@0-10:1/1:on_time", "a@5-15:2/2:on_time", "a@10-20:1/1:on_time"]);
});

Deno.test("session windows merge when a gap closes, in any arrival order", () => {
  const op = operator({ kind: "session", gap: 5 }, { outOfOrderness: 100 });
  const { out } = feed(op, [ev("a", 0), ev("a", 10), ev("a", 5), ev("a", 30), ev("b", 1)]);
  assert.deepEqual(brief(out), ["b@1-6:1/1:on_time", "a@0-15:3/3:on_time", "a@30-35:1/1:on_time"]);
});

Deno.test("count windows close after N events per key; partial ones at end of input", () => {
  const op = operator({ kind: "count", size: 2 }, { trackIds: true });
  const { out } = feed(op, [ev("a", 5, 1, "x"), ev("b", 1), ev("a", 3, 2, "y"), ev("a", 9)]);
  assert.deepEqual(brief(out), [
    "a@3-6:2/3:on_time",
    "ack:x+y",
    "b@1-2:1/1:on_time",
    "a@9-10:1/1:on_time",
  ]);
});

Deno.test("idle count windows are flushed after the key TTL", () => {
  const op = operator({ kind: "count", size: 100 }, { idleKeyTtl: 10 });
  feed(op, [ev("a", 0), ev("b", 50)], false);
  op.expireIdle();
  assert.deepEqual(brief(op.out), ["a@0-1:1/1:on_time"]);
  assert.equal(op.byKey.size, 1);
});

Deno.test("early results every N events, then the final one", () => {
  const op = operator({ kind: "tumbling", size: 100 }, { earlyEvery: 2 });
  const { out } = feed(op, [ev("a", 1), ev("a", 2), ev("a", 3)]);
  assert.deepEqual(brief(out), ["a@0-100:2/2:early", "a@0-100:3/3:on_time"]);
});

Deno.test("aggregations: min, max, pNN, distinct, first and last by event time; nulls ignored", () => {
  const op = operator(
    { kind: "tumbling", size: 100 },
    {},
    "count(), count(value.x), min(value.x), max(value.x), p50(value.x), p95(value.x), " +
      "distinct(value.x), first(value.x), last(value.x), sum(value.y)",
  );
  const xs = [4, 1, null, 9, 1, 7];
  feed(op, xs.map((x, i) => ({ eventTime: 50 - i, value: { k: "a", x } })), false);
  op.flushAll();
  const value = (op.out[0] as unknown as WindowResult).value;
  const present = [4, 1, 9, 1, 7].sort((a, b) => a - b);
  const h = (present.length - 1) * 0.95;
  assert.deepEqual(value, {
    count: 6,
    count_value_x: 5,
    min_value_x: 1,
    max_value_x: 9,
    p50_value_x: 4,
    p95_value_x: present[Math.floor(h)] +
      (h % 1) * (present[Math.ceil(h)] - present[Math.floor(h)]),
    distinct_value_x: 4,
    first_value_x: 7, // earliest event time is the last one sent (t = 45)
    last_value_x: 4, // latest event time is t = 50
    sum_value_y: null,
  });
});

Deno.test("an event with a bad value changes nothing", () => {
  const op = operator({ kind: "tumbling", size: 10 });
  assert.throws(() => op.process({ eventTime: 1, value: { k: "a", x: "NaN" } }), /not a number/);
  assert.throws(() => op.process({ eventTime: 1, value: { x: 1 } }), /no key field 'k'/);
  assert.throws(() => op.process({ value: { k: "a", x: 1 } }), /neither eventTime nor publishTime/);
  assert.throws(
    () => op.process({ eventTime: "yesterday" as unknown as number, value: { k: "a" } }),
    /cannot read eventTime "yesterday"/,
  );
  assert.equal(op.windowCount, 0);
  assert.equal(op.watermark, -Infinity);
});

Deno.test("a window first seen behind the watermark, within lateness, is emitted at once", () => {
  const op = operator({ kind: "tumbling", size: 10 }, { allowedLateness: 10 });
  const { outcomes, out } = feed(op, [ev("a", 25), ev("a", 15), ev("a", 5)], false);
  assert.deepEqual(outcomes, ["absorbed", "absorbed", "late"]);
  assert.deepEqual(brief(out), ["a@10-20:1/1:late"]);
});
