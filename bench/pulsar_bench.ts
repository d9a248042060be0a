/**
 * edgepipe's Pulsar client against the official Java client's `bin/pulsar-perf`, on the same
 * broker in the same run: produce and consume throughput with 1 KiB messages (batching on), and
 * publish latency (p50 / p99) at a fixed rate. Prints a table of ratios (≥ 1.0× means edgepipe is
 * at least as good).
 *
 * ```sh
 * deno run -A bench/pulsar_bench.ts [--messages 200000] [--rate 5000] [--seconds 6] [--rounds 3]
 * ```
 *
 * Uses PULSAR_SERVICE_URL (default pulsar://127.0.0.1:6650) and PULSAR_HOME (default the harness
 * cache) for `bin/pulsar-perf`.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { PulsarClient } from "../lib/pulsar/mod.ts";
import { pulsarPerf as pulsarPerfRate } from "./_spawn.ts";

const { values } = parseArgs({
  options: {
    messages: { type: "string", default: "200000" },
    rate: { type: "string", default: "5000" },
    seconds: { type: "string", default: "6" },
    rounds: { type: "string", default: "3" },
  },
});
const N = Number(values.messages);
const RATE = Number(values.rate);
const SECONDS = Number(values.seconds);
const ROUNDS = Number(values.rounds);
const SIZE = 1024;
const serviceUrl = Deno.env.get("PULSAR_SERVICE_URL") ?? "pulsar://127.0.0.1:6650";
const home = Deno.env.get("PULSAR_HOME") ??
  `${Deno.env.get("HOME")}/.cache/edgepipe/apache-pulsar-4.0.8`;
const run = crypto.randomUUID().slice(0, 8);
const topic = (name: string) => `persistent://public/default/bench-${run}-${name}`;
const payload = new Uint8Array(SIZE).map((_, i) => 32 + (i % 90));

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** Runs bin/pulsar-perf and returns its "Aggregated …" summary lines. */
async function pulsarPerf(args: string[]): Promise<string> {
  const out = await new Deno.Command(`${home}/bin/pulsar-perf`, {
    args: [...args.slice(0, 1), "--service-url", serviceUrl, ...args.slice(1)],
    env: { PULSAR_MEM: "-Xmx512m", PULSAR_LOG_LEVEL: "info" },
  }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  const summary = text.split("\n").filter((l) => l.includes("Aggregated")).join("\n");
  if (!summary) throw new Error(`pulsar-perf ${args[0]} printed no summary:\n${text.slice(-3000)}`);
  return summary;
}

function perfLatency(summary: string): { p50: number; p99: number } {
  return {
    p50: Number(/med:\s*([\d.]+)/.exec(summary)?.[1] ?? NaN),
    p99: Number(/99pct:\s*([\d.]+)/.exec(summary)?.[1] ?? NaN),
  };
}

/** Sends N messages as fast as the pending limit allows; returns msg/s. */
async function edgepipeProduce(client: PulsarClient, target: string, count: number) {
  const producer = await client.createProducer({ topic: target, maxPendingMessages: 1000 });
  const started = performance.now();
  let failed = 0;
  for (let i = 0; i < count; i++) {
    await producer.ready();
    producer.send({ payload }).catch(() => failed++);
  }
  await producer.flush();
  const seconds = (performance.now() - started) / 1000;
  await producer.close();
  if (failed > 0) throw new Error(`${failed} sends failed`);
  return count / seconds;
}

/** Sends at a fixed rate for SECONDS; returns publish latency percentiles (ms). */
async function edgepipeLatency(client: PulsarClient, target: string) {
  const producer = await client.createProducer({ topic: target, maxPendingMessages: 1000 });
  const latencies: number[] = [];
  const total = RATE * SECONDS;
  const started = performance.now();
  const pending: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = started + (i * 1000) / RATE;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const sentAt = performance.now();
    pending.push(
      producer.send({ payload }).then(() => {
        latencies.push(performance.now() - sentAt);
      }),
    );
  }
  await Promise.all(pending);
  await producer.close();
  latencies.sort((a, b) => a - b);
  return { p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
}

/** Receives `count` messages from the earliest position; returns msg/s. */
async function edgepipeConsume(client: PulsarClient, target: string, count: number) {
  const consumer = await client.subscribe({
    topic: target,
    subscription: "bench",
    initialPosition: "earliest",
    receiverQueueSize: 1000,
  });
  const started = performance.now();
  for (let i = 0; i < count; i++) consumer.ack(await consumer.receive(30_000));
  const seconds = (performance.now() - started) / 1000;
  await consumer.close();
  return count / seconds;
}

const client = new PulsarClient({ serviceUrl });
const rows: [string, number, number, number][] = [];
try {
  // Everything here shares two cores with whatever else runs: alternate the two clients over a
  // few rounds and compare medians.
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const produced: [number, number][] = [];
  const consumed: [number, number][] = [];
  for (let round = 0; round < ROUNDS; round++) {
    console.error(`round ${round + 1}: produce ${N} × ${SIZE} B (batching on), then consume`);
    const ours = topic(`ours-${round}`), java = topic(`java-${round}`);
    const ourProduce = await edgepipeProduce(client, ours, N);
    // pulsar-perf's real rate from its own log, not its summary (which divides by the time
    // since the JVM started, read at its next 10 s report).
    const theirProduce = (await pulsarPerfRate("produce", serviceUrl, N, [
      "-r",
      "1000000",
      "-s",
      String(SIZE),
      "-o",
      "1000",
      java,
    ])).rate;
    // Each reads the other's topic from the earliest message.
    const ourConsume = await edgepipeConsume(client, java, N);
    const theirConsume = (await pulsarPerfRate("consume", serviceUrl, N, [
      "-ss",
      "bench",
      "-sp",
      "Earliest",
      ours,
    ])).rate;
    produced.push([ourProduce, theirProduce]);
    consumed.push([ourConsume, theirConsume]);
    console.error(
      `  produce ${ourProduce.toFixed(0)} vs ${theirProduce.toFixed(0)}, consume ${
        ourConsume.toFixed(0)
      } vs ${theirConsume.toFixed(0)} msg/s`,
    );
  }
  const produceRates = [median(produced.map((p) => p[0])), median(produced.map((p) => p[1]))];
  const consumeRates = [median(consumed.map((c) => c[0])), median(consumed.map((c) => c[1]))];
  rows.push([
    "produce msg/s (median of rounds)",
    produceRates[0],
    produceRates[1],
    produceRates[0] / produceRates[1],
  ]);
  rows.push([
    "consume msg/s (median of rounds)",
    consumeRates[0],
    consumeRates[1],
    consumeRates[0] / consumeRates[1],
  ]);

  // Latency is sensitive to whatever else the machine does: alternate the two clients over a few
  // rounds and compare the medians.
  console.error(`publish latency at ${RATE} msg/s, ${ROUNDS} alternating rounds of ${SECONDS} s`);
  const ours: { p50: number; p99: number }[] = [];
  const theirs: { p50: number; p99: number }[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    ours.push(await edgepipeLatency(client, topic(`lat-ours-${round}`)));
    theirs.push(perfLatency(
      await pulsarPerf([
        "produce",
        "-r",
        String(RATE),
        "-time",
        String(SECONDS),
        "-s",
        String(SIZE),
        topic(`lat-java-${round}`),
      ]),
    ));
    console.error(
      `  round ${round + 1}: edgepipe ${JSON.stringify(ours.at(-1))}, java ${
        JSON.stringify(theirs.at(-1))
      }`,
    );
  }
  const p50 = [median(ours.map((l) => l.p50)), median(theirs.map((l) => l.p50))];
  const p99 = [median(ours.map((l) => l.p99)), median(theirs.map((l) => l.p99))];
  rows.push(["publish p50 ms (median of rounds)", p50[0], p50[1], p50[1] / p50[0]]);
  rows.push(["publish p99 ms (median of rounds)", p99[0], p99[1], p99[1] / p99[0]]);
} finally {
  await client.close();
}

const fmt = (n: number) => (n >= 100 ? n.toFixed(0) : n.toFixed(2));
console.log(
  "| metric | edgepipe | pulsar-perf (Java) | ratio (≥ 1.0× is edgepipe as good or better) |",
);
console.log("| --- | ---: | ---: | ---: |");
for (const [metric, ours, theirs, ratio] of rows) {
  console.log(`| ${metric} | ${fmt(ours)} | ${fmt(theirs)} | ${ratio.toFixed(2)}× |`);
}
