/**
 * Draws the recorded benchmark results as SVG charts: reads the ratio tables of the results files
 * (`bench/*_results.md`) and writes one ratio chart per table to `bench/charts/<name>.svg`. Nothing
 * is measured here; the charts show what the results files record.
 *
 * ```sh
 * deno run --allow-read --allow-write bench/charts.ts [--out bench/charts]
 * ```
 *
 * @module
 */
import { parseArgs } from "node:util";
import { markdownTables, type MdTable, ratioRows, type RowsOptions } from "./_md_tables.ts";
import { median } from "./_rounds.ts";
import { type Goal, ratioChart, type RatioRow } from "./_svg.ts";

const MACHINE = "2 cores shared with other work (about eight sessions)";

const WINDOW_RUN = "1M events, 3 interleaved rounds, 2026-12-02 05:01 UTC, load average 6–8; " +
  "before: 180ca68 in the same rounds";

/** One chart drawn from one table of a results file. */
interface TableChart extends RowsOptions {
  name: string;
  title: string;
  file: string;
  /** The table: under the heading starting with this, whose first header cell starts with `first`. */
  heading: string;
  first?: string;
  /** Which of the matching tables (default the last: the newest run). */
  pick?: "first" | "last";
  /** What the caption says of the run when the line above the table does not say it. */
  run?: string;
  /** Dropped from every row label. */
  trim?: RegExp;
  /** Goals stated in the prose rather than in a goal column, by chart row label. */
  goals?: Record<string, Goal>;
}

const CHARTS: TableChart[] = [
  {
    name: "pulsar_commands",
    title: "edgepipe consume / produce vs pulsar-perf (msg/s, steady state)",
    file: "commands_results.md",
    heading: "Pulsar commands vs",
  },
  {
    name: "pulsar_client",
    title: "Pulsar client library vs pulsar-perf, 1 KiB",
    file: "commands_results.md",
    heading: "The client library vs",
    run: "after, 200,000 × 1 KiB, 3 interleaved rounds (04:35, load 10–12)",
  },
  {
    name: "score_pulsar",
    title: "Pulsar → score → Pulsar (events/s) vs the client loop and the pipe",
    file: "commands_results.md",
    heading: "Pulsar → score → Pulsar",
    goals: {
      "pipe (3 processes): vs client loop": { value: 0.6, better: "higher" },
      "run (default, now 1,000): vs client loop": { value: 0.6, better: "higher" },
      "run (default, now 1,000): vs pipe": { value: 1.3, better: "higher" },
      "run, maxInFlight 1000: vs client loop": { value: 0.6, better: "higher" },
      "run, maxInFlight 1000: vs pipe": { value: 1.3, better: "higher" },
    },
  },
  {
    name: "filter",
    title: "filter (lines/s) vs a bare Deno loop and jq",
    file: "commands_results.md",
    heading: "`filter`",
    seriesNames: { "before (03:54, load 17)": "before", "after (04:28, load 7–12)": "after" },
    trim: /^filter \/ /,
    run: "before 03:54 (load 17), after 04:28 (load 7–12), 500,000 flight events",
  },
  {
    name: "window_cpu",
    title: "window command vs a Map loop (events per CPU second)",
    file: "window_results.md",
    heading: "The `window` command",
    first: "events per CPU second",
    run: WINDOW_RUN,
    seriesNames: { "ratio (per round)": "now", "before: ratio": "before" },
  },
  {
    name: "window_rss",
    title: "window command vs a Map loop (peak RSS, lower is better)",
    file: "window_results.md",
    heading: "The `window` command",
    first: "peak RSS MiB",
    run: WINDOW_RUN,
    seriesNames: { "ratio (per round)": "now", "before: ratio": "before" },
  },
];

function findTable(tables: MdTable[], chart: TableChart): MdTable {
  const found = tables.filter((t) =>
    t.heading.startsWith(chart.heading) && (!chart.first || t.header[0].startsWith(chart.first))
  );
  const table = chart.pick === "first" ? found[0] : found.at(-1);
  if (!table) throw new Error(`${chart.file}: no table under "${chart.heading}"`);
  return table;
}

/** The score stage against raw session.run: the first table of score_results.md, two runs each. */
function scoreRows(tables: MdTable[]): RatioRow[] {
  const table = tables.find((t) => t.header.includes("now run 1"));
  if (!table) throw new Error("score_results.md: no table with a 'now run 1' column");
  const col = (name: string) => table.header.indexOf(name);
  const rows: RatioRow[] = [];
  for (const row of table.rows.filter((r) => r[1].endsWith("× raw"))) {
    for (
      const [side, names] of [["baseline", ["baseline run 1", "baseline run 2"]], [
        "now",
        ["now run 1", "now run 2"],
      ]] as const
    ) {
      const values = names.map((n) => Number(row[col(n)])).filter((v) => Number.isFinite(v));
      if (!values.length) continue;
      const what = row[1].replace(/^score stage, /, "").replace(/: × raw$/, "")
        .replace("events ", "");
      rows.push({
        label: `${row[0]}, ${what}: ${side}`,
        median: median(values),
        min: Math.min(...values),
        max: Math.max(...values),
        goal: { value: 0.8, better: "higher" },
      });
    }
  }
  return rows;
}

/**
 * `edgepipe run` against the same stages as a shell pipe: from the two recorded runs of
 * run_vs_pipe_results.md, per run run/pipe events/s, pipe/run CPU s and pipe/run peak RSS (above
 * 1.0× `run` is the better), drawn at the middle of the two runs with a whisker from one to the other.
 */
function runVsPipeRows(tables: MdTable[]): RatioRow[] {
  const runs = tables.filter((t) => t.heading.startsWith("Run ") && t.header.includes("way"));
  if (runs.length < 2) throw new Error("run_vs_pipe_results.md: fewer than two run tables");
  const num = (cell: string) => Number(cell.replace(/[\s,]/g, ""));
  const rows: RatioRow[] = [];
  for (
    const [what, column, runOverPipe] of [
      ["events/s, run / pipe", "events/s", true],
      ["CPU s, pipe / run", "CPU s", false],
      ["peak RSS, pipe / run", "peak RSS MiB", false],
    ] as const
  ) {
    for (const pipeline of ["window", "score"]) {
      const ratios = runs.map((t) => {
        const i = t.rows.findIndex((r) => r[0].startsWith(pipeline));
        const c = t.header.indexOf(column);
        const [run, pipe] = [num(t.rows[i][c]), num(t.rows[i + 1][c])];
        return runOverPipe ? run / pipe : pipe / run;
      });
      rows.push({
        label: `${pipeline}: ${what}`,
        median: median(ratios),
        min: Math.min(...ratios),
        max: Math.max(...ratios),
      });
    }
  }
  return rows;
}

/** Every chart's name and SVG text, from the results files in `dir`. */
export async function drawAll(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const chart of CHARTS) {
    const table = findTable(markdownTables(await Deno.readTextFile(`${dir}/${chart.file}`)), chart);
    const rows = ratioRows(table, chart);
    for (const row of rows) {
      row.goal ??= chart.goals?.[row.label];
      if (chart.trim) row.label = row.label.replace(chart.trim, "");
    }
    const run = chart.run ?? table.intro.replace(/[:.]$/, "");
    const caption = `bench/${chart.file}, ${run}. ${MACHINE}.`;
    out.set(chart.name, ratioChart({ title: chart.title, caption, rows }));
  }
  const score = markdownTables(await Deno.readTextFile(`${dir}/score_results.md`));
  out.set(
    "score_stage",
    ratioChart({
      title: "score stage vs raw onnxruntime session.run (events/s), batch 256",
      caption:
        `bench/score_results.md, after the per-event work was cut (2026-11-24): bar at the ` +
        `middle of two runs, whisker from one to the other, 5 interleaved rounds each, load average 1–3. 2 shared cores.`,
      rows: scoreRows(score),
    }),
  );
  const runVsPipe = markdownTables(await Deno.readTextFile(`${dir}/run_vs_pipe_results.md`));
  out.set(
    "run_vs_pipe",
    ratioChart({
      title: "edgepipe run (1 process) vs the same stages as a shell pipe",
      caption: `bench/run_vs_pipe_results.md, window 300,000 and score 100,000 events, two runs: ` +
        `bar at the middle of the two, whisker from one to the other; above 1.0× run is the ` +
        `better. Load average 3–5, 2 shared cores.`,
      rows: runVsPipeRows(runVsPipe),
    }),
  );
  return out;
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { out: { type: "string", default: "bench/charts" } } });
  const dir = new URL(".", import.meta.url).pathname.replace(/\/$/, "");
  await Deno.mkdir(values.out!, { recursive: true });
  for (const [name, svg] of await drawAll(dir)) {
    await Deno.writeTextFile(`${values.out}/${name}.svg`, svg);
    console.error(`wrote ${values.out}/${name}.svg`);
  }
}
