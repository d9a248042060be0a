/**
 * The cost of per-partition watermarks in the `window` command: the same NDJSON events (tumbling
 * 1-minute windows, count/sum/avg, 10k keys), each carrying `topic` and `partition` (6 partitions,
 * as `consume` writes them), through `--watermark partition` (the default) and
 * `--watermark global`, and with `--idle-timeout` (the clock read every 64 events). Events per CPU
 * second (user + system, GNU time) in interleaved rounds, as per-round ratios (median and range).
 *
 * ```sh
 * deno run -A bench/watermark_bench.ts [events=300000] [rounds=3]
 * ```
 *
 * @module
 */
import { interleave, machineState, ratio, spread, table } from "./_rounds.ts";
import { edgepipe, timed } from "./_spawn.ts";

const EVENTS = Number(Deno.args[0] ?? 300_000);
const ROUNDS = Number(Deno.args[1] ?? 3);
const KEYS = 10_000;

const work = await Deno.makeTempDir({ prefix: "edgepipe-bench-watermark-" });
const input = `${work}/events.ndjson`;
try {
  const file = await Deno.open(input, { write: true, create: true });
  const encoder = new TextEncoder();
  let seed = 42;
  let chunk = "";
  for (let i = 0; i < EVENTS; i++) {
    seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff;
    const t = 1_700_000_000_000 + Math.floor(i / 10) - (seed % 2000);
    chunk += `{"topic":"persistent://public/default/bench","partition":${i % 6},` +
      `"eventTime":${t},"value":{"k":"key-${seed % KEYS}","x":${seed % 1000}}}\n`;
    if (chunk.length > 1 << 20) {
      await file.write(encoder.encode(chunk));
      chunk = "";
    }
  }
  await file.write(encoder.encode(chunk));
  file.close();

  const cmd = (extra: string[]) =>
    edgepipe(
      "window",
      "--key",
      "value.k",
      "--tumbling",
      "1m",
      "--agg",
      "count(), sum(value.x), avg(value.x)",
      "--out-of-orderness",
      "2s",
      ...extra,
    );
  const lines = new Map<string, number>();
  const measure = (name: string, extra: string[]) => ({
    name,
    run: async () => {
      const t = await timed(cmd(extra), { stdinFile: input });
      lines.set(name, t.lines);
      return EVENTS / t.cpuSeconds;
    },
  });
  const results = await interleave([
    measure("global", ["--watermark", "global"]),
    measure("partition", []),
    measure("partition, idle timeout", ["--idle-timeout", "1m"]),
  ], ROUNDS);
  if (new Set(lines.values()).size !== 1) {
    throw new Error(`the variants wrote different line counts: ${[...lines.entries()]}`);
  }
  const g = results.get("global")!;
  const rows = [...results.entries()].map(([name, values]) => [
    name,
    spread(values),
    ratio(values, g),
  ]);
  console.log(
    `${EVENTS.toLocaleString("en")} events, ${KEYS} keys, 6 partitions, ${ROUNDS} rounds`,
  );
  console.log(table(["variant", "events per CPU second", "vs global"], rows));
  console.log(await machineState());
} finally {
  await Deno.remove(work, { recursive: true });
}
