/**
 * What exactly-once costs on `consume | filter | produce`: the same pipe with
 * `--guarantee exactly-once --txn-interval 1s` and with the default at-least-once, in interleaved
 * rounds of one run.
 *
 * - Throughput: the pipe drains a topic of N pre-published events (`consume -e`), events/s from
 *   its start to its exit.
 * - Latency: events published at a steady rate (default 2,000/s) while the pipe runs; a reader of
 *   the output topic (committed messages only) takes the time from each event's publication to its
 *   arrival; p50 and p99.
 *
 * Run: deno run -A bench/exactly_once_bench.ts [events] [rounds] [rate]
 * (PULSAR_SERVICE_URL, default the local broker; the broker needs transactionCoordinatorEnabled)
 *
 * @module
 */
import { PulsarClient, TimeoutError } from "../lib/pulsar/mod.ts";
import { ratio, spread, table } from "./_rounds.ts";

const MAIN = new URL("../cli/main.ts", import.meta.url).pathname;
const serviceUrl = Deno.env.get("PULSAR_SERVICE_URL") ?? "pulsar://127.0.0.1:6650";
const N = Number(Deno.args[0] ?? 20_000);
const ROUNDS = Number(Deno.args[1] ?? 3);
const RATE = Number(Deno.args[2] ?? 2000);
const LATENCY_SECONDS = 10;
const id = crypto.randomUUID().slice(0, 8);
let topics = 0;
const topic = (name: string) => `persistent://public/default/bench-eo-${name}-${id}-${topics++}`;

type Mode = "at-least-once" | "exactly-once";
const MODES: Mode[] = ["at-least-once", "exactly-once"];

function pipe(mode: Mode, source: string, target: string, exitAtEnd: boolean) {
  const eo = mode === "exactly-once";
  const stage = (args: string[]) => ["run", "-A", MAIN, ...args];
  const consume = stage([
    "consume",
    source,
    "-s",
    "bench",
    ...(exitAtEnd ? ["-e"] : []),
    ...(eo ? ["--guarantee", "exactly-once", "--txn-interval", "1s"] : []),
  ]);
  const filter = stage(["filter", "int(event.value.n) >= 0"]);
  const produce = stage(["produce", target, ...(eo ? ["--guarantee", "exactly-once"] : [])]);
  const env = { PULSAR_SERVICE_URL: serviceUrl, NO_COLOR: "1" };
  const a = new Deno.Command("deno", { args: consume, env, stdout: "piped", stderr: "null" })
    .spawn();
  const b = new Deno.Command("deno", {
    args: filter,
    env,
    stdin: "piped",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const c = new Deno.Command("deno", { args: produce, env, stdin: "piped", stderr: "null" })
    .spawn();
  const links = Promise.all([a.stdout.pipeTo(b.stdin), b.stdout.pipeTo(c.stdin)]).catch(() => {});
  return {
    done: Promise.all([a.status, b.status, c.status, links]),
    stop: () => {
      try {
        a.kill("SIGTERM");
      } catch { /* gone */ }
    },
  };
}

async function seed(client: PulsarClient, source: string, n: number): Promise<void> {
  // The subscription exists first, so that the pipe reads everything from the start.
  await (await client.subscribe({ topic: source, subscription: "bench" })).close();
  const producer = await client.createProducer({ topic: source });
  const sends: Promise<unknown>[] = [];
  for (let i = 0; i < n; i++) sends.push(producer.send({ payload: JSON.stringify({ n: i }) }));
  await Promise.all(sends);
  await producer.close();
}

async function throughput(client: PulsarClient, mode: Mode): Promise<number> {
  const source = topic("in"), target = topic("out");
  await seed(client, source, N);
  const started = performance.now();
  const run = pipe(mode, source, target, true);
  const [a, b, c] = await run.done;
  const seconds = (performance.now() - started) / 1000;
  if (!a.success || !b.success || !c.success) throw new Error(`${mode}: the pipe failed`);
  return N / seconds;
}

async function latency(client: PulsarClient, mode: Mode): Promise<{ p50: number; p99: number }> {
  const source = topic("lat-in"), target = topic("lat-out");
  await (await client.subscribe({ topic: source, subscription: "bench" })).close();
  const reader = await client.subscribe({ topic: target, subscription: "lat" });
  const run = pipe(mode, source, target, false);
  const producer = await client.createProducer({ topic: source });
  const total = RATE * LATENCY_SECONDS;
  const delays: number[] = [];
  const reading = (async () => {
    while (delays.length < total) {
      try {
        const msg = await reader.receive(15_000);
        delays.push(Date.now() - (JSON.parse(msg.text()) as { t: number }).t);
        reader.ack(msg);
      } catch (error) {
        if (error instanceof TimeoutError) break;
        throw error;
      }
    }
  })();
  const started = Date.now();
  for (let i = 0; i < total; i++) {
    const due = started + (i * 1000) / RATE;
    const wait = due - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    void producer.send({ payload: JSON.stringify({ n: i, t: Date.now() }) });
  }
  await producer.flush();
  await reading;
  run.stop();
  await run.done;
  await producer.close();
  await reader.close();
  if (delays.length < total) throw new Error(`${mode}: ${delays.length} of ${total} arrived`);
  delays.sort((x, y) => x - y);
  const at = (q: number) => delays[Math.min(delays.length - 1, Math.floor(q * delays.length))];
  return { p50: at(0.5), p99: at(0.99) };
}

const client = new PulsarClient({ serviceUrl });
const rates: Record<Mode, number[]> = { "at-least-once": [], "exactly-once": [] };
const p50: Record<Mode, number[]> = { "at-least-once": [], "exactly-once": [] };
const p99: Record<Mode, number[]> = { "at-least-once": [], "exactly-once": [] };
try {
  for (let round = 0; round < ROUNDS; round++) {
    // Interleaved, and the order alternates, so that a busy moment of the machine hits both.
    const order = round % 2 === 0 ? MODES : [...MODES].reverse();
    for (const mode of order) {
      rates[mode].push(await throughput(client, mode));
      const l = await latency(client, mode);
      p50[mode].push(l.p50);
      p99[mode].push(l.p99);
      console.error(
        `round ${round} ${mode}: ${rates[mode].at(-1)!.toFixed(0)} events/s; ` +
          `latency p50 ${l.p50} ms, p99 ${l.p99} ms`,
      );
    }
  }
} finally {
  await client.close();
}
const row = (mode: Mode) => [
  mode,
  spread(rates[mode], 0),
  spread(p50[mode], 0),
  spread(p99[mode], 0),
];
console.log(
  table(["guarantee", "events/s (range)", "p50 ms (range)", "p99 ms (range)"], [
    row("at-least-once"),
    row("exactly-once"),
  ]),
);
const eo = "exactly-once", alo = "at-least-once";
console.log(
  `exactly-once / at-least-once: throughput ${ratio(rates[eo], rates[alo])}, ` +
    `p99 latency ${ratio(p99[eo], p99[alo])} (N=${N}, ${ROUNDS} rounds, latency at ${RATE}/s)`,
);
