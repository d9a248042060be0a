/**
 * `join`, `pattern` and `process` as commands against hand-written plain-Map loops doing the same
 * work (bench/_keyed_loops.ts) on the same NDJSON: the test fixtures (real flights) repeated over
 * DAYS days. Interleaved rounds; events per CPU second (user + system, from GNU time) and wall
 * events/s, medians with ranges, per-round ratios. Each side's result count is checked equal.
 *
 * ```sh
 * deno run -A bench/keyed_stages_bench.ts [days=20] [rounds=5]
 * ```
 *
 * @module
 */
import { join } from "node:path";
import { interleave, machineState, median, ratio, spread, table } from "./_rounds.ts";
import { DENO, edgepipe, timed } from "./_spawn.ts";
import { MOVEMENTS_JOIN } from "../test/fixtures/joins/rule.ts";
import { FLIGHT_PATTERN } from "../test/fixtures/patterns/rule.ts";

const DAYS = Number(Deno.args[0] ?? 20);
const ROUNDS = Number(Deno.args[1] ?? 5);
const ROOT = new URL("../", import.meta.url).pathname;
const LOOPS = join(ROOT, "bench/_keyed_loops.ts");

async function repeated(
  file: string,
  days: number,
  sort: boolean,
  spacing: number,
): Promise<string> {
  const base = (await Deno.readTextFile(join(ROOT, file))).trim().split("\n").map((l) =>
    JSON.parse(l)
  );
  if (sort) base.sort((a, b) => a.eventTime - b.eventTime);
  const out: string[] = [];
  for (let d = 0; d < days; d++) {
    for (const e of base) {
      out.push(JSON.stringify({ eventTime: e.eventTime + d * spacing, value: e.value }));
    }
  }
  const path = await Deno.makeTempFile({ prefix: "edgepipe-keyed-bench-", suffix: ".ndjson" });
  await Deno.writeTextFile(path, out.join("\n") + "\n");
  return path;
}

const DAY = 86_400_000;
const cases = [
  {
    name: "join (interval, left-outer)",
    input: await repeated("test/fixtures/joins/movements.ndjson", DAYS, false, 2 * DAY),
    ours: edgepipe(...MOVEMENTS_JOIN, "--type", "left"),
    loop: [DENO, "run", "-A", LOOPS, "join"],
  },
  {
    name: "pattern (3 delayed, none on time, 2 h)",
    input: await repeated("test/fixtures/windows/flights_events.ndjson", DAYS, false, DAY),
    ours: edgepipe(...FLIGHT_PATTERN),
    loop: [DENO, "run", "-A", LOOPS, "pattern"],
  },
  {
    name: "process (quiet-hour function)",
    input: await repeated("test/fixtures/windows/flights_events.ndjson", DAYS, true, DAY),
    ours: edgepipe(
      "process",
      join(ROOT, "examples/functions/quiet_hour.ts"),
      "--key",
      "value.origin",
    ),
    loop: [DENO, "run", "-A", LOOPS, "quiet"],
  },
];

console.log(`# join, pattern and process vs plain loops\n\n${await machineState()}\n`);
const rows: string[][] = [];
for (const c of cases) {
  const events = (await Deno.readTextFile(c.input)).split("\n").length - 1;
  const counts = new Map<string, number>();
  const wall = new Map<string, number[]>([["ours", []], ["loop", []]]);
  const run = (side: "ours" | "loop", cmd: string[]) => async () => {
    // Results only: acks of the input's ids are not written (the inputs carry no ids).
    const t = await timed(cmd, { stdinFile: c.input });
    const seen = counts.get(side);
    if (seen !== undefined && seen !== t.lines) {
      throw new Error(`${c.name}: ${side} output changed`);
    }
    counts.set(side, t.lines);
    wall.get(side)!.push(events / (t.exitMs / 1000));
    return events / t.cpuSeconds;
  };
  console.error(`${c.name}: ${events} events`);
  const r = await interleave([
    { name: "ours", run: run("ours", c.ours) },
    { name: "loop", run: run("loop", c.loop) },
  ], ROUNDS);
  if (counts.get("ours") !== counts.get("loop")) {
    throw new Error(`${c.name}: ${counts.get("ours")} results vs the loop's ${counts.get("loop")}`);
  }
  rows.push([
    c.name,
    String(events),
    String(counts.get("ours")),
    spread(r.get("ours")!),
    spread(r.get("loop")!),
    ratio(r.get("ours")!, r.get("loop")!),
    `${Math.round(median(wall.get("ours")!)).toLocaleString("en")} / ${
      Math.round(median(wall.get("loop")!)).toLocaleString("en")
    }`,
  ]);
  await Deno.remove(c.input);
}
console.log(table(
  [
    "stage",
    "events",
    "results",
    "edgepipe events/CPU-s",
    "loop events/CPU-s",
    "ratio",
    "wall events/s (median, ours / loop)",
  ],
  rows,
));
