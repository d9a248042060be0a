/**
 * Window results on real data (US flights, vega-datasets) equal an independent pandas groupby,
 * exactly: the fixture script computed the expected values; this runs the `window` command on the
 * shuffled events (disorder within 10 minutes) and compares field by field, floats bit for bit.
 */
import assert from "node:assert/strict";

const FIXTURES = new URL("./fixtures/windows/", import.meta.url);
const MAIN = new URL("../cli/main.ts", import.meta.url).pathname;

interface Expected {
  origin: string;
  start: number;
  end: number;
  count: number;
  sum: number;
  mean: number;
  min: number;
  max: number;
  p95: number;
}

async function runWindow(args: string[], stdin: Uint8Array) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, "window", ...args],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  // Feed stdin while reading stdout, or a full pipe stalls both sides.
  const feeding = ReadableStream.from([stdin]).pipeTo(child.stdin);
  const [{ code, stdout, stderr }] = await Promise.all([child.output(), feeding]);
  return {
    code,
    lines: new TextDecoder().decode(stdout).trim().split("\n"),
    stderr: new TextDecoder().decode(stderr),
  };
}

const expected: Expected[] = (await Deno.readTextFile(new URL("flights_expected.ndjson", FIXTURES)))
  .trim().split("\n").map((l) => JSON.parse(l));
const events = await Deno.readFile(new URL("flights_events.ndjson", FIXTURES));

for (const time of ["value.date", "eventTime"]) {
  Deno.test(`flights: count, sum, avg, min, max, p95 per origin per hour equal pandas (--time ${time})`, async () => {
    const { code, lines, stderr } = await runWindow([
      "--key",
      "origin",
      "--tumbling",
      "1h",
      "--time",
      time,
      "--out-of-orderness",
      "10m",
      "--agg",
      "count(), sum(value.delay), avg(value.delay) as mean, min(value.delay), max(value.delay), p95(value.delay)",
    ], events);
    assert.equal(code, 0, stderr);
    const items = lines.map((l) => JSON.parse(l));
    const results = items.filter((i) => !("$edgepipe" in i) && !i.late);
    assert.equal(items.filter((i) => i.late).length, 0, "no event is late within the bound");
    // Every input id is acknowledged exactly once, after the results of its window.
    const acked = items.filter((i) => i.$edgepipe === "ack").flatMap((i) => i.ids);
    assert.equal(new Set(acked).size, acked.length);
    assert.equal(acked.length, new TextDecoder().decode(events).trim().split("\n").length);

    const got = new Map(results.map((r) => [`${r.key}/${r.window.start}`, r]));
    assert.equal(got.size, results.length, "one on-time result per window");
    assert.equal(results.length, expected.length);
    for (const e of expected) {
      const r = got.get(`${e.origin}/${e.start}`);
      assert.ok(r, `missing window ${e.origin} ${e.start}`);
      assert.deepEqual(r, {
        key: e.origin,
        window: { start: e.start, end: e.end },
        value: {
          count: e.count,
          sum_value_delay: e.sum,
          mean: e.mean,
          min_value_delay: e.min,
          max_value_delay: e.max,
          p95_value_delay: e.p95,
        },
        eventTime: e.end - 1,
        timing: "on_time",
      });
    }
    // Deterministic emission: by window end, then start, then key.
    const order = results.map((r) => [r.window.end, r.window.start, r.key]);
    const sorted = [...order].sort((a, b) => a[0] - b[0] || a[1] - b[1] || (a[2] < b[2] ? -1 : 1));
    assert.deepEqual(order, sorted);
  });
}
