/**
 * Window stage benchmarks, measured side by side in one run and printed as a table of ratios:
 *
 * 1. events/s with 100,000 keys: the window operator vs a plain Map-based loop computing the same
 *    tumbling count/sum/avg and emitting on the watermark (goal ≥ 0.7×);
 * 2. checkpoint overhead: the `window` stage with checkpoints every 1 s vs none (goal ≤ 5%), on
 *    pre-parsed events and on the whole command (NDJSON file in, file out);
 * 3. restore time for 1,000,000 keys: edgepipe's columnar checkpoint vs one JSON object per key.
 *
 * Each ratio compares medians of interleaved rounds (the two cores are shared and noisy).
 *
 * Run: deno run -A bench/window_bench.ts [events=3000000] [keys=100000] [restoreKeys=1000000]
 *      [eventsPerSecond=10000]
 */
import { CheckpointStore } from "../lib/checkpoint/store.ts";
import type { Envelope, Item } from "../lib/envelope.ts";
import { parseAggregates } from "../lib/stages/window/aggregates.ts";
import { eventTimeReader, keyReader } from "../lib/stages/window/event_fields.ts";
import { WindowOperator } from "../lib/stages/window/operator.ts";
import { restoreWindows, snapshotWindows, WINDOW_KIND } from "../lib/stages/window/snapshot.ts";
import { openWindowCheckpoints, window, type WindowOptions } from "../lib/stages/window/window.ts";

const EVENTS = Number(Deno.args[0] ?? 3_000_000);
const KEYS = Number(Deno.args[1] ?? 100_000);
const RESTORE_KEYS = Number(Deno.args[2] ?? 1_000_000);
/** Events per second of event time: 10,000/s puts ~6 events in each key's 1-minute window. */
const RATE = Number(Deno.args[3] ?? 10_000);
const SIZE = 60_000;

function makeEvents(n: number, keys: number): Envelope[] {
  const events: Envelope[] = new Array(n);
  let seed = 42;
  for (let i = 0; i < n; i++) {
    seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff;
    events[i] = {
      eventTime: 1_700_000_000_000 + Math.floor(i * 1000 / RATE) - (seed % 2000),
      value: { k: `key-${seed % keys}`, x: seed % 1000 },
    };
  }
  return events;
}

const AGG = "count(), sum(value.x), avg(value.x)";

function operatorRun(events: Envelope[]): number {
  const op = new WindowOperator({
    shape: { kind: "tumbling", size: SIZE },
    aggregates: parseAggregates(AGG),
    keyOf: keyReader("value.k"),
    timeOf: eventTimeReader(),
    outOfOrderness: 2000,
  });
  let emitted = 0;
  for (let i = 0; i < events.length; i++) {
    op.process(events[i]);
    if (op.out.length > 0) {
      emitted += op.out.length;
      op.out = [];
    }
  }
  op.flushAll();
  return emitted + op.out.length;
}

/** The baseline: what one would write by hand for exactly this job. */
function plainRun(events: Envelope[]): number {
  const open = new Map<number, Map<string, { count: number; sum: number }>>();
  let maxTime = -Infinity;
  let emitted = 0;
  const out: unknown[] = [];
  const fire = (watermark: number) => {
    for (const [start, byKey] of open) {
      if (start + SIZE - 1 > watermark) continue;
      for (const [key, acc] of [...byKey].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
        out.push({
          key,
          window: { start, end: start + SIZE },
          value: { count: acc.count, sum: acc.sum, avg: acc.sum / acc.count },
          eventTime: start + SIZE - 1,
        });
      }
      open.delete(start);
    }
  };
  for (let i = 0; i < events.length; i++) {
    const e = events[i];
    const t = e.eventTime as number;
    const v = e.value as { k: string; x: number };
    const start = Math.floor(t / SIZE) * SIZE;
    let byKey = open.get(start);
    if (byKey === undefined) open.set(start, byKey = new Map());
    const acc = byKey.get(v.k);
    if (acc === undefined) byKey.set(v.k, { count: 1, sum: v.x });
    else {
      acc.count++;
      acc.sum += v.x;
    }
    if (t > maxTime) {
      const before = maxTime - 2000;
      maxTime = t;
      if (Math.floor((maxTime - 2000 + 1) / SIZE) !== Math.floor((before + 1) / SIZE)) {
        fire(maxTime - 2000);
        emitted += out.length;
        out.length = 0;
      }
    }
  }
  fire(Infinity);
  return emitted + out.length;
}

async function bestAsync<T>(runs: number, fn: () => Promise<T>): Promise<number> {
  let ms = Infinity;
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    await fn();
    ms = Math.min(ms, performance.now() - t0);
  }
  return ms;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

/**
 * Runs `a` and `b` in alternating rounds (so that both see the same machine state: the cores are
 * shared and noisy) and returns the median time of each.
 */
async function interleaved(
  rounds: number,
  a: () => unknown,
  b: () => unknown,
): Promise<{ a: number; b: number }> {
  const ta: number[] = [];
  const tb: number[] = [];
  for (let r = 0; r < rounds; r++) {
    for (
      const [fn, into] of (r % 2 === 0 ? [[a, ta], [b, tb]] : [[b, tb], [a, ta]]) as [
        () => unknown,
        number[],
      ][]
    ) {
      const t0 = performance.now();
      await fn();
      into.push(performance.now() - t0);
    }
  }
  return { a: median(ta), b: median(tb) };
}

async function stageRun(events: Envelope[], checkpointDir?: string): Promise<number> {
  const options: WindowOptions = {
    key: "value.k",
    shape: { kind: "tumbling", size: SIZE },
    aggregates: AGG,
    outOfOrderness: 2000,
  };
  if (checkpointDir) {
    const { store } = await openWindowCheckpoints(checkpointDir, options);
    options.checkpoint = { store, intervalMs: 1000 };
  }
  let n = 0;
  const source = async function* (): AsyncGenerator<Item> {
    for (const e of events) yield e;
  };
  for await (const _ of window(options)(source())) n++;
  return n;
}

const rows: string[][] = [];
const row = (...cells: (string | number)[]) => rows.push(cells.map(String));
const rate = (n: number, ms: number) => `${(n / ms / 1000).toFixed(2)} M/s`;

console.error(`generating ${EVENTS} events over ${KEYS} keys…`);
const events = makeEvents(EVENTS, KEYS);

// 1. Throughput, alternating runs so that both see the same machine state.
const plainCount = plainRun(events);
const ourCount = operatorRun(events);
if (plainCount !== ourCount) throw new Error(`result counts differ: ${plainCount} vs ${ourCount}`);
const speed = await interleaved(7, () => operatorRun(events), () => plainRun(events));
row(
  "operator events/s, 100k keys",
  rate(EVENTS, speed.a),
  rate(EVENTS, speed.b),
  (speed.b / speed.a).toFixed(2),
  "≥ 0.70",
);

// 2. Checkpoint overhead on the whole stage (async iteration included).
const dir = await Deno.makeTempDir({ prefix: "edgepipe-bench-" });
let ckRun = 0;
const stage = await interleaved(
  5,
  async () => {
    const ck = `${dir}/ck${ckRun++}`;
    await stageRun(events, ck);
    await Deno.remove(ck, { recursive: true });
  },
  () => stageRun(events),
);
const checkpointed = stage.a;
const bare = stage.b;
row(
  "stage with 1 s checkpoints",
  rate(EVENTS, checkpointed),
  rate(EVENTS, bare),
  (bare / checkpointed).toFixed(2),
  `overhead ${((checkpointed / bare - 1) * 100).toFixed(1)}% (goal ≤ 5%)`,
);

// 2b. The same on the whole command: NDJSON in, NDJSON out, which is what users run.
{
  const n = Math.min(EVENTS, 1_000_000);
  const input = `${dir}/input.ndjson`;
  const text: string[] = [];
  for (let i = 0; i < n; i++) text.push(JSON.stringify(events[i]));
  await Deno.writeTextFile(input, text.join("\n") + "\n");
  text.length = 0;
  const main = new URL("../cli/main.ts", import.meta.url).pathname;
  const command = async (extra: string[]) => {
    const args = [
      Deno.execPath(),
      "run",
      "-A",
      main,
      "window",
      "--key",
      "value.k",
      "--tumbling",
      "1m",
    ];
    args.push("--out-of-orderness", "2s", "--agg", AGG, "--output", `${dir}/out.ndjson`, ...extra);
    const quoted = args.map((a) => `'${a}'`).join(" ");
    const t0 = performance.now();
    const status = await new Deno.Command("sh", { args: ["-c", `${quoted} < '${input}'`] })
      .output();
    if (!status.success) throw new Error(new TextDecoder().decode(status.stderr));
    return performance.now() - t0;
  };
  let cliRun = 0;
  const times = { plain: [] as number[], ck: [] as number[] };
  await interleaved(
    5,
    async () => times.ck.push(await command(["--checkpoint-dir", `${dir}/cli-ck${cliRun++}`])),
    async () => times.plain.push(await command([])),
  );
  const plainMs = median(times.plain);
  const ckMs = median(times.ck);
  row(
    "window command, 1 s checkpoints",
    rate(n, ckMs),
    rate(n, plainMs),
    (plainMs / ckMs).toFixed(2),
    `overhead ${((ckMs / plainMs - 1) * 100).toFixed(1)}% (goal ≤ 5%)`,
  );
}

// 3. Restore of 1M keys: columnar checkpoint vs one JSON object per key.
console.error(`building ${RESTORE_KEYS} keys…`);
const spec = parseAggregates(AGG);
const make = () =>
  new WindowOperator({
    shape: { kind: "tumbling", size: SIZE },
    aggregates: spec,
    keyOf: keyReader("value.k"),
    timeOf: eventTimeReader(),
  });
const big = make();
for (let i = 0; i < RESTORE_KEYS; i++) {
  big.process({ eventTime: 1_700_000_000_000, value: { k: `key-${i}`, x: i % 977 } });
}
const store = await CheckpointStore.open(`${dir}/restore`, WINDOW_KIND);
const t0 = performance.now();
await store.write(
  snapshotWindows(big, { inputCount: RESTORE_KEYS, outputPosition: 0, pendingAcks: [] }, "bench"),
);
const writeMs = performance.now() - t0;
const size = (await Deno.stat(`${dir}/restore/checkpoint-000000000001.ckpt`)).size;
const restore = await bestAsync(3, async () => {
  const s = await CheckpointStore.open(`${dir}/restore`, WINDOW_KIND, () => {});
  const data = await s.restore();
  const op = make();
  restoreWindows(op, data!);
  return op.windowCount;
});

// The naive layout: [{key, start, end, n, slots}, …] as JSON.
const naivePath = `${dir}/naive.json`;
const naive: unknown[] = [];
for (const wins of big.byKey.values()) {
  for (const w of wins) {
    naive.push({ key: w.key, start: w.start, end: w.end, n: w.n, slots: [...w.num] });
  }
}
await Deno.writeTextFile(naivePath, JSON.stringify(naive));
naive.length = 0;
const naiveSize = (await Deno.stat(naivePath)).size;
const naiveRestore = await bestAsync(3, async () => {
  const rows = JSON.parse(await Deno.readTextFile(naivePath)) as {
    key: string;
    start: number;
    end: number;
    n: number;
    slots: number[];
  }[];
  const op = make();
  for (const r of rows) {
    op.restoreWindow({
      ...r,
      num: r.slots,
      obj: undefined,
      fired: false,
      dead: false,
      early: 0,
    });
  }
  return op.windowCount;
});
row(
  `restore ${RESTORE_KEYS / 1e6}M keys`,
  `${restore.toFixed(0)} ms (${(size / 1e6).toFixed(0)} MB)`,
  `${naiveRestore.toFixed(0)} ms (${(naiveSize / 1e6).toFixed(0)} MB)`,
  (naiveRestore / restore).toFixed(2),
  `goal ≈ 1 s; write ${writeMs.toFixed(0)} ms`,
);
await Deno.remove(dir, { recursive: true });

const header = ["measure", "edgepipe", "baseline", "ratio", "note"];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
const line = (cells: string[]) =>
  "| " + cells.map((c, i) => c.padEnd(widths[i])).join(" | ") + " |";
console.log(line(header));
console.log("|" + widths.map((w) => "-".repeat(w + 2)).join("|") + "|");
for (const r of rows) console.log(line(r));
console.log(
  "\nbaselines: a hand-written Map loop (1), the stage without checkpoints (2), one JSON object per key (3)",
);
