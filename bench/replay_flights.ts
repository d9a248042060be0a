/**
 * How fast `edgepipe replay` turns files into envelopes: the 3M-row flights Parquet file from the
 * `vega-datasets` npm package, and the same rows as NDJSON, a JSON array and CSV. Each case runs
 * the real command as a process, its stdout counted through a pipe; the table shows events/s.
 *
 * Run: deno run -A bench/replay_flights.ts [rows-for-text-formats]
 * Needs: npm install --prefix ~/.cache/edgepipe/vega vega-datasets@3.2.1 (or FLIGHTS_PARQUET=…)
 *
 * @module
 */
import { readParquet } from "../lib/sources/parquet.ts";

const MAIN = new URL("../cli/main.ts", import.meta.url).pathname;
const home = Deno.env.get("HOME") ?? "/root";
const parquet = Deno.env.get("FLIGHTS_PARQUET") ??
  `${home}/.cache/edgepipe/vega/node_modules/vega-datasets/data/flights-3m.parquet`;
const textRows = Number(Deno.args[0] ?? 1_000_000);

try {
  await Deno.stat(parquet);
} catch {
  console.error(`flights-3m.parquet not found at ${parquet}.
Install it outside the repository:
  npm install --prefix ~/.cache/edgepipe/vega vega-datasets@3.2.1`);
  Deno.exit(1);
}

/** Runs replay with `args`, counts stdout lines, returns [lines, seconds]. */
async function time(args: string[]): Promise<[number, number]> {
  const started = performance.now();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, "replay", ...args, "--no-progress"],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  let lines = 0;
  for await (const chunk of child.stdout) {
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines++;
  }
  const status = await child.status;
  if (!status.success) throw new Error(`replay ${args.join(" ")} exited ${status.code}`);
  return [lines, (performance.now() - started) / 1000];
}

const dir = await Deno.makeTempDir({ prefix: "edgepipe-replay-bench-" });
try {
  // The first rows of the Parquet file as text files, so formats compare on the same data.
  const ndjson = await Deno.open(`${dir}/flights.ndjson`, { write: true, create: true });
  const csv = await Deno.open(`${dir}/flights.csv`, { write: true, create: true });
  const json = await Deno.open(`${dir}/flights.json`, { write: true, create: true });
  const encoder = new TextEncoder();
  let n = 0;
  let ndjsonText = "";
  let csvText = "date,delay,distance,origin,destination\n";
  let jsonText = "[\n";
  const flush = async () => {
    await ndjson.write(encoder.encode(ndjsonText));
    await csv.write(encoder.encode(csvText));
    await json.write(encoder.encode(jsonText));
    ndjsonText = csvText = jsonText = "";
  };
  for await (const item of readParquet(parquet, { rowsPerStep: 50_000 })) {
    if (n >= textRows) break;
    const row = (item as { value: Record<string, unknown> }).value;
    const line = JSON.stringify(row);
    ndjsonText += line + "\n";
    jsonText += (n > 0 ? ",\n" : "") + line;
    csvText += `${row.date},${row.delay},${row.distance},${row.origin},${row.destination}\n`;
    if (++n % 50_000 === 0) await flush();
  }
  jsonText += "\n]\n";
  await flush();
  ndjson.close();
  csv.close();
  json.close();

  const cases: [string, string[]][] = [
    ["parquet, 3M rows", [parquet]],
    ["parquet, 3M rows, --time --key", [parquet, "--time", "date", "--key", "origin"]],
    [`ndjson, ${n} rows`, [`${dir}/flights.ndjson`]],
    [`json array, ${n} rows`, [`${dir}/flights.json`]],
    [`csv, ${n} rows`, [`${dir}/flights.csv`]],
    [`csv, ${n} rows, --time --key`, [`${dir}/flights.csv`, "--time", "date", "--key", "origin"]],
  ];
  const rows: string[][] = [];
  for (const [name, args] of cases) {
    const [lines, seconds] = await time(args);
    rows.push([
      name,
      lines.toLocaleString("en-US"),
      seconds.toFixed(2),
      Math.round(lines / seconds).toLocaleString("en-US"),
    ]);
    console.error(`  ${name}: ${seconds.toFixed(2)} s`);
  }
  const header = ["case", "events", "seconds", "events/s"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    `| ${
      cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(" | ")
    } |`;
  console.log(
    `\nedgepipe replay on ${Deno.build.os}/${Deno.build.arch}, ${navigator.hardwareConcurrency} cores, deno ${Deno.version.deno}\n`,
  );
  console.log(line(header));
  console.log(
    `|${widths.map((w, i) => (i === 0 ? "-".repeat(w + 2) : "-".repeat(w + 1) + ":")).join("|")}|`,
  );
  for (const row of rows) console.log(line(row));
} finally {
  await Deno.remove(dir, { recursive: true });
}
