/**
 * `edgepipe join` on real data: departures and arrivals made from 12 hours of US flights
 * (vega-datasets), joined per airport with arrivals from 5 minutes before to 10 minutes after each
 * departure. The expected pairs and the unmatched departures were computed independently with a
 * pandas merge (test/fixtures/joins/make_joins.py); the comparison is exact. Then the join is
 * killed with SIGKILL at random moments of a longer replay and restarted from its checkpoints:
 * its output file equals that of an uninterrupted run, byte for byte.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { crashAndCompare } from "./harness/crash_replay.ts";
import { MOVEMENTS_JOIN } from "./fixtures/joins/rule.ts";

const MAIN = new URL("../cli/main.ts", import.meta.url).pathname;
const FIXTURES = new URL("./fixtures/joins/", import.meta.url);
const MOVEMENTS = new URL("movements.ndjson", FIXTURES).pathname;

const JOIN = [...MOVEMENTS_JOIN];

function lines(url: URL): Promise<Record<string, string>[]> {
  return Deno.readTextFile(url).then((t) => t.trim().split("\n").map((l) => JSON.parse(l)));
}

async function runJoin(args: string[], input: string, tz: string) {
  const quoted = [Deno.execPath(), "run", "-A", MAIN, ...args].map((a) =>
    `'${a.replaceAll("'", "'\\''")}'`
  ).join(" ");
  const out = await new Deno.Command("sh", {
    args: ["-c", `exec ${quoted} < '${input}'`],
    env: { TZ: tz },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  return {
    code: out.code,
    stderr: new TextDecoder().decode(out.stderr),
    // Results only: the input's ids come back as ack records.
    results: text.trim().split("\n").filter((l) => l !== "").map((l) => JSON.parse(l))
      .filter((r) => !("$edgepipe" in r)),
  };
}

interface Result {
  key: string;
  eventTime: number;
  value: { kind: string; airport: string; flight: string };
  right: { kind: string; airport: string; flight: string } | null;
}

const expectedPairs = (await lines(new URL("expected_pairs.ndjson", FIXTURES)))
  .map((p) => `${p.dep}>${p.arr}`).sort();
const expectedUnmatched = (await lines(new URL("expected_unmatched.ndjson", FIXTURES)))
  .map((p) => p.dep).sort();

for (const [type, tz] of [["inner", "UTC"], ["left", "Asia/Kolkata"], ["left", "UTC"]]) {
  Deno.test(`join --type ${type}: departures × arrivals per airport equal pandas (TZ=${tz})`, async () => {
    const { code, stderr, results } = await runJoin([...JOIN, "--type", type], MOVEMENTS, tz);
    assert.equal(code, 0, stderr);
    assert.doesNotMatch(stderr, /late/, "the fixture's disorder is within --out-of-orderness");
    const pairs: string[] = [];
    const unmatched: string[] = [];
    for (const r of results as Result[]) {
      assert.equal(r.value.kind, "dep");
      assert.equal(r.key, r.value.airport);
      if (r.right === null) {
        unmatched.push(r.value.flight);
        continue;
      }
      assert.equal(r.right.kind, "arr");
      assert.equal(r.right.airport, r.value.airport);
      pairs.push(`${r.value.flight}>${r.right.flight}`);
    }
    assert.deepEqual(pairs.sort(), expectedPairs);
    assert.deepEqual(unmatched.sort(), type === "left" ? expectedUnmatched : []);
  });
}

Deno.test("run: the join stage of a pipeline file gives the same pairs as pandas", async () => {
  const dir = await Deno.makeTempDir({ prefix: "edgepipe-join-run-" });
  const file = join(dir, "p.yaml");
  await Deno.writeTextFile(
    file,
    `source:
  replay: { files: ${MOVEMENTS} }
stages:
  - join:
      left: 'event.value.kind == "dep"'
      right: 'event.value.kind == "arr"'
      key: value.airport
      within: { from: -5m, to: 10m }
      outOfOrderness: 10m
      type: left
      checkpoint: ck
sink: stdout
`,
  );
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, "run", file],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  // The delivered record: the left value's fields and "right".
  const records = new TextDecoder().decode(out.stdout).trim().split("\n").map((l) => JSON.parse(l));
  const pairs = records.filter((r) => r.right !== null).map((r) => `${r.flight}>${r.right.flight}`);
  const unmatched = records.filter((r) => r.right === null).map((r) => r.flight);
  assert.deepEqual(pairs.sort(), expectedPairs);
  assert.deepEqual(unmatched.sort(), expectedUnmatched);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("join --sliding: one result per shared window, counted from the definition", async () => {
  const { code, stderr, results } = await runJoin(
    [...JOIN.slice(0, 7), "--sliding", "30m", "--every", "10m", "--out-of-orderness", "10m"],
    MOVEMENTS,
    "UTC",
  );
  assert.equal(code, 0, stderr);
  // The reference: every departure/arrival pair of an airport, once per 30-minute window
  // starting on a 10-minute boundary that holds both times.
  const events = (await Deno.readTextFile(MOVEMENTS)).trim().split("\n").map((l) => JSON.parse(l));
  const byAirport = new Map<string, { kind: string; t: number; flight: string }[]>();
  for (const e of events) {
    const list = byAirport.get(e.value.airport) ?? [];
    list.push({ kind: e.value.kind, t: e.eventTime, flight: e.value.flight });
    byAirport.set(e.value.airport, list);
  }
  const expected: string[] = [];
  const TEN = 600_000, SIZE = 1_800_000;
  for (const list of byAirport.values()) {
    for (const d of list.filter((e) => e.kind === "dep")) {
      for (const a of list.filter((e) => e.kind === "arr")) {
        const last = Math.max(d.t, a.t), first = Math.min(d.t, a.t);
        for (let s = Math.floor(first / TEN) * TEN; s > last - SIZE; s -= TEN) {
          expected.push(`${d.flight}>${a.flight}@${s}`);
        }
      }
    }
  }
  const got = (results as (Result & { window: { start: number; end: number } })[]).map((r) => {
    assert.equal(r.window.end - r.window.start, SIZE);
    return `${r.value.flight}>${r.right!.flight}@${r.window.start}`;
  });
  assert.deepEqual(got.sort(), expected.sort());
});

Deno.test("join: usage errors are one line and exit 2", async () => {
  for (
    const [args, message] of [
      [["join", "--left", "true", "--right", "true", "--key", "k"], /exactly one of --within/],
      [[...JOIN.slice(0, 7), "--within=10m,-5m"], /first bound must not be above/],
      [[...JOIN.slice(0, 7), "--within", "5m"], /two durations/],
      [[...JOIN.slice(0, 7), "--sliding", "10m"], /--sliding needs --every/],
      [[...JOIN.slice(0, 7), "--sliding", "10m", "--every", "20m"], /--every must not exceed/],
      [[...JOIN, "--type", "outer"], /--type must be inner or left/],
      [
        ["join", "--left", "event.value.(", "--right", "true", "--key", "k", "--within", "0s,1s"],
        /./,
      ],
    ] as const
  ) {
    const { code, stderr } = await runJoin([...args], "/dev/null", "UTC");
    assert.equal(code, 2, stderr);
    assert.match(stderr, message);
    assert.equal(stderr.trim().split("\n").length, 1, stderr);
  }
});

/**
 * The fixture (37 hours of events) repeated `days` times, each copy two days later: a longer
 * stream of the same kind.
 * Without ids, so that no ack records (whose place depends on checkpoint timing) are written.
 */
async function longerInput(path: string, days: number): Promise<void> {
  const base = (await Deno.readTextFile(MOVEMENTS)).trim().split("\n").map((l) => JSON.parse(l));
  const out: string[] = [];
  for (let d = 0; d < days; d++) {
    for (const e of base) {
      out.push(JSON.stringify({ eventTime: e.eventTime + d * 2 * 86_400_000, value: e.value }));
    }
  }
  await Deno.writeTextFile(path, out.join("\n") + "\n");
}

Deno.test({
  name: "join survives kill -9 during a replay with checkpoints: output identical to a clean run",
  sanitizeResources: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "edgepipe-join-crash-" });
    const input = join(dir, "input.ndjson");
    await longerInput(input, 12);
    await crashAndCompare({
      args: (output, ck) => [
        "run",
        "-A",
        MAIN,
        ...JOIN,
        "--type",
        "left",
        "--output",
        output,
        ...(ck ? ["--checkpoint-dir", ck, "--checkpoint-interval", "100ms"] : []),
      ],
      input,
      dir,
      kills: 3,
    });
    await Deno.remove(dir, { recursive: true });
  },
});
