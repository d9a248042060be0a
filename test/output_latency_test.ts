/**
 * Output delay is bounded in every stage that buffers output: fed a steady stream that is never
 * quiet long enough to count as idle (one line every 50 ms), a stage passes results on while its
 * input is still open, not only when the input ends or 64 KiB have built up.
 *
 * No clock is asserted on: the feed goes on until the expected output shows up (or a cap of
 * lines, far below 64 KiB, is reached), and the test checks that the output came before the end.
 */
import assert from "node:assert/strict";
import { join } from "node:path";

const root = new URL("../", import.meta.url).pathname;
const MAIN = join(root, "cli/main.ts");
/** Lines fed at most: about 15 s at 50 ms apart, some 20 KiB in all. */
const MAX_LINES = 300;
const PERIOD_MS = 50;

interface Steady {
  /** Whether an output line matching `wanted` was read while the input was still open. */
  beforeEnd: boolean;
  /** Lines fed before the stage answered (or all of them). */
  fed: number;
  /** All output, read to the end after the input was closed. */
  lines: unknown[];
  code: number;
  stderr: string;
}

/** Runs `edgepipe <args>`, feeding `line(i)` every 50 ms until `wanted` output appears. */
async function steady(
  args: string[],
  line: (i: number) => unknown,
  wanted: (item: Record<string, unknown>) => boolean,
): Promise<Steady> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args],
    cwd: root,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const lines: Record<string, unknown>[] = [];
  let seen = false;
  const reading = (async () => {
    let rest = "";
    const decoder = new TextDecoder();
    for await (const chunk of child.stdout) {
      rest += decoder.decode(chunk, { stream: true });
      const parts = rest.split("\n");
      rest = parts.pop()!;
      for (const part of parts) {
        const item = JSON.parse(part);
        lines.push(item);
        if (wanted(item)) seen = true;
      }
    }
  })();
  const stderr = new Response(child.stderr).text();
  const writer = child.stdin.getWriter();
  const encoder = new TextEncoder();
  let fed = 0;
  while (!seen && fed < MAX_LINES) {
    // A stage that stopped reading has failed: its exit code and stderr say why.
    const wrote = await writer.write(encoder.encode(JSON.stringify(line(fed)) + "\n"))
      .then(() => true, () => false);
    if (!wrote) break;
    fed++;
    await new Promise((resolve) => setTimeout(resolve, PERIOD_MS));
  }
  const beforeEnd = seen;
  await writer.close().catch(() => {});
  await reading;
  const { code } = await child.status;
  return { beforeEnd, fed, lines, code, stderr: await stderr };
}

const event = (i: number) => ({ id: `e${i}`, eventTime: i * 100, value: { n: i, k: "a" } });
const isEvent = (item: Record<string, unknown>) => item.$edgepipe === undefined;

function assertAnswered(run: Steady, what: string): void {
  assert.equal(run.code, 0, run.stderr);
  assert.ok(
    run.beforeEnd,
    `${what}: no output while the input was open (${run.fed} lines fed, ${run.lines.length} out)`,
  );
  assert.ok(run.fed < MAX_LINES);
}

Deno.test("map passes results on while a steady input is still open", async () => {
  const run = await steady(["map", "event.value.n * 2.0"], event, isEvent);
  assertAnswered(run, "map");
  const values = run.lines.filter((l) => isEvent(l as Record<string, unknown>));
  assert.deepEqual(values.map((l) => (l as { value: number }).value).slice(0, 3), [0, 2, 4]);
  assert.equal(values.length, run.fed);
});

Deno.test("filter (its line loop) passes kept lines on while a steady input is still open", async () => {
  const run = await steady(["filter", "event.value.n >= 1.0"], event, isEvent);
  assertAnswered(run, "filter");
  const kept = run.lines.filter((l) => isEvent(l as Record<string, unknown>));
  assert.deepEqual(kept.map((l) => (l as { id: string }).id).slice(0, 2), ["e1", "e2"]);
  assert.equal(kept.length, run.fed - 1);
  assert.deepEqual(run.lines.filter((l) => !isEvent(l as Record<string, unknown>)), [
    { $edgepipe: "ack", ids: ["e0"] },
  ]);
});

Deno.test("filter (with a join, the stage path) passes events on while the input is open", async () => {
  const dir = await Deno.makeTempDir();
  const reference = join(dir, "ref.ndjson");
  await Deno.writeTextFile(reference, '{"k":"a","city":"Oslo"}\n');
  try {
    const run = await steady(
      ["filter", "--join", reference, "--on", "value.k", 'event.ref.city == "Oslo"'],
      event,
      isEvent,
    );
    assertAnswered(run, "filter --join");
    assert.equal(run.lines.filter((l) => isEvent(l as Record<string, unknown>)).length, run.fed);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("score passes scored events on while a steady input is still open", async () => {
  const fixture = (await Deno.readTextFile(join(root, "models/flight-delay/fixture.ndjson")))
    .trim().split("\n").map((l) => JSON.parse(l).event);
  const run = await steady(
    ["score", "--model", "models/flight-delay"],
    (i) => fixture[i % fixture.length],
    (item) => item.score !== undefined,
  );
  assertAnswered(run, "score");
  assert.equal(run.lines.filter((l) => (l as { score?: unknown }).score).length, run.fed);
});

Deno.test("window passes results of closed windows on while a steady input is still open", async () => {
  // Events 100 ms apart in event time: each 1 s window closes when the first event of the next
  // one arrives, so results are due long before the input ends.
  const run = await steady(
    ["window", "--key", "k", "--tumbling", "1s", "--agg", "count()"],
    event,
    (item) => item.window !== undefined,
  );
  assertAnswered(run, "window");
  const first = run.lines.find((l) => (l as { window?: unknown }).window) as {
    value: { count: number };
  };
  assert.deepEqual(first.value, { count: 10 });
});

const isAck = (item: Record<string, unknown>) => item.$edgepipe === "ack";

Deno.test("filter acknowledges dropped events while a steady input is still open", async () => {
  const dir = await Deno.makeTempDir();
  const reference = join(dir, "ref.ndjson");
  await Deno.writeTextFile(reference, '{"k":"a","city":"Oslo"}\n');
  try {
    for (
      const [what, args] of [
        ["filter (line loop)", ["filter", "event.value.n < 0.0"]],
        ["filter --join", [
          "filter",
          "--join",
          reference,
          "--on",
          "value.k",
          "event.value.n < 0.0",
        ]],
      ] as const
    ) {
      // Every event is dropped: only ack records come out, and they must not wait for 1,000 ids.
      const run = await steady([...args], event, isAck);
      assertAnswered(run, what);
      const ids = run.lines.flatMap((l) => (l as { ids: string[] }).ids);
      assert.deepEqual(ids, Array.from({ length: run.fed }, (_, i) => `e${i}`));
      assert.ok(run.lines.every((l) => isAck(l as Record<string, unknown>)));
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("replay from stdin passes events on while a steady input is still open", async () => {
  const run = await steady(["replay", "-", "--no-progress"], (i) => ({ n: i }), isEvent);
  assertAnswered(run, "replay -");
  const values = run.lines.filter((l) => isEvent(l as Record<string, unknown>));
  assert.deepEqual(values.slice(0, 2), [{ value: { n: 0 } }, { value: { n: 1 } }]);
  assert.equal(values.length, run.fed);
});
