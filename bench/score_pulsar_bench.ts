/**
 * Pulsar → score (the flight-delay model) → Pulsar three ways, whole processes timed from spawn
 * to exit, in interleaved rounds, as per-round ratios (median and range):
 *
 * - the in-process client loop (bench/_client_loop.ts: the library in one Deno process), the
 *   baseline;
 * - the shell pipe `edgepipe consume -e | edgepipe score | edgepipe produce`, acks flowing back;
 * - `edgepipe run` with the same source, stage and sink (and with `maxInFlight: 1000`).
 *
 * Events are the bundled flights repeated, one topic filled once and read from the earliest
 * message by a new subscription in every run. CPU seconds (all processes) and peak RSS (of the
 * largest process) come from GNU time.
 *
 * ```sh
 * deno run -A bench/score_pulsar_bench.ts [events=200000] [rounds=3]
 * ```
 *
 * Uses PULSAR_SERVICE_URL (default pulsar://127.0.0.1:6650); start a private broker for it.
 *
 * @module
 */
import { PulsarClient } from "../lib/pulsar/mod.ts";
import { interleave, machineState, ratio, spread, table } from "./_rounds.ts";
import { DENO, edgepipe } from "./_spawn.ts";

const EVENTS = Number(Deno.args[0] ?? 200_000);
const ROUNDS = Number(Deno.args[1] ?? 3);
const ROOT = new URL("../", import.meta.url).pathname;
const MODEL = `${ROOT}models/flight-delay`;
const LOOP = `${ROOT}bench/_client_loop.ts`;
const serviceUrl = Deno.env.get("PULSAR_SERVICE_URL") ?? "pulsar://127.0.0.1:6650";
const runId = crypto.randomUUID().slice(0, 8);
const topic = (name: string) => `persistent://public/default/bench-score-${runId}-${name}`;
const source = topic("in");
const work = await Deno.makeTempDir({ prefix: "edgepipe-bench-score-" });

{
  const flights =
    (await Deno.readTextFile(`${ROOT}examples/data/flights-2001-03-12-morning.ndjson`))
      .trim().split("\n").map((l) => JSON.parse(l));
  const client = new PulsarClient({ serviceUrl });
  const producer = await client.createProducer({ topic: source, maxPendingMessages: 1000 });
  for (let i = 0; i < EVENTS; i++) {
    const f = flights[i % flights.length];
    await producer.ready();
    producer.send({ payload: JSON.stringify(f.value), eventTime: f.eventTime, key: f.key });
  }
  await producer.flush();
  await producer.close();
  await client.close();
}

interface Measured {
  seconds: number;
  cpu: number;
  rssMiB: number;
}

const quote = (s: string) => `'${s.replaceAll("'", `'"'"'`)}'`;
/**
 * Runs a shell pipeline under one GNU time: CPU is that of every process of the pipe, peak RSS
 * that of the largest one. (A `time` wrapper per command would keep a copy of the pipe's write
 * end open, so that `consume` closing its stdout no longer ends the input of the next stage and
 * every run waits out `--ack-timeout`.)
 */
async function measure(commands: string[][]): Promise<Measured> {
  const file = `${work}/t-${crypto.randomUUID()}`;
  const script = commands.map((cmd) => cmd.map(quote).join(" ")).join(" | ");
  const started = performance.now();
  const out = await new Deno.Command("/usr/bin/time", {
    args: ["-f", "%U %S %M", "-o", file, "bash", "-c", `set -o pipefail; ${script}`],
    stdout: "null",
    stderr: "piped",
  }).output();
  const seconds = (performance.now() - started) / 1000;
  const stderr = new TextDecoder().decode(out.stderr);
  if (!out.success) throw new Error(stderr.slice(-2000));
  // A run that waited for acknowledgements that never came is not a measurement.
  if (/did not finish within --ack-timeout/.test(stderr)) throw new Error(stderr.slice(-2000));
  const [user, sys, kib] = (await Deno.readTextFile(file)).trim().split("\n").at(-1)!
    .split(" ").map(Number);
  return { seconds, cpu: user + sys, rssMiB: kib / 1024 };
}

async function backlogZero(subscription: string): Promise<void> {
  // Each way must have consumed and acknowledged everything: check it on the broker.
  const admin = Deno.env.get("PULSAR_ADMIN_URL");
  if (!admin) return;
  const path = source.replace("persistent://", "persistent/");
  const stats = await (await fetch(`${admin}/admin/v2/${path}/stats`)).json();
  const backlog = stats.subscriptions?.[subscription]?.msgBacklog;
  if (backlog !== 0) throw new Error(`subscription ${subscription} left a backlog of ${backlog}`);
}

const extra = new Map<string, Measured[]>();
const way = (name: string, commands: (round: number) => Promise<string[][]> | string[][]) => ({
  name,
  run: async (round: number) => {
    const m = await measure(await commands(round));
    extra.set(name, [...(extra.get(name) ?? []), m]);
    return EVENTS / m.seconds;
  },
});
const runYaml = async (round: number, maxInFlight?: number) => {
  const file = `${work}/run-${round}-${maxInFlight ?? "default"}.yaml`;
  await Deno.writeTextFile(
    file,
    `source:\n  consume:\n    topic: ${source}\n    subscription: run-${round}-${
      maxInFlight ?? "d"
    }\n    serviceUrl: ${serviceUrl}\n    exitAtEnd: true\nstages:\n  - score: { model: ${MODEL} }\nsink: ${
      topic(`out-run-${round}-${maxInFlight ?? "d"}`)
    }\n${maxInFlight ? `maxInFlight: ${maxInFlight}\n` : ""}`,
  );
  return [edgepipe("run", file)];
};
const contenders = [
  way("client loop", (r) => [[
    DENO,
    "run",
    "-A",
    LOOP,
    serviceUrl,
    source,
    `loop-${r}`,
    topic(`out-loop-${r}`),
    String(EVENTS),
    MODEL,
  ]]),
  way("pipe", (r) => [
    edgepipe("consume", source, "-s", `pipe-${r}`, "-e", "--service-url", serviceUrl),
    edgepipe("score", "--model", MODEL),
    edgepipe("produce", topic(`out-pipe-${r}`), "--service-url", serviceUrl),
  ]),
  way("run", (r) => runYaml(r)),
  way("run, maxInFlight 1000", (r) => runYaml(r, 1000)),
];
const results = await interleave(contenders, ROUNDS);
for (let r = 0; r < ROUNDS; r++) {
  for (const sub of [`loop-${r}`, `pipe-${r}`, `run-${r}-d`, `run-${r}-1000`]) {
    await backlogZero(sub);
  }
}
await Deno.remove(work, { recursive: true });

const loop = results.get("client loop")!;
const pipe = results.get("pipe")!;
console.log(`\n${EVENTS} events; ${await machineState()}; ${ROUNDS} interleaved rounds\n`);
console.log(table(
  [
    "way",
    "events/s",
    "CPU s (all processes)",
    "peak RSS MiB (largest process)",
    "vs client loop",
    "vs pipe",
  ],
  [...results].map(([name, eps]) => [
    name,
    spread(eps),
    spread(extra.get(name)!.map((m) => m.cpu)),
    spread(extra.get(name)!.map((m) => m.rssMiB), 0),
    ratio(eps, loop),
    ratio(eps, pipe),
  ]),
));
console.log("\ngoals: pipe and run ≥ 0.6× the client loop; run ≥ 1.3× the pipe");
