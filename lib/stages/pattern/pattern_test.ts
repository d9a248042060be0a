/**
 * The pattern stage's rules on small hand-made streams, each expected result worked out by hand
 * from the rules in docs/patterns.md; and restarts from a checkpoint taken at every point of a
 * random stream give the uninterrupted output.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { decodeCheckpoint, encodeCheckpoint } from "../../checkpoint/format.ts";
import { type Envelope, isControl, type Item } from "../../envelope.ts";
import { parsePattern } from "./pattern_language.ts";
import { pattern, PATTERN_KIND, restorePattern, snapshotPattern } from "./pattern.ts";
import { PatternOperator } from "./pattern_operator.ts";

/** Events "a1 b2 …": a letter (the kind) and a time; key "k" unless given as "x:a1". */
function events(text: string): Envelope[] {
  return text.split(" ").map((token, n) => {
    const [key, rest] = token.includes(":") ? token.split(":") : ["k", token];
    return { id: `e${n}`, eventTime: Number(rest.slice(1)), value: { kind: rest[0], n, key } };
  });
}

const DEFINE = {
  a: 'event.value.kind == "a"',
  b: 'event.value.kind == "b"',
  c: 'event.value.kind == "c"',
};

async function matches(
  text: string,
  input: string,
  extra: { within?: number; contiguity?: "strict"; skip?: "past-last"; outOfOrderness?: number } =
    {},
): Promise<string[]> {
  const names = parsePattern(text).names;
  const stage = pattern({
    pattern: text,
    define: Object.fromEntries(names.map((n) => [n, DEFINE[n as keyof typeof DEFINE]])),
    key: "value.key",
    within: extra.within ?? 1000,
    contiguity: extra.contiguity,
    skip: extra.skip,
    outOfOrderness: extra.outOfOrderness,
  });
  const out = await Array.fromAsync(stage(ReadableStream.from(events(input))));
  return out.filter((i) => !isControl(i)).map((m) => {
    const byName = (m as Envelope).value as { events: Record<string, { n: number }[]> };
    return Object.entries(byName.events).map(([name, evs]) =>
      `${name}:${evs.map((e) => e.n).join(",")}`
    ).join(" ");
  });
}

Deno.test("pattern: relaxed contiguity skips other events; every first-step event starts a match", async () => {
  // a0 c1 a2 b3: both a's are followed (relaxed) by b3.
  assert.deepEqual(await matches("a b", "a0 c1 a2 b3"), ["a:0 b:3", "a:2 b:3"]);
});

Deno.test("pattern: strict contiguity ends a match at any other event", async () => {
  assert.deepEqual(await matches("a b", "a0 c1 a2 b3", { contiguity: "strict" }), ["a:2 b:3"]);
});

Deno.test("pattern: a negation between two steps kills the match that sees it", async () => {
  assert.deepEqual(await matches("a !c b", "a0 c1 a2 b3"), ["a:2 b:3"]);
  assert.deepEqual(await matches("a !c b", "a0 a1 b2 c3 b4"), ["a:0 b:2", "a:1 b:2"]);
});

Deno.test("pattern: quantifiers are greedy; the last step completes at its minimum", async () => {
  // a{2,} b: the a's are taken as long as they come; b completes.
  assert.deepEqual(await matches("a{2,} b", "a0 a1 a2 b3"), ["a:0,1,2 b:3", "a:1,2 b:3"]);
  // a b{2}: completes at the second b.
  assert.deepEqual(await matches("a b{2}", "a0 b1 b2 b3"), ["a:0 b:1,2"]);
  // a+ b over a single a.
  assert.deepEqual(await matches("a+ b", "a0 b1"), ["a:0 b:1"]);
});

Deno.test("pattern: an optional step may be passed over", async () => {
  assert.deepEqual(await matches("a c? b", "a0 b1"), ["a:0 b:1"]);
  assert.deepEqual(await matches("a c? b", "a0 c1 b2"), ["a:0 c:1 b:2"]);
});

Deno.test("pattern: a negation at the end: complete once within has passed without it", async () => {
  // c5 comes within 10 of a0: no match.
  assert.deepEqual(await matches("a b !c", "a0 b2 c5", { within: 10 }), []);
  // c12 comes after the 10 are over: the match is complete (c12 itself changes nothing).
  assert.deepEqual(await matches("a b !c", "a0 b2 c12", { within: 10 }), ["a:0 b:1"]);
  // Nothing more for the key; another key's event moves the watermark past 0 + 10.
  assert.deepEqual(await matches("a b !c", "a0 b2 x:a20 x:c21", { within: 10 }), ["a:0 b:1"]);
  // The end of the input: the time is over.
  assert.deepEqual(await matches("a b !c", "a0 b2", { within: 10 }), ["a:0 b:1"]);
  // An event at exactly the end of within still counts against it.
  assert.deepEqual(await matches("a b !c", "a0 b2 c10", { within: 10 }), []);
});

Deno.test("pattern: within is from the first event to the last, both ends allowed", async () => {
  assert.deepEqual(await matches("a b", "a0 b10", { within: 10 }), ["a:0 b:1"]);
  assert.deepEqual(await matches("a b", "a0 b11", { within: 10 }), []);
});

Deno.test("pattern: skip past-last drops the matches that started inside a match", async () => {
  assert.deepEqual(await matches("a b", "a0 a1 b2 b3", { skip: "past-last" }), ["a:0 b:2"]);
  assert.deepEqual(await matches("a b", "a0 a1 b2 b3"), ["a:0 b:2", "a:1 b:2"]);
});

Deno.test("pattern: events are matched in event-time order, keys apart", async () => {
  // b1 arrives before a0 but is later in event time; the other key's events do not interfere.
  assert.deepEqual(
    await matches("a b", "a5 x:a6 b7 x:c8 a3 x:b9", { outOfOrderness: 5 }),
    ["a:4 b:2", "a:0 b:2", "a:1 b:5"],
  );
});

Deno.test("pattern: without checkpoints every id is acknowledged once, after the matches using it", async () => {
  const stage = pattern({
    pattern: "a b",
    define: { a: DEFINE.a, b: DEFINE.b },
    key: "value.key",
    within: 100,
  });
  const out = await Array.fromAsync(stage(ReadableStream.from(events("a0 c1 a2 b3 c4"))));
  const acked = out.filter(isControl).flatMap((c) => (c as { ids: string[] }).ids);
  assert.deepEqual([...acked].sort(), ["e0", "e1", "e2", "e3", "e4"]);
  const firstMatch = out.findIndex((i) => !isControl(i));
  const ackOf = (id: string) =>
    out.findIndex((i) => isControl(i) && (i as { ids: string[] }).ids.includes(id));
  assert.ok(ackOf("e0") > firstMatch && ackOf("e3") > firstMatch);
});

const streamArb = fc.array(
  fc.record({
    kind: fc.constantFrom("a", "b", "c"),
    key: fc.constantFrom("k", "j"),
    dt: fc.integer({ min: 0, max: 5 }),
    back: fc.integer({ min: 0, max: 9 }), // beyond the out-of-orderness: some are late
  }),
  { maxLength: 80 },
).map((rows) => {
  let max = 0;
  return rows.map((r, n): Envelope => {
    max += r.dt;
    return { eventTime: Math.max(0, max - r.back), value: { kind: r.kind, key: r.key, n } };
  });
});

function newOperator(text: string, skip: "none" | "past-last") {
  return new PatternOperator({
    pattern: parsePattern(text),
    conditions: new Map(
      ["a", "b", "c"].map((n) => [n, (e: Envelope) => (e.value as { kind: string }).kind === n]),
    ),
    keyOf: (e) => (e.value as { key: string }).key,
    timeOf: (e) => e.eventTime!,
    within: 12,
    outOfOrderness: 6,
    skip,
  });
}

function feed(op: PatternOperator, input: Envelope[], end: boolean): Item[] {
  const out: Item[] = [];
  for (const e of input) {
    op.process(e);
    out.push(...op.out.splice(0));
  }
  if (end) op.flushAll();
  return [...out, ...op.out.splice(0)];
}

Deno.test("pattern: a restart from a checkpoint anywhere gives the uninterrupted output", () => {
  fc.assert(
    fc.property(
      streamArb,
      fc.constantFrom("a b", "a{2,} !c b", "a c? b{2}", "a+ b c", "a b !c"),
      fc.constantFrom<"none" | "past-last">("none", "past-last"),
      fc.nat(),
      (input, text, skip, cut) => {
        if (text.endsWith("!c") && skip === "past-last") return;
        const whole = JSON.stringify(feed(newOperator(text, skip), input, true));
        const at = cut % (input.length + 1);
        const first = newOperator(text, skip);
        const out = feed(first, input.slice(0, at), false);
        const progress = { inputCount: at, outputPosition: 0, pendingAcks: [] };
        const bytes = encodeCheckpoint(snapshotPattern(first, progress, "c"));
        const second = newOperator(text, skip);
        restorePattern(second, decodeCheckpoint(bytes, PATTERN_KIND));
        out.push(...feed(second, input.slice(at), true));
        assert.equal(JSON.stringify(out), whole);
      },
    ),
    { numRuns: 400 },
  );
});
