/**
 * `edgepipe pattern` on real data: per origin airport, three departures delayed more than 30
 * minutes within 2 hours with no on-time departure between them, over 12 hours of US flights
 * (vega-datasets) in bounded disorder. The expected matches were computed independently with
 * pandas (test/fixtures/patterns/make_patterns.py); the comparison is exact. Then the stage is
 * killed with SIGKILL at random moments of a checkpointed replay and restarted: its output file
 * equals that of an uninterrupted run, byte for byte.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { crashAndCompare } from "./harness/crash_replay.ts";
import { FLIGHT_PATTERN } from "./fixtures/patterns/rule.ts";

const MAIN = new URL("../cli/main.ts", import.meta.url).pathname;
const FLIGHTS = new URL("./fixtures/windows/flights_events.ndjson", import.meta.url);
const EXPECTED = new URL("./fixtures/patterns/expected_matches.ndjson", import.meta.url);

const PATTERN = [...FLIGHT_PATTERN];

/** The flights, each value carrying its flight id so that matches can be named. */
async function flights(days = 1): Promise<string> {
  const events = (await Deno.readTextFile(FLIGHTS)).trim().split("\n").map((l) => JSON.parse(l));
  const out: string[] = [];
  for (let d = 0; d < days; d++) {
    for (const e of events) {
      out.push(JSON.stringify({
        eventTime: e.eventTime + d * 86_400_000,
        value: { ...e.value, flight: d === 0 ? e.id : `${e.id}-${d}` },
      }));
    }
  }
  return out.join("\n") + "\n";
}

async function run(args: string[], stdin: string, tz: string) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args],
    env: { TZ: tz },
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const feeding = ReadableStream.from([new TextEncoder().encode(stdin)]).pipeTo(child.stdin);
  const [out] = await Promise.all([child.output(), feeding]);
  return {
    code: out.code,
    stderr: new TextDecoder().decode(out.stderr),
    lines: new TextDecoder().decode(out.stdout).trim().split("\n").filter((l) => l !== ""),
  };
}

const expected = (await Deno.readTextFile(EXPECTED)).trim().split("\n").map((l) =>
  (JSON.parse(l) as string[]).join(" ")
).sort();

for (const tz of ["UTC", "America/Anchorage"]) {
  Deno.test(`pattern: delayed-departure runs per origin equal pandas (TZ=${tz})`, async () => {
    const { code, stderr, lines } = await run(PATTERN, await flights(), tz);
    assert.equal(code, 0, stderr);
    assert.doesNotMatch(stderr, /late events/);
    const matches = lines.map((l) => JSON.parse(l)).map((m) => {
      const late = m.value.events.late as { flight: string; origin: string; delay: number }[];
      assert.equal(late.length, 3);
      assert.ok(late.every((f) => f.origin === m.key && f.delay > 30));
      assert.ok(m.value.end - m.value.start <= 2 * 3600_000);
      assert.equal(m.eventTime, m.value.end);
      return late.map((f) => f.flight).join(" ");
    });
    assert.deepEqual(matches.sort(), expected);
  });
}

Deno.test("run: a pattern stage in a pipeline file finds the same matches as pandas", async () => {
  const dir = await Deno.makeTempDir({ prefix: "edgepipe-pattern-run-" });
  await Deno.writeTextFile(join(dir, "flights.ndjson"), await flights());
  await Deno.writeTextFile(
    join(dir, "p.yaml"),
    `source:
  replay: { files: flights.ndjson }
stages:
  - pattern:
      key: value.origin
      define: { late: 'event.value.delay > 30', ontime: 'event.value.delay <= 0' }
      pattern: late !ontime late !ontime late
      within: 2h
      outOfOrderness: 10m
      checkpoint: ck
sink: stdout
`,
  );
  const { code, stderr, lines } = await run(["run", join(dir, "p.yaml")], "", "UTC");
  assert.equal(code, 0, stderr);
  // The delivered record: start, end and the events by name.
  const matches = lines.map((l) => JSON.parse(l)).map((m) =>
    (m.events.late as { flight: string }[]).map((f) => f.flight).join(" ")
  );
  assert.deepEqual(matches.sort(), expected);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("pattern: usage errors are one line and exit 2", async () => {
  const cases: [string[], RegExp][] = [
    [PATTERN.filter((a) => a !== "--within" && a !== "2h"), /--within is required/],
    [[...PATTERN.slice(0, 9), "--pattern", "late ontime"], /'ontime' is not defined/],
    [[...PATTERN, "--define", "extra=true"], /'extra' is defined but the pattern does not use it/],
    [[...PATTERN.slice(0, 11), "--pattern", "late? ontime"], /first step must not be optional/],
    [
      [...PATTERN.slice(0, 11), "--pattern", "late !ontime", "--skip", "past-last"],
      /past-last does not go with a negation at the end/,
    ],
    [[...PATTERN.slice(0, 11), "--pattern", "late{3,1} ontime"], /no possible count/],
    [[...PATTERN, "--skip", "all"], /--skip must be none or past-last/],
    [[
      ...PATTERN.slice(0, 7),
      "--define",
      "late=event.value.(",
      "--define",
      "ontime=true",
      "--pattern",
      "late !ontime late",
    ], /./],
  ];
  for (const [args, message] of cases) {
    const { code, stderr } = await run(args, "", "UTC");
    assert.equal(code, 2, `${args.join(" ")}: ${stderr}`);
    assert.match(stderr, message);
    assert.equal(stderr.trim().split("\n").length, 1, stderr);
  }
});

Deno.test({
  name: "pattern survives kill -9 during a checkpointed replay: output identical to a clean run",
  sanitizeResources: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "edgepipe-pattern-crash-" });
    const input = join(dir, "input.ndjson");
    await Deno.writeTextFile(input, await flights(30));
    await crashAndCompare({
      args: (output, ck) => [
        "run",
        "-A",
        MAIN,
        ...PATTERN,
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
