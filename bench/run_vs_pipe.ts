/**
 * One pipeline run two ways, measured side by side: in one process (`edgepipe run`) and as
 * separate commands in a shell pipe. Prints events/s, CPU seconds (user + system, all processes)
 * and peak RSS (summed over the processes of the pipe), and the ratios.
 *
 *   deno run -A bench/run_vs_pipe.ts [events=300000] [pipeline=window|score]
 *
 * window: replay → filter → window (per origin and hour) → rolling files
 * score:  replay → score (flight-delay ONNX model) → filter → rolling files
 *
 * Events are the bundled real flights repeated with fresh ids and shifted event times. Both ways
 * must write the same number of events; the benchmark checks it.
 */
import { join } from "node:path";

const ROOT = new URL("../", import.meta.url).pathname;
const MAIN = join(ROOT, "cli/main.ts");
const total = Number(Deno.args[0] ?? 300_000);
const kind = Deno.args[1] ?? "window";
if (!["window", "score"].includes(kind)) throw new Error(`unknown pipeline '${kind}'`);

const work = await Deno.makeTempDir({ prefix: "edgepipe-bench-" });
const input = join(work, "events.ndjson");
{
  const base = (await Deno.readTextFile(
    join(ROOT, "examples/data/flights-2001-03-12-morning.ndjson"),
  )).trim().split("\n").map((line) => JSON.parse(line));
  const file = await Deno.open(input, { write: true, create: true });
  const encoder = new TextEncoder();
  const span = 3 * 3_600_000;
  let chunk = "";
  for (let i = 0; i < total; i++) {
    const event = base[i % base.length];
    const round = Math.floor(i / base.length);
    chunk += JSON.stringify({ ...event, id: `b${i}`, eventTime: event.eventTime + round * span }) +
      "\n";
    if (chunk.length > 1 << 20) {
      await file.write(encoder.encode(chunk));
      chunk = "";
    }
  }
  await file.write(encoder.encode(chunk));
  file.close();
}

const FILTER = kind === "window" ? "event.value.delay > 0.0" : "event.score.delayed > 0.1";
const AGG = "count(), avg(value.delay), max(value.delay)";
const MODEL = join(ROOT, "models/flight-delay");

function pipelineYaml(out: string): string {
  const stages = kind === "window"
    ? `  - filter: '${FILTER}'\n  - window: { key: value.origin, tumbling: 1h, aggregates: "${AGG}" }\n`
    : `  - score: { model: ${MODEL} }\n  - filter: '${FILTER}'\n`;
  return `source:\n  replay: { files: ${input} }\nstages:\n${stages}sink: 'file:${out}/?format=ndjson&max-events=50000'\n`;
}

function shellCommands(out: string): string[][] {
  const head = [["replay", input]];
  const middle = kind === "window"
    ? [["filter", FILTER], ["window", "--key", "value.origin", "--tumbling", "1h", "--agg", AGG]]
    : [["score", "--model", MODEL], ["filter", FILTER]];
  return [
    ...head,
    ...middle,
    ["sink", "file", out, "--format", "ndjson", "--max-events", "50000"],
  ];
}

interface Measure {
  seconds: number;
  cpu: number;
  rssMiB: number;
  processes: number;
}

/** Runs `bash -c script` where every edgepipe process reports itself through GNU time. */
async function measure(script: string, timeFiles: string[]): Promise<Measure> {
  const started = performance.now();
  const out = await new Deno.Command("bash", {
    args: ["-c", `set -o pipefail; ${script}`],
    stdout: "null",
    stderr: "piped",
  }).output();
  const seconds = (performance.now() - started) / 1000;
  if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
  let cpu = 0;
  let rss = 0;
  for (const file of timeFiles) {
    const [user, sys, maxKiB] = (await Deno.readTextFile(file)).trim().split("\n").at(-1)!.split(
      " ",
    ).map(Number);
    cpu += user + sys;
    rss += maxKiB / 1024;
  }
  return { seconds, cpu, rssMiB: rss, processes: timeFiles.length };
}

const quote = (s: string) => `'${s.replaceAll("'", `'"'"'`)}'`;
const timed = (file: string, args: string[]) =>
  `/usr/bin/time -f '%U %S %M' -o ${file} ${Deno.execPath()} run -A ${MAIN} ${
    args.map(quote).join(" ")
  }`;

async function countEvents(dir: string): Promise<number> {
  let n = 0;
  for await (const entry of Deno.readDir(dir)) {
    const text = await Deno.readTextFile(join(dir, entry.name));
    n += text.split("\n").filter((line) => line !== "").length;
  }
  return n;
}

const runOut = join(work, "run-out");
const pipeOut = join(work, "pipe-out");
const pipeline = join(work, "pipeline.yaml");
await Deno.writeTextFile(pipeline, pipelineYaml(runOut));

const rows: [string, Measure, number][] = [];
// Warm the module cache once so neither side pays for the first compile.
await measure(timed(join(work, "warm.time"), ["run", "--dry-run", pipeline]), [
  join(work, "warm.time"),
]);

const inProcess = await measure(timed(join(work, "run.time"), ["run", pipeline]), [
  join(work, "run.time"),
]);
rows.push(["edgepipe run (1 process)", inProcess, await countEvents(runOut)]);

const commands = shellCommands(pipeOut);
const timeFiles = commands.map((_, i) => join(work, `pipe-${i}.time`));
const shell = await measure(
  commands.map((args, i) => timed(timeFiles[i], args)).join(" | "),
  timeFiles,
);
rows.push([`shell pipe (${commands.length} processes)`, shell, await countEvents(pipeOut)]);

if (rows[0][2] !== rows[1][2]) {
  throw new Error(`outputs differ: run wrote ${rows[0][2]} events, the pipe ${rows[1][2]}`);
}

console.log(
  `\n${kind} pipeline, ${total.toLocaleString("en")} input events, ${rows[0][2]} output events\n`,
);
console.log("| way | wall s | events/s | CPU s | peak RSS MiB |");
console.log("| --- | ---: | ---: | ---: | ---: |");
for (const [name, m] of rows) {
  console.log(
    `| ${name} | ${m.seconds.toFixed(2)} | ${
      Math.round(total / m.seconds).toLocaleString("en")
    } | ${m.cpu.toFixed(2)} | ${m.rssMiB.toFixed(0)} |`,
  );
}
console.log(
  `\nrun vs pipe: ${(shell.seconds / inProcess.seconds).toFixed(2)}× the throughput, ${
    (shell.cpu / inProcess.cpu).toFixed(2)
  }× less CPU, ${(shell.rssMiB / inProcess.rssMiB).toFixed(2)}× less memory`,
);
await Deno.remove(work, { recursive: true });
