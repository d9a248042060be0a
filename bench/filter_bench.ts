/**
 * `edgepipe filter` throughput against a bare Deno NDJSON parse/stringify loop (goal ≥ 0.9×) and
 * against `jq -c 'select(…)'` (goal ≥ 3×), whole commands (`cmd < file > file`, process start
 * included) in interleaved rounds, printed as per-round ratios, median and range. Input: the
 * flights fixture repeated to N lines, each with its own id.
 *
 * ```sh
 * deno run -A bench/filter_bench.ts [lines=500000] [rounds=5]
 * ```
 *
 * @module
 */
import { interleave, machineState, ratio, spread, table } from "./_rounds.ts";
import { DENO, edgepipe, timed } from "./_spawn.ts";

const LINES = Number(Deno.args[0] ?? 500_000);
const ROUNDS = Number(Deno.args[1] ?? 5);
const BARE = new URL("./_bare_loop.ts", import.meta.url).pathname;

const fixture = (await Deno.readTextFile(
  new URL("../test/fixtures/windows/flights_events.ndjson", import.meta.url),
)).trim().split("\n");
const dir = await Deno.makeTempDir({ prefix: "edgepipe-filter-bench-" });
const input = `${dir}/input.ndjson`;
{
  const lines: string[] = [];
  for (let i = 0; i < LINES; i++) {
    const event = JSON.parse(fixture[i % fixture.length]);
    event.id = `e-${i}`;
    lines.push(JSON.stringify(event));
  }
  await Deno.writeTextFile(input, lines.join("\n") + "\n");
}

const contenders: [string, string[]][] = [
  ["edgepipe filter (delay > 15)", edgepipe("filter", "event.value.delay > 15")],
  ["bare Deno loop (delay > 15)", [DENO, "run", BARE, "--select", "delay", "15"]],
  ["jq -c select (delay > 15)", ["jq", "-c", "select(.value.delay > 15)"]],
  ["edgepipe filter (all kept)", edgepipe("filter", "true")],
  ["bare Deno loop (all kept)", [DENO, "run", BARE]],
  ["jq -c select (all kept)", ["jq", "-c", "select(true)"]],
];
const outputs = new Map<string, number>();
const results = await interleave(
  contenders.map(([name, cmd]) => ({
    name,
    run: async () => {
      const t = await timed(cmd, { stdinFile: input });
      outputs.set(name, t.lines);
      return LINES / (t.exitMs / 1000);
    },
  })),
  ROUNDS,
);
await Deno.remove(dir, { recursive: true });

const get = (name: string) => results.get(name)!;
console.log(`\n${LINES} input lines; ${await machineState()}; ${ROUNDS} interleaved rounds`);
console.log("(wall time, process start included)\n");
console.log(table(
  ["command", "lines/s", "lines out"],
  contenders.map(([name]) => [name, spread(get(name)), String(outputs.get(name))]),
));
console.log();
console.log(table(["ratio", "per round", "goal"], [
  [
    "filter / bare loop (delay > 15)",
    ratio(get(contenders[0][0]), get(contenders[1][0])),
    "≥ 0.9×",
  ],
  ["filter / jq select (delay > 15)", ratio(get(contenders[0][0]), get(contenders[2][0])), "≥ 3×"],
  ["filter / bare loop (all kept)", ratio(get(contenders[3][0]), get(contenders[4][0])), "≥ 0.9×"],
  ["filter / jq select (all kept)", ratio(get(contenders[3][0]), get(contenders[5][0])), "≥ 3×"],
]));
