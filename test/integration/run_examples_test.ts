/**
 * `edgepipe run` on every example pipeline in examples/, with the output checked against what
 * the test computes from the input files on its own. Outputs are delivered records
 * (docs/envelope.md): a flight's fields plus what the stages added; a window result's key,
 * bounds, aggregates and timing.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { runEdgepipe } from "../harness/edgepipe.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const MAIN = join(ROOT, "cli/main.ts");
const FLIGHTS = join(ROOT, "examples/data/flights-2001-03-12-morning.ndjson");
const AIRPORTS = join(ROOT, "examples/data/airports.ndjson");

interface Flight {
  id: string;
  eventTime: number;
  value: { origin: string; destination: string; delay: number | null; distance: number };
}

const flights: Flight[] = (await Deno.readTextFile(FLIGHTS)).trimEnd().split("\n").map((l) =>
  JSON.parse(l)
);

function edgepipe(args: string[], env: Record<string, string> = {}) {
  return runEdgepipe(args, { env });
}

/** The events of NDJSON output, without control records (replay's end record). */
function lines<T = Record<string, unknown>>(text: string): T[] {
  return text.trim() === ""
    ? []
    : text.trimEnd().split("\n").map((l) => JSON.parse(l)).filter((item) =>
      item.$edgepipe === undefined
    );
}

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) out.push(...await filesUnder(path));
    else out.push(path);
  }
  return out;
}

Deno.test("examples/analytics.yaml: per-origin hourly counts, mean and max delay match the data", async () => {
  const run = await edgepipe(["run", join(ROOT, "examples/analytics.yaml")]);
  assert.equal(run.code, 0, run.stderr);
  const expected = new Map<string, { count: number; sum: number; max: number }>();
  for (const f of flights) {
    const hour = Math.floor(f.eventTime / 3_600_000) * 3_600_000;
    const key = `${f.value.origin}@${hour}`;
    const e = expected.get(key) ?? { count: 0, sum: 0, max: -Infinity };
    e.count++;
    e.sum += f.value.delay!;
    e.max = Math.max(e.max, f.value.delay!);
    expected.set(key, e);
  }
  const results = lines<{
    key: string;
    window: { start: number; end: number };
    count: number;
    avg_value_delay: number;
    max_value_delay: number;
    timing: string;
  }>(run.stdout);
  assert.equal(results.length, expected.size);
  for (const r of results) {
    const e = expected.get(`${r.key}@${r.window.start}`);
    assert.ok(e, `unexpected window ${r.key}@${r.window.start}`);
    assert.equal(r.window.end, r.window.start + 3_600_000);
    assert.equal(r.count, e.count);
    assert.ok(Math.abs(r.avg_value_delay - e.sum / e.count) < 1e-9);
    assert.equal(r.max_value_delay, e.max);
    assert.equal(r.timing, "on_time");
  }
  assert.equal(results.reduce((n, r) => n + r.count, 0), flights.length);
});

Deno.test("examples/enrichment.yaml: California departures, each with its airport record", async () => {
  const out = await Deno.makeTempDir();
  try {
    const run = await edgepipe(["run", join(ROOT, "examples/enrichment.yaml")], {
      EDGEPIPE_OUT: out,
    });
    assert.equal(run.code, 0, run.stderr);
    const airports = new Map(
      lines<{ iata: string; state: string }>(await Deno.readTextFile(AIRPORTS)).map((a) => [
        a.iata,
        a,
      ]),
    );
    const expected = flights.filter((f) => airports.get(f.value.origin)?.state === "CA")
      .map((f) => JSON.stringify(f.value)).sort();
    assert.ok(expected.length > 100);
    const got: string[] = [];
    for (const file of await filesUnder(join(out, "enrichment"))) {
      type Record = Flight["value"] & { airport: unknown };
      for (const { airport, ...flight } of lines<Record>(await Deno.readTextFile(file))) {
        assert.ok(file.includes(`/origin=${flight.origin}/`), file);
        assert.deepEqual(airport, airports.get(flight.origin));
        got.push(JSON.stringify(flight));
      }
    }
    assert.deepEqual(got.sort(), expected);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("examples/routing.yaml: late, early and on-time flights each land in their own place", async () => {
  const out = await Deno.makeTempDir();
  try {
    const run = await edgepipe(["run", join(ROOT, "examples/routing.yaml")], { EDGEPIPE_OUT: out });
    assert.equal(run.code, 0, run.stderr);
    // Nothing was added to the flights, so each record is the flight as it is.
    const routed = async (name: string) => {
      const records: string[] = [];
      for (const file of await filesUnder(join(out, "routing", name))) {
        records.push(...lines(await Deno.readTextFile(file)).map((e) => JSON.stringify(e)));
      }
      return records.sort();
    };
    const withDelay = flights.filter((f) => f.value.delay !== null);
    const ids = (pick: (d: number) => boolean) =>
      withDelay.filter((f) => pick(f.value.delay!)).map((f) => JSON.stringify(f.value)).sort();
    assert.deepEqual(await routed("late"), ids((d) => d > 60));
    assert.deepEqual(await routed("early"), ids((d) => d < 0));
    assert.deepEqual(await routed("on-time"), ids((d) => d >= 0 && d <= 60));
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("examples/inference.yaml: the same flights and scores as the shell pipeline of commands", async () => {
  const run = await edgepipe(["run", join(ROOT, "examples/inference.yaml")]);
  assert.equal(run.code, 0, run.stderr);
  const inProcess = lines(run.stdout);
  // Score every flight with the score command alone; the threshold is applied here.
  const scoredAlone = await new Deno.Command("bash", {
    args: [
      "-c",
      `set -o pipefail; deno run -A ${MAIN} replay ${FLIGHTS} | deno run -A ${MAIN} score --model ${
        join(ROOT, "models/flight-delay")
      }`,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(scoredAlone.success, new TextDecoder().decode(scoredAlone.stderr));
  const all = lines<Flight & { score: { delayed: number } }>(
    new TextDecoder().decode(scoredAlone.stdout),
  );
  assert.equal(all.length, flights.length);
  const expected = all.filter((e) => e.score.delayed > 0.2);
  assert.ok(expected.length > 0);
  // Each delivered record: the flight's fields with its score beside them.
  assert.deepEqual(inProcess, expected.map((e) => ({ ...e.value, score: e.score })));
});

Deno.test("every example passes --dry-run and names its source, stages and sink", async () => {
  for await (const entry of Deno.readDir(join(ROOT, "examples"))) {
    if (!entry.name.endsWith(".yaml")) continue;
    const run = await edgepipe(["run", "--dry-run", join(ROOT, "examples", entry.name)]);
    assert.equal(run.code, 0, `${entry.name}: ${run.stderr}`);
    assert.match(run.stdout, /^pipeline .*\n {2}source /, entry.name);
    assert.match(run.stdout, /\n {2}sink /, entry.name);
  }
});
