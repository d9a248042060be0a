/**
 * The `window` command against a hand-written Deno Map loop (bench/_window_loop.ts) over the same
 * NDJSON file: 1M events, tumbling 1-minute windows with count/sum/avg, at 10k, 100k and 1M keys;
 * events/s (wall time, process start included) and peak RSS from GNU time, in interleaved rounds,
 * as per-round ratios (median and range). At 100k keys also the command with checkpoints every
 * second against the same without. Also events per CPU second (user + system, from GNU time):
 * on shared cores the wall time mostly measures the neighbours, the CPU time much less so.
 *
 * ```sh
 * deno run -A bench/window_command_bench.ts [events=1000000] [rounds=3] [keys=10000,100000,1000000]
 *   [--svg bench/charts/window_cpu.svg]
 * ```
 *
 * With `--svg <file>` the events-per-CPU-second ratios are also drawn as a chart (bench/_svg.ts)
 * to that file, and the peak RSS ratios to the same name ending in `_rss.svg`.
 *
 * With `BEFORE=<dir>` (a checkout of an earlier commit), its `window` command runs in the same
 * rounds, for a before/after comparison from one run.
 *
 * @module
 */
import { interleave, machineState, ratio, spread, table } from "./_rounds.ts";
import { DENO, edgepipe, timed } from "./_spawn.ts";
import { parseArgs } from "node:util";
import { ratioRows } from "./_md_tables.ts";
import { ratioChart } from "./_svg.ts";

const { values: flags, positionals } = parseArgs({
  options: { svg: { type: "string" } },
  allowPositionals: true,
});
const EVENTS = Number(positionals[0] ?? 1_000_000);
const ROUNDS = Number(positionals[1] ?? 3);
const KEYS = (positionals[2] ?? "10000,100000,1000000").split(",").map(Number);
const LOOP = new URL("./_window_loop.ts", import.meta.url).pathname;
/** Events per second of event time, as in bench/window_bench.ts. */
const RATE = 10_000;
const AGG = "count(), sum(value.x), avg(value.x)";

const work = await Deno.makeTempDir({ prefix: "edgepipe-bench-window-" });

async function writeEvents(path: string, keys: number): Promise<void> {
  const file = await Deno.open(path, { write: true, create: true });
  const encoder = new TextEncoder();
  let seed = 42;
  let chunk = "";
  for (let i = 0; i < EVENTS; i++) {
    seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff;
    const eventTime = 1_700_000_000_000 + Math.floor(i * 1000 / RATE) - (seed % 2000);
    chunk += `{"eventTime":${eventTime},"value":{"k":"key-${seed % keys}","x":${seed % 1000}}}\n`;
    if (chunk.length > 1 << 20) {
      await file.write(encoder.encode(chunk));
      chunk = "";
    }
  }
  await file.write(encoder.encode(chunk));
  file.close();
}

const BEFORE = Deno.env.get("BEFORE");

const windowCmd = (extra: string[] = [], main?: string) =>
  (main ? [DENO, "run", "-A", "--no-check", main] : edgepipe()).concat(
    "window",
    "--key",
    "value.k",
    "--tumbling",
    "1m",
    "--agg",
    AGG,
    "--out-of-orderness",
    "2s",
    ...extra,
  );

const rows: string[][] = [];
const cpuRows: string[][] = [];
const rssRows: string[][] = [];
try {
  for (const keys of KEYS) {
    const input = `${work}/events-${keys}.ndjson`;
    await writeEvents(input, keys);
    const rss = new Map<string, number[]>();
    const cpu = new Map<string, number[]>();
    const lines = new Map<string, number>();
    const measure = (name: string, cmd: () => string[]) => ({
      name,
      run: async () => {
        const t = await timed(cmd(), { stdinFile: input });
        rss.set(name, [...(rss.get(name) ?? []), t.rssMiB]);
        cpu.set(name, [...(cpu.get(name) ?? []), EVENTS / t.cpuSeconds]);
        lines.set(name, t.lines);
        return EVENTS / (t.exitMs / 1000);
      },
    });
    const contenders = [
      measure("window", () => windowCmd()),
      measure("loop", () => [DENO, "run", LOOP, "60000", "2000"]),
    ];
    if (BEFORE) {
      contenders.push(measure("window before", () => windowCmd([], `${BEFORE}/cli/main.ts`)));
    }
    if (keys === 100_000) {
      contenders.push(measure("window, 1 s checkpoints", () => {
        const dir = `${work}/ckpt-${crypto.randomUUID()}`;
        return windowCmd(["--checkpoint-dir", dir, "--checkpoint-interval", "1s"]);
      }));
    }
    console.error(`${keys} keys`);
    const results = await interleave(contenders, ROUNDS);
    if (lines.get("window") !== lines.get("loop")) {
      throw new Error(`window wrote ${lines.get("window")} lines, the loop ${lines.get("loop")}`);
    }
    const [w, l] = [results.get("window")!, results.get("loop")!];
    rows.push([`${keys.toLocaleString("en")} keys`, spread(w), spread(l), ratio(w, l), "≥ 0.7×"]);
    const b = results.get("window before");
    if (b) {
      rows.push([
        `${keys.toLocaleString("en")} keys, before`,
        spread(b),
        spread(l),
        ratio(b, l),
        "",
      ]);
    }
    const [wc, lc] = [cpu.get("window")!, cpu.get("loop")!];
    cpuRows.push([
      `${keys.toLocaleString("en")} keys`,
      spread(wc),
      spread(lc),
      ratio(wc, lc),
      "≥ 0.7×",
    ]);
    const bc = cpu.get("window before");
    if (bc) {
      cpuRows.push([
        `${keys.toLocaleString("en")} keys, before`,
        spread(bc),
        spread(lc),
        ratio(bc, lc),
        "",
      ]);
    }
    const cc = cpu.get("window, 1 s checkpoints");
    if (cc) {
      cpuRows.push([
        "100,000 keys, 1 s checkpoints vs none",
        spread(cc),
        spread(wc),
        ratio(cc, wc),
        "≥ 0.95×",
      ]);
    }
    const [wr, lr] = [rss.get("window")!, rss.get("loop")!];
    const br = rss.get("window before");
    rssRows.push([
      `${keys.toLocaleString("en")} keys`,
      spread(wr, 0),
      spread(lr, 0),
      ratio(wr, lr),
      "≤ 1.3×",
    ]);
    if (br) {
      rssRows.push([
        `${keys.toLocaleString("en")} keys, before`,
        spread(br, 0),
        spread(lr, 0),
        ratio(br, lr),
        "",
      ]);
    }
    const c = results.get("window, 1 s checkpoints");
    if (c) {
      rows.push([
        "100,000 keys, 1 s checkpoints vs none",
        spread(c),
        spread(w),
        ratio(c, w),
        "≥ 0.95×",
      ]);
    }
    await Deno.remove(input);
  }
} finally {
  await Deno.remove(work, { recursive: true });
}

const machine = `${EVENTS} events; ${await machineState()}; ${ROUNDS} interleaved rounds`;
console.log(`\n${machine}\n`);
console.log(table(["events/s", "window command", "Map loop", "ratio (per round)", "goal"], rows));
console.log();
console.log(
  table(
    ["events per CPU second", "window command", "Map loop", "ratio (per round)", "goal"],
    cpuRows,
  ),
);
console.log();
console.log(
  table(["peak RSS MiB", "window command", "Map loop", "ratio (per round)", "goal"], rssRows),
);

if (flags.svg) {
  const header = ["", "window command", "Map loop", "ratio (per round)", "goal"];
  const charts = [
    [flags.svg, "window command vs a Map loop (events per CPU second)", cpuRows],
    [
      flags.svg.replace(/(\.svg)?$/, "_rss.svg"),
      "window command vs a Map loop (peak RSS)",
      rssRows,
    ],
  ] as const;
  for (const [file, title, rows] of charts) {
    await Deno.writeTextFile(
      file,
      ratioChart({ title, caption: machine, rows: ratioRows({ header, rows }) }),
    );
    console.error(`wrote ${file}`);
  }
}
