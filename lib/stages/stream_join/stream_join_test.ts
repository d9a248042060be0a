/**
 * The join against a brute-force reference written from the definition: every pair of a left and
 * a right event with the same key whose times satisfy the rule, and (left-outer) every left event
 * in no pair. Inputs are random, in bounded disorder (no event later than the out-of-orderness),
 * so no event is late and the reference needs no watermark. A restart from a checkpoint taken at
 * a random point gives the output of an uninterrupted run.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { decodeCheckpoint, encodeCheckpoint } from "../../checkpoint/format.ts";
import { type Envelope, isControl, type Item } from "../../envelope.ts";
import { JoinOperator, type JoinRule } from "./join_operator.ts";
import { JOIN_KIND, restoreJoin, snapshotJoin, streamJoin } from "./stream_join.ts";

interface Ev {
  side: "l" | "r";
  k: string;
  t: number;
  n: number;
}

const DISORDER = 8;

/**
 * Events in bounded disorder: each one either moves the highest time on, or lies behind it by at
 * most DISORDER — often exactly DISORDER, at the watermark, where off-by-one mistakes show.
 */
const eventsArb = fc.array(
  fc.record({
    side: fc.constantFrom<"l" | "r">("l", "r"),
    k: fc.constantFrom("a", "b"),
    dt: fc.integer({ min: 0, max: 6 }),
    back: fc.oneof(fc.constant(DISORDER), fc.integer({ min: 0, max: DISORDER })),
    ahead: fc.boolean(),
  }),
  { maxLength: 120 },
).map((rows) => {
  let max = 1_000;
  return rows.map((r, n): Ev => {
    if (r.ahead) return { side: r.side, k: r.k, t: max += r.dt, n };
    return { side: r.side, k: r.k, t: max - r.back, n };
  });
});

const ruleArb: fc.Arbitrary<JoinRule> = fc.oneof(
  fc.record({
    kind: fc.constant("interval" as const),
    lower: fc.integer({ min: -10, max: 5 }),
    span: fc.integer({ min: 0, max: 12 }),
  }).map(({ kind, lower, span }) => ({ kind, lower, upper: lower + span })),
  fc.record({ kind: fc.constant("window" as const), size: fc.integer({ min: 1, max: 20 }) }),
  fc.record({
    kind: fc.constant("window" as const),
    slide: fc.integer({ min: 1, max: 8 }),
    extra: fc.integer({ min: 0, max: 16 }),
    offset: fc.integer({ min: 0, max: 7 }),
  }).map(({ kind, slide, extra, offset }) => ({ kind, slide, size: slide + extra, offset })),
);

/** How many results a left at `l` and a right at `r` give: 1 or 0, or one per shared window. */
function pairs(rule: JoinRule, l: number, r: number): number {
  if (rule.kind === "interval") return r >= l + rule.lower && r <= l + rule.upper ? 1 : 0;
  // Count the windows from the definition: every start s = offset + k * slide, s <= t < s + size.
  const slide = rule.slide ?? rule.size, offset = rule.offset ?? 0;
  let n = 0;
  for (let s = offset - 100 * slide; s <= Math.max(l, r); s += slide) {
    if (s <= l && l < s + rule.size && s <= r && r < s + rule.size) n++;
  }
  return n;
}

/** Sorted "left#right" names from the definition. */
function reference(events: Ev[], rule: JoinRule, outer: boolean): string[] {
  const names: string[] = [];
  for (const l of events.filter((e) => e.side === "l")) {
    const partners = events.filter((r) => r.side === "r" && r.k === l.k && pairs(rule, l.t, r.t));
    for (const r of partners) {
      for (let i = pairs(rule, l.t, r.t); i > 0; i--) names.push(`${l.n}#${r.n}`);
    }
    if (outer && partners.length === 0) names.push(`${l.n}#-`);
  }
  return names.sort();
}

function envelope(e: Ev): Envelope {
  return { id: `i${e.n}`, eventTime: e.t, value: { side: e.side, k: e.k, n: e.n } };
}

function newOperator(rule: JoinRule, outer: boolean, trackIds = false): JoinOperator {
  return new JoinOperator({
    rule,
    type: outer ? "left" : "inner",
    sideOf: (e) => (e.value as Ev).side === "l" ? "left" : "right",
    keyOf: (e) => (e.value as Ev).k,
    timeOf: (e) => e.eventTime!,
    outOfOrderness: DISORDER,
    trackIds,
  });
}

function names(items: Item[]): string[] {
  return items.filter((i) => !isControl(i)).map((i) => {
    const r = i as Envelope & { right: Ev | null };
    return `${(r.value as Ev).n}#${r.right === null ? "-" : r.right.n}`;
  });
}

function runAll(op: JoinOperator, events: Ev[]): Item[] {
  const out: Item[] = [];
  for (const e of events) {
    assert.equal(op.process(envelope(e)), "absorbed");
    out.push(...op.out.splice(0));
  }
  op.flushAll();
  return [...out, ...op.out.splice(0)];
}

Deno.test("join: every pair the definition gives, once; left-outer adds the unmatched", () => {
  fc.assert(
    fc.property(eventsArb, ruleArb, fc.boolean(), (events, rule, outer) => {
      const got = names(runAll(newOperator(rule, outer), events)).sort();
      assert.deepEqual(got, reference(events, rule, outer));
    }),
    { numRuns: 1000 },
  );
});

Deno.test("join: without checkpoints every input id is acknowledged once, after its last pair", () => {
  fc.assert(
    fc.property(eventsArb, ruleArb, fc.boolean(), (events, rule, outer) => {
      const items = runAll(newOperator(rule, outer, true), events);
      const acked = items.filter(isControl).flatMap((c) => (c as { ids: string[] }).ids);
      assert.deepEqual([...acked].sort(), events.map((e) => `i${e.n}`).sort());
      // An id is acknowledged only after every result that uses it.
      items.forEach((item, at) => {
        if (isControl(item)) return;
        const later = items.slice(at + 1).filter(isControl).flatMap((c) =>
          (c as { ids: string[] }).ids
        );
        const left = `i${((item as Envelope).value as Ev).n}`;
        assert.ok(later.includes(left), `${left} acknowledged before its result`);
      });
    }),
    { numRuns: 200 },
  );
});

Deno.test("join: a restart from a checkpoint anywhere gives the uninterrupted output, in order", () => {
  fc.assert(
    fc.property(eventsArb, ruleArb, fc.boolean(), fc.nat(), (events, rule, outer, cut) => {
      const whole = names(runAll(newOperator(rule, outer), events));
      const at = events.length === 0 ? 0 : cut % (events.length + 1);
      const first = newOperator(rule, outer);
      const out: Item[] = [];
      for (const e of events.slice(0, at)) {
        first.process(envelope(e));
        out.push(...first.out.splice(0));
      }
      const progress = { inputCount: at, outputPosition: 0, pendingAcks: [] };
      const bytes = encodeCheckpoint(snapshotJoin(first, progress, "c"));
      const second = newOperator(rule, outer);
      assert.equal(restoreJoin(second, decodeCheckpoint(bytes, JOIN_KIND)).inputCount, at);
      out.push(...runAll(second, events.slice(at)));
      assert.deepEqual(names(out), whole);
    }),
    { numRuns: 300 },
  );
});

Deno.test("join: a late event goes to the late policy, and state is let go of by the watermark", async () => {
  const stage = streamJoin({
    left: 'event.value.side == "l"',
    right: 'event.value.side == "r"',
    key: "value.k",
    rule: { kind: "interval", lower: 0, upper: 10 },
    type: "left",
    late: { kind: "emit" },
  });
  const input = [
    { eventTime: 100, value: { side: "l", k: "a" } },
    { eventTime: 200, value: { side: "r", k: "a" } },
    { eventTime: 105, value: { side: "r", k: "a" } },
  ];
  const out = await Array.fromAsync(stage(ReadableStream.from(input)));
  assert.deepEqual(out, [
    // The watermark passed 110 at the second event: the left one is let go of, unmatched.
    { key: "a", eventTime: 100, value: { side: "l", k: "a" }, right: null },
    { eventTime: 105, value: { side: "r", k: "a" }, late: true },
  ]);
});

Deno.test("join: an event of neither side follows --on-error", async () => {
  const stage = streamJoin({
    left: 'event.value.side == "l"',
    right: 'event.value.side == "r"',
    key: "value.k",
    rule: { kind: "interval", lower: 0, upper: 10 },
  });
  await assert.rejects(
    Array.fromAsync(stage(ReadableStream.from([{ eventTime: 1, value: { side: "x", k: "a" } }]))),
    /neither side of the join/,
  );
});
