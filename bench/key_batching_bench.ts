/**
 * What key-based batching costs `edgepipe produce`: the same keyed NDJSON (100-byte values, 40
 * keys) sent with `--batching default | key | key-grouped | off`, once with keys interleaved
 * (each message's key differs from the previous one's: the worst case of `key`) and once with
 * keys in runs of 50. Messages per wall second of the whole command (process start included) in
 * interleaved rounds, as per-round ratios against `default` (median and range). Needs a broker:
 * PULSAR_SERVICE_URL.
 *
 * ```sh
 * deno run -A bench/key_batching_bench.ts [messages=50000] [rounds=3]
 * ```
 *
 * @module
 */
import { interleave, machineState, ratio, spread, table } from "./_rounds.ts";
import { edgepipe, timed } from "./_spawn.ts";

const MESSAGES = Number(Deno.args[0] ?? 50_000);
const ROUNDS = Number(Deno.args[1] ?? 3);
const KEYS = 40;
const serviceUrl = Deno.env.get("PULSAR_SERVICE_URL") ?? "pulsar://127.0.0.1:6650";

const work = await Deno.makeTempDir({ prefix: "edgepipe-bench-keybatch-" });
try {
  const rows: string[][] = [];
  for (const [layout, run] of [["interleaved", 1], ["runs of 50", 50]] as const) {
    const input = `${work}/${run}.ndjson`;
    let text = "";
    for (let i = 0; i < MESSAGES; i++) {
      const key = `key-${Math.floor(i / run) % KEYS}`;
      text += JSON.stringify({ key, value: { i, pad: "x".repeat(80) } }) + "\n";
    }
    await Deno.writeTextFile(input, text);
    const measure = (batching: string) => ({
      name: batching,
      run: async () => {
        const topic = `persistent://public/default/bench-keybatch-${crypto.randomUUID()}`;
        const cmd = edgepipe("produce", topic, "--batching", batching, "--service-url", serviceUrl);
        const t = await timed(cmd, { stdinFile: input });
        return MESSAGES / (t.exitMs / 1000);
      },
    });
    console.error(layout);
    const results = await interleave(
      ["default", "key", "key-grouped", "off"].map(measure),
      ROUNDS,
    );
    const base = results.get("default")!;
    for (const [name, values] of results) {
      rows.push([layout, name, spread(values), ratio(values, base)]);
    }
  }
  console.log(`${MESSAGES.toLocaleString("en")} messages, ${KEYS} keys, ${ROUNDS} rounds`);
  console.log(table(["keys", "--batching", "messages/s", "vs default"], rows));
  console.log(await machineState());
} finally {
  await Deno.remove(work, { recursive: true });
}
