/**
 * The two keyed-function examples of `examples/functions/`, each run as its users would:
 * `quiet_hour.ts` through the library (`processStage` over an async iterable, imported from the
 * package's `./window` entry) against the pandas reports of test/fixtures/functions; and
 * `card_velocity.ts` through `edgepipe process`, against alerts counted from its definition
 * (more than five payments of a card within a minute of wall-clock time).
 */
import assert from "node:assert/strict";
import { isControl, type Item } from "../lib/api/core.ts";
import { processStage } from "../lib/api/window.ts";
// The types a user module is written against, from the package's root entry.
import type { KeyedContext, KeyedEvent, KeyedFunction, KeyTimers } from "../mod.ts";

const MAIN = new URL("../cli/main.ts", import.meta.url).pathname;
const EXAMPLES = new URL("../examples/functions/", import.meta.url);
const FLIGHTS = new URL("./fixtures/windows/flights_events.ndjson", import.meta.url);
const EXPECTED = new URL("./fixtures/functions/quiet_hour_expected.ndjson", import.meta.url);

Deno.test("library: processStage runs quiet_hour.ts over an async iterable; reports equal pandas", async () => {
  const events = (await Deno.readTextFile(FLIGHTS)).trim().split("\n").map((l) => JSON.parse(l))
    .sort((a, b) => a.eventTime - b.eventTime);
  async function* flights(): AsyncIterable<Item> {
    for (const e of events) yield e;
  }
  const stage = processStage({
    module: new URL("quiet_hour.ts", EXAMPLES).pathname,
    key: "value.origin",
  });
  const got: string[] = [];
  for await (const item of stage(flights())) {
    if (isControl(item)) continue;
    const r = item as { key: string; eventTime: number; value: Record<string, number> };
    got.push(JSON.stringify({ key: r.key, eventTime: r.eventTime, ...r.value }));
  }
  const expected = (await Deno.readTextFile(EXPECTED)).trim().split("\n")
    .map((l) => JSON.stringify(JSON.parse(l)));
  assert.equal(got.length, 386, "the pandas script's report count");
  assert.deepEqual(got.sort(), expected.sort());
});

Deno.test("card_velocity.ts: an alert from the sixth payment of a card within a minute", async () => {
  // c1 pays 9 times and c2 twice, all within a second of wall-clock time.
  const payments = [..."11121111211"].map((c, i) => ({
    eventTime: 1_000 + i,
    value: { card: `c${c}`, amount: i },
  }));
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      MAIN,
      "process",
      new URL("card_velocity.ts", EXAMPLES).pathname,
      "--key",
      "value.card",
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const input = payments.map((p) => JSON.stringify(p)).join("\n") + "\n";
  const [out] = await Promise.all([
    child.output(),
    ReadableStream.from([new TextEncoder().encode(input)]).pipeTo(child.stdin),
  ]);
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  const results = new TextDecoder().decode(out.stdout).trim().split("\n").filter((l) => l !== "")
    .map((l) => JSON.parse(l)).filter((r) => !("$edgepipe" in r));
  // From the definition: a card's n-th payment within the minute alerts when n > 5.
  const expected: string[] = [];
  const seen = new Map<string, number>();
  for (const p of payments) {
    const n = (seen.get(p.value.card) ?? 0) + 1;
    seen.set(p.value.card, n);
    if (n > 5) expected.push(JSON.stringify({ key: p.value.card, alert: "velocity", payments: n }));
  }
  assert.equal(expected.length, 4, "c1's 6th to 9th payments");
  assert.deepEqual(
    results.map((r) => JSON.stringify({ key: r.key, ...r.value })),
    expected,
  );
});

Deno.test("the keyed-function types a module is written with come from mod.ts", () => {
  // Compiles only if mod.ts exports the types with these members (deno test type-checks).
  const timersUsed: (keyof KeyTimers)[] = ["setEventTime", "setProcessingTime"];
  const fn: KeyedFunction<number> = {
    onEvent(event: KeyedEvent, ctx: KeyedContext<number>) {
      ctx.state = (ctx.state ?? 0) + (event.value as number);
      for (const name of timersUsed) ctx.timers[name](ctx.time + 1);
      ctx.emit(ctx.state);
    },
  };
  const set: string[] = [];
  const emitted: unknown[] = [];
  const ctx: KeyedContext<number> = {
    key: "k",
    time: 10,
    watermark: 0,
    state: 2,
    timers: {
      setEventTime: (t) => set.push(`event@${t}`),
      deleteEventTime: () => {},
      setProcessingTime: (t) => set.push(`proc@${t}`),
      deleteProcessingTime: () => {},
    },
    emit: (r) => emitted.push(r),
  };
  fn.onEvent({ value: 3 }, ctx);
  assert.equal(ctx.state, 5);
  assert.deepEqual(set, ["event@11", "proc@11"]);
  assert.deepEqual(emitted, [5]);
});
