/**
 * Cold start: the time from spawning each command to its first byte on stdout, given one input
 * line (`produce` and `sink file` write nothing to stdout: their time to exit), against `jq -c .`
 * on the same line and an empty Deno script (Deno's own start). Interleaved rounds, medians with
 * ranges, in ms.
 *
 * ```sh
 * deno run -A bench/first_output_bench.ts [rounds=7] [only=filter,score,…]
 * ```
 *
 * With `EDGEPIPE_BEFORE=<other checkout>` each edgepipe row is also run from there ("before").
 * `consume` and `produce` need a broker (PULSAR_SERVICE_URL, default pulsar://127.0.0.1:6650).
 *
 * @module
 */
import { PulsarClient } from "../lib/pulsar/mod.ts";
import { type Contender, interleave, machineState, median, spread, table } from "./_rounds.ts";
import { BEFORE_MAIN, DENO, edgepipe, MAIN, timed } from "./_spawn.ts";

const ROUNDS = Number(Deno.args[0] ?? 7);
/** Optional comma-separated command names (the first word of a row) to measure only those. */
const ONLY = Deno.args[1]?.split(",");
const ROOT = new URL("../", import.meta.url).pathname;
const serviceUrl = Deno.env.get("PULSAR_SERVICE_URL") ?? "pulsar://127.0.0.1:6650";
const work = await Deno.makeTempDir({ prefix: "edgepipe-bench-first-" });
const line = (await Deno.readTextFile(`${ROOT}examples/data/flights-2001-03-12-morning.ndjson`))
  .split("\n")[0];
const input = `${work}/one.ndjson`;
await Deno.writeTextFile(input, line + "\n");
const empty = `${work}/empty.ts`;
await Deno.writeTextFile(empty, "Deno.stdout.writeSync(new Uint8Array([10]));\n");
const pipeline = `${work}/pipeline.yaml`;
await Deno.writeTextFile(
  pipeline,
  `source:\n  replay: { files: ${input} }\nstages:\n  - filter: 'event.value.delay > -1000.0'\nsink: stdout\n`,
);
const topic = `persistent://public/default/bench-first-${crypto.randomUUID().slice(0, 8)}`;
{
  const client = new PulsarClient({ serviceUrl });
  const producer = await client.createProducer({ topic });
  await producer.send({ payload: JSON.stringify(JSON.parse(line).value) });
  await producer.close();
  await client.close();
}

const commands: [string, string[], "first" | "exit"][] = [
  ["jq -c . (baseline)", ["jq", "-c", "."], "first"],
  ["empty Deno script", [DENO, "run", "-A", empty], "first"],
  ["filter", edgepipe("filter", "event.value.delay > -1000.0"), "first"],
  ["map", edgepipe("map", "{'d': event.value.delay}"), "first"],
  ["window", edgepipe("window", "--key", "value.origin", "--tumbling", "1h"), "first"],
  ["score", edgepipe("score", "--model", `${ROOT}models/flight-delay`), "first"],
  // With --otlp the OpenTelemetry SDK loads (nothing listens: the one span's export fails once).
  [
    "score --otlp",
    edgepipe("score", "--model", `${ROOT}models/flight-delay`, "--otlp", "http://127.0.0.1:9"),
    "first",
  ],
  ["replay", edgepipe("replay", input), "first"],
  ["consume (reader, -e)", edgepipe("consume", topic, "-e", "--service-url", serviceUrl), "first"],
  ["produce (to exit)", edgepipe("produce", `${topic}-out`, "--service-url", serviceUrl), "exit"],
  ["sink file (to exit)", edgepipe("sink", "file", `${work}/sink`, "--format", "ndjson"), "exit"],
  ["sink stdout", edgepipe("sink", "stdout"), "first"],
  ["sink stdout --otlp", edgepipe("sink", "stdout", "--otlp", "http://127.0.0.1:9"), "first"],
  ["run (replay → filter → stdout)", edgepipe("run", pipeline), "first"],
];
if (BEFORE_MAIN) {
  for (const [name, cmd, what] of [...commands]) {
    if (!cmd.includes(MAIN)) continue;
    commands.push([`${name} (before)`, cmd.map((a) => (a === MAIN ? BEFORE_MAIN! : a)), what]);
  }
}
const contenders: Contender[] = commands.filter(([name]) =>
  !ONLY || name.startsWith("jq") || ONLY.includes(name.split(" ")[0])
).map(([name, cmd, what]) => ({
  name,
  run: async () => {
    const t = await timed(cmd, { stdinFile: input });
    return what === "first" ? t.firstMs : t.exitMs;
  },
}));
// One warm-up pass so that no command pays for compiling its modules into Deno's cache.
for (const c of contenders) await c.run(-1);
const results = await interleave(contenders, ROUNDS);
await Deno.remove(work, { recursive: true });

const jq = median(results.get("jq -c . (baseline)")!);
const goal = (name: string) =>
  name === "filter"
    ? "< 150 ms"
    : ["score", "consume (reader, -e)"].includes(name)
    ? "< 300 ms"
    : "";
console.log(`\n${await machineState()}; ${ROUNDS} interleaved rounds\n`);
console.log(table(
  ["command (one input line)", "ms to first output", "− jq (ms)", "goal"],
  [...results].map(([name, ms]) => [
    name,
    spread(ms, 0),
    (median(ms) - jq).toFixed(0),
    goal(name),
  ]),
));
