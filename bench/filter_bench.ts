/**
 * `edgepipe filter` throughput, whole commands side by side in one run, printed as a table:
 * against a bare NDJSON parse/stringify loop in Deno (goal ≥ 0.7×) and against
 * `jq -c 'select(…)'` (goal ≥ 3×). Input: the flights fixture repeated to N lines.
 *
 * Run: deno run -A bench/filter_bench.ts [lines=500000] [rounds=3]
 * (`--baseline` makes this file the bare loop itself.)
 */
import { LineWriter, readLines } from "../lib/ndjson.ts";

if (Deno.args[0] === "--baseline") {
  // The bare loop: what every NDJSON stage must do at least.
  const out = new LineWriter();
  for await (const line of readLines(Deno.stdin.readable)) {
    await out.writeLine(JSON.stringify(JSON.parse(line.text)));
  }
  await out.flush();
  Deno.exit(0);
}

const LINES = Number(Deno.args[0] ?? 500_000);
const ROUNDS = Number(Deno.args[1] ?? 3);
const MAIN = new URL("../cli/main.ts", import.meta.url).pathname;
const SELF = new URL(import.meta.url).pathname;

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

/** Runs `cmd < input > output` through the shell, so no pipe plumbing of ours is measured. */
async function timed(cmd: string[]): Promise<{ ms: number; out: number }> {
  const quoted = cmd.map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(" ");
  const output = `${dir}/output.ndjson`;
  const t0 = performance.now();
  const status = await new Deno.Command("sh", {
    args: ["-c", `${quoted} < '${input}' > '${output}'`],
    stderr: "inherit",
  }).output();
  const ms = performance.now() - t0;
  if (!status.success) throw new Error(`${cmd.join(" ")} failed`);
  const text = await Deno.readTextFile(output);
  let out = 0;
  for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) out++;
  return { ms, out };
}

const deno = Deno.execPath();
const SELECTIVE = "event.value.delay > 15";
const ALL = "event.value.delay > -100000";
const contenders: [string, string[]][] = [
  ["edgepipe filter (≈30% kept)", [deno, "run", "-A", MAIN, "filter", SELECTIVE]],
  ["edgepipe filter (all kept)", [deno, "run", "-A", MAIN, "filter", ALL]],
  ["bare parse/stringify loop", [deno, "run", "-A", SELF, "--baseline"]],
  ["jq -c select (≈30% kept)", ["jq", "-c", "select(.value.delay > 15)"]],
  ["jq -c select (all kept)", ["jq", "-c", "select(.value.delay > -100000)"]],
];
const best = new Map<string, { ms: number; out: number }>();
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, cmd] of contenders) {
    const run = await timed(cmd);
    const prev = best.get(name);
    if (!prev || run.ms < prev.ms) best.set(name, run);
  }
}
await Deno.remove(dir, { recursive: true });

const get = (name: string) => best.get(name)!;
const rows: string[][] = [];
for (const [name] of contenders) {
  const r = get(name);
  rows.push([name, `${Math.round(LINES / r.ms * 1000).toLocaleString("en")}`, `${r.out}`]);
}
const ratio = (a: string, b: string) => (get(b).ms / get(a).ms).toFixed(2);
console.log(
  `${LINES} input lines, best of ${ROUNDS} rounds (wall time, process start included; ` +
    `edgepipe's lines out include its ack records)\n`,
);
const table = [["command", "lines/s", "lines out"], ...rows];
const widths = table[0].map((_, i) => Math.max(...table.map((r) => r[i].length)));
for (const [i, r] of table.entries()) {
  console.log("| " + r.map((c, j) => c.padEnd(widths[j])).join(" | ") + " |");
  if (i === 0) console.log("|" + widths.map((w) => "-".repeat(w + 2)).join("|") + "|");
}
console.log(`
| ratio                                         | value | goal   |
|-----------------------------------------------|-------|--------|
| filter (≈30% kept) / bare parse+stringify     | ${
  ratio("edgepipe filter (≈30% kept)", "bare parse/stringify loop")
}  | ≥ 0.70 |
| filter (all kept) / bare parse+stringify      | ${
  ratio("edgepipe filter (all kept)", "bare parse/stringify loop")
}  | ≥ 0.70 |
| filter (≈30% kept) / jq select                | ${
  ratio("edgepipe filter (≈30% kept)", "jq -c select (≈30% kept)")
}  | ≥ 3    |
| filter (all kept) / jq select                 | ${
  ratio("edgepipe filter (all kept)", "jq -c select (all kept)")
}  | ≥ 3    |`);
