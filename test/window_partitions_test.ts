/**
 * `edgepipe window` with per-partition watermarks, on envelopes that carry `topic` and
 * `partition` as consume writes them: a lagging partition's events are not late (where one global
 * watermark turns them late), a quiet partition holds windows back until `--idle-timeout` lets
 * them go, and `--idle-advance` closes the last windows of a quiet input. Expected windows and
 * late events are computed here from first principles (hour buckets, a running maximum).
 */
import assert from "node:assert/strict";
import { runEdgepipe, startEdgepipe } from "./harness/edgepipe.ts";

const TOPIC = "persistent://public/default/sensors";
const HOUR = 3_600_000;
const MIN = 60_000;
/** 2001-03-12T00:00:00Z */
const T0 = Date.UTC(2001, 2, 12);
const ZONES = ["UTC", "America/Los_Angeles", "Asia/Kolkata"];

interface Ev {
  topic: string;
  partition: number;
  key: string;
  eventTime: number;
  value: { n: number };
}

const ev = (partition: number, key: string, eventTime: number, n: number): Ev => ({
  topic: TOPIC,
  partition,
  key,
  eventTime,
  value: { n },
});
const ndjson = (events: unknown[]) => events.map((e) => JSON.stringify(e) + "\n").join("");

/**
 * Two partitions, each event of partition 1 sent right after partition 0's event but 10 min
 * behind it in event time; 4 hours of one event per 2 minutes, keys spread over both.
 */
function laggingInput(): Ev[] {
  const out: Ev[] = [];
  for (let i = 0; i < 120; i++) {
    const t = T0 + 10 * MIN + i * 2 * MIN;
    out.push(ev(0, `k${i % 3}`, t, i));
    out.push(ev(1, `k${(i + 1) % 3}`, t - 10 * MIN, i));
  }
  return out;
}

/** key@hourStart → count, from the input alone. */
function expectedCounts(events: Ev[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const e of events) {
    const at = `${e.key}@${Math.floor(e.eventTime / HOUR) * HOUR}`;
    counts.set(at, (counts.get(at) ?? 0) + 1);
  }
  return counts;
}

/** With one watermark (highest time so far): the events whose hour had ended at their arrival. */
function lateUnderGlobal(events: Ev[]): number {
  let max = -Infinity, late = 0;
  for (const e of events) {
    const end = Math.floor(e.eventTime / HOUR) * HOUR + HOUR;
    if (end <= max) late++;
    else max = Math.max(max, e.eventTime);
  }
  return late;
}

function resultsOf(stdout: string) {
  return stdout.trim().split("\n").filter((l) => l !== "").map((l) => JSON.parse(l));
}

interface Result {
  key: string;
  window: { start: number; end: number };
  value: { count: number };
}

const WINDOW = ["window", "--key", "key", "--tumbling", "1h", "--agg", "count()"];

Deno.test("a lagging partition: no late event per partition; the global watermark turns some late", async () => {
  const events = laggingInput();
  const expected = expectedCounts(events);
  const late = lateUnderGlobal(events);
  assert.ok(late > 0, "the input makes late events under one watermark");
  for (const tz of ZONES) {
    const per = await runEdgepipe(WINDOW, { stdin: ndjson(events), env: { TZ: tz } });
    assert.equal(per.code, 0, per.stderr);
    assert.equal(per.stderr, "", `TZ=${tz}: nothing late, nothing said`);
    const results = resultsOf(per.stdout);
    assert.equal(results.length, expected.size, `TZ=${tz}: one result per key and hour`);
    for (const r of results) {
      assert.equal(
        r.value.count,
        expected.get(`${r.key}@${r.window.start}`),
        `${r.key}@${r.window.start}`,
      );
      assert.equal(r.timing, "on_time");
    }

    const global = await runEdgepipe([...WINDOW, "--watermark", "global"], {
      stdin: ndjson(events),
      env: { TZ: tz },
    });
    assert.equal(global.code, 0, global.stderr);
    assert.match(global.stderr, new RegExp(`\\b${late} late events dropped`), global.stderr);
    const total = resultsOf(global.stdout).reduce((n, r) => n + r.value.count, 0);
    assert.equal(total, events.length - late, `TZ=${tz}: the late ones are missing`);
  }
});

/** Runs `edgepipe <args>` fed by `feed`; returns the result lines seen before stdin closed. */
async function beforeClose(
  args: string[],
  feed: (write: (events: Ev[]) => Promise<void>, seen: () => number) => Promise<void>,
): Promise<{ before: Result[]; all: Result[] }> {
  const proc = startEdgepipe(args, {}, "piped");
  const lines: string[] = [];
  const reading = (async () => {
    let rest = "";
    for await (const chunk of proc.child.stdout.pipeThrough(new TextDecoderStream())) {
      const parts = (rest + chunk).split("\n");
      rest = parts.pop()!;
      lines.push(...parts);
    }
  })();
  const writer = proc.child.stdin.getWriter();
  const encoder = new TextEncoder();
  await feed((events) => writer.write(encoder.encode(ndjson(events))), () => lines.length);
  const before = lines.map((l) => JSON.parse(l));
  await writer.close();
  const code = await proc.exited;
  await reading;
  assert.equal(code, 0, await proc.stderr);
  return { before, all: lines.map((l) => JSON.parse(l)) };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Partition 1 sends one event at 00:05 and goes quiet; partition 0 goes on, one event per 100 ms
 * of wall clock, 6 minutes of event time apart, through 03:00. With `stopWhenSeen`, feeding stops
 * as soon as a result came out (bounded by 60 s); without, after all 30 events and 2 s more.
 */
async function quietPartition(args: string[], stopWhenSeen: boolean) {
  return await beforeClose(args, async (write, seen) => {
    await write([ev(1, "quiet", T0 + 5 * MIN, 0)]);
    const deadline = Date.now() + 60_000;
    for (let i = 0; i < 30 || (stopWhenSeen && Date.now() < deadline); i++) {
      if (stopWhenSeen && seen() > 0) return;
      if (i < 30) await write([ev(0, "busy", T0 + i * 6 * MIN, i)]);
      await sleep(100);
    }
    if (!stopWhenSeen) await sleep(2000);
  });
}

Deno.test("a quiet partition holds windows back; with --idle-timeout they close while input flows", async () => {
  // Without the flag: partition 1 is at 00:05 for ever, so nothing closes before the end.
  const held = await quietPartition(WINDOW, false);
  assert.deepEqual(held.before, [], "no window closed while partition 1 was quiet");
  assert.equal(held.all.length, 4, "at the end: busy 00:00, 01:00, 02:00 and quiet 00:00");

  const released = await quietPartition([...WINDOW, "--idle-timeout", "1s"], true);
  assert.ok(released.before.length > 0, "a window closed before the input ended");
  const first = released.before[0];
  assert.equal(first.window.start, T0);
  // The hour 00:00 of busy holds 10 events (00:00 … 00:54), of quiet 1.
  assert.equal(first.value.count, first.key === "busy" ? 10 : 1);
  const all = released.all;
  assert.deepEqual(
    all.map((r) => `${r.key}@${(r.window.start - T0) / HOUR}=${r.value.count}`).sort(),
    ["busy@0=10", "busy@1=10", "busy@2=10", "quiet@0=1"],
  );
});

Deno.test("--idle-advance: a quiet input closes its last window without new events", async () => {
  const events = [ev(0, "a", 1000, 0), ev(0, "a", 1500, 1), ev(0, "a", 1999, 2)];
  const args = ["window", "--key", "key", "--tumbling", "1s", "--agg", "count()"];
  const feed =
    (stopWhenSeen: boolean) =>
    async (write: (e: Ev[]) => Promise<void>, seen: () => number): Promise<void> => {
      await write(events);
      if (!stopWhenSeen) {
        await sleep(2500);
        return;
      }
      const deadline = Date.now() + 60_000;
      while (seen() === 0 && Date.now() < deadline) await sleep(50);
    };
  const held = await beforeClose(args, feed(false));
  assert.deepEqual(held.before, [], "without the flag the window waits for more events");
  assert.equal(held.all.length, 1);

  const moved = await beforeClose([...args, "--idle-advance", "500ms"], feed(true));
  assert.equal(moved.before.length, 1, "closed while the input was still open");
  const r = moved.before[0];
  assert.deepEqual(r.window, { start: 1000, end: 2000 });
  assert.equal(r.value.count, 3);
});

Deno.test("window: --watermark and idle flags are checked", async () => {
  const cases: [string[], RegExp][] = [
    [["--watermark", "local"], /--watermark must be partition or global, got 'local'/],
    [["--idle-timeout", "soon"], /--idle-timeout: 'soon' is not a duration/],
    [["--idle-advance", "0s"], /--idle-advance: must be more than 0/],
    [
      ["--watermark", "global", "--idle-timeout", "1m"],
      /--idle-timeout needs --watermark partition/,
    ],
  ];
  for (const [extra, message] of cases) {
    const out = await runEdgepipe([...WINDOW, ...extra], { stdin: "" });
    assert.equal(out.code, 2, extra.join(" "));
    assert.match(out.stderr, message);
  }
});
