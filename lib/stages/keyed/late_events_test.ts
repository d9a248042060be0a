/**
 * Late events in the pattern and process stages follow the late policy as in `window` and `join`:
 * an event older than the watermark (highest event time seen minus the out-of-orderness) when it
 * arrives takes part in nothing; with `late: emit` it is sent on marked `"late": true`; with the
 * default it is dropped, counted and acknowledged. Each expected output is worked out by hand.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { type Envelope, isControl, type Item } from "../../envelope.ts";
import { pattern } from "../pattern/pattern.ts";
import { processStage } from "../process/keyed_function.ts";
import type { LatePolicy } from "./stateful_options.ts";

/** "a10 b20 …": kind and event time, ids e0, e1, … */
function events(text: string): Envelope[] {
  return text.split(" ").map((token, n) => ({
    id: `e${n}`,
    eventTime: Number(token.slice(1)),
    value: { kind: token[0], n, key: "k" },
  }));
}

function split(out: Item[]): { results: unknown[]; acked: string[] } {
  return {
    results: out.filter((i) => !isControl(i)),
    acked: out.filter(isControl).flatMap((c) => (c as { ids?: string[] }).ids ?? []).sort(),
  };
}

function patternStage(late?: LatePolicy) {
  return pattern({
    pattern: "a b",
    define: { a: 'event.value.kind == "a"', b: 'event.value.kind == "b"' },
    key: "value.key",
    within: 100,
    outOfOrderness: 3,
    late,
    log: () => {},
  });
}

Deno.test("pattern: a late event starts no match; emitted marked late, or dropped and acked", async () => {
  // Watermark after b20: 17. a15 is late; b30 then finds no partial match (a10's completed).
  const input = "a10 b20 a15 b30";
  const emitted = split(
    await Array.fromAsync(patternStage({ kind: "emit" })(ReadableStream.from(events(input)))),
  );
  assert.equal(emitted.results.length, 2, JSON.stringify(emitted.results));
  // The late event goes on at once; the match waits for the watermark: order by kind, not time.
  const [late, match] = (emitted.results as Envelope[]).sort((x, y) =>
    Number(y.late === true) - Number(x.late === true)
  );
  const matched = (match.value as { events: Record<string, { n: number }[]> }).events;
  assert.deepEqual([matched.a.map((e) => e.n), matched.b.map((e) => e.n)], [[0], [1]]);
  assert.deepEqual(late, {
    id: "e2",
    eventTime: 15,
    value: { kind: "a", n: 2, key: "k" },
    late: true,
  });

  const dropped = split(await Array.fromAsync(patternStage()(ReadableStream.from(events(input)))));
  assert.equal(dropped.results.length, 1, "only the match");
  assert.deepEqual(dropped.acked, ["e0", "e1", "e2", "e3"]);
});

Deno.test("process: a late event is not given to onEvent; emitted marked late, or dropped and acked", async () => {
  const dir = await Deno.makeTempDir({ prefix: "edgepipe-late-" });
  const module = join(dir, "echo.ts");
  await Deno.writeTextFile(
    module,
    "export default { onEvent(e, ctx) { ctx.emit(e.value.n); } };\n",
  );
  const stage = (late?: LatePolicy) =>
    processStage({ module, key: "value.key", outOfOrderness: 3, late, log: () => {} });
  try {
    // Watermark after t20: 17; t15 is late, t18 is not.
    const input = "a10 a20 a15 a18";
    const emitted = split(
      await Array.fromAsync(stage({ kind: "emit" })(ReadableStream.from(events(input)))),
    );
    // The late event goes on at once, the results after the Worker's batch: compare as sets.
    const values = (emitted.results as Envelope[]).map((r) => r.late ? `late:${r.id}` : r.value);
    assert.deepEqual(values.map(String).sort(), ["0", "1", "3", "late:e2"]);
    const dropped = split(await Array.fromAsync(stage()(ReadableStream.from(events(input)))));
    assert.deepEqual((dropped.results as Envelope[]).map((r) => r.value), [0, 1, 3]);
    assert.deepEqual(dropped.acked, ["e0", "e1", "e2", "e3"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
