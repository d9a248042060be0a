/**
 * What the shell pipeline costs: events/s through `edgepipe consume | edgepipe produce` (two
 * processes, NDJSON over a pipe, acks back over the Unix socket) next to the Pulsar client used
 * in one process (produce only, consume+ack only, and consume → produce → ack in a loop).
 *
 * Run: deno run -A bench/pipe_throughput.ts [events]   (PULSAR_SERVICE_URL, default local broker)
 *
 * @module
 */
import { PulsarClient } from "../lib/pulsar/mod.ts";

const MAIN = new URL("../cli/main.ts", import.meta.url).pathname;
const serviceUrl = Deno.env.get("PULSAR_SERVICE_URL") ?? "pulsar://127.0.0.1:6650";
const N = Number(Deno.args[0] ?? 100_000);
const id = crypto.randomUUID().slice(0, 8);
const topic = (name: string) => `persistent://public/default/bench-pipe-${name}-${id}`;
const payload = (n: number) =>
  JSON.stringify({ n, origin: ["SFO", "LAX", "JFK", "ORD"][n % 4], delay: n % 97, distance: 1234 });

const results: [string, number, number][] = [];
const record = (name: string, seconds: number) => {
  results.push([name, N, seconds]);
  console.error(`  ${name}: ${(N / seconds).toFixed(0)} events/s`);
};

const client = new PulsarClient({ serviceUrl });
try {
  // 1. In-process produce.
  const source = topic("in");
  let started = performance.now();
  const producer = await client.createProducer({ topic: source });
  const sends: Promise<unknown>[] = [];
  for (let n = 0; n < N; n++) {
    sends.push(producer.send({ payload: payload(n), key: `k${n % 101}` }));
  }
  await Promise.all(sends);
  await producer.close();
  record("client: produce", (performance.now() - started) / 1000);

  // 2. In-process consume + ack.
  started = performance.now();
  const consumer = await client.subscribe({
    topic: source,
    subscription: "bench-read",
    initialPosition: "earliest",
  });
  for (let n = 0; n < N; n++) consumer.ack(await consumer.receive());
  await consumer.flushAcks();
  await consumer.close();
  record("client: consume + ack", (performance.now() - started) / 1000);

  // 3. In-process consume → produce → ack on the broker's receipt.
  started = performance.now();
  const copyIn = await client.subscribe({
    topic: source,
    subscription: "bench-copy",
    initialPosition: "earliest",
  });
  const copyOut = await client.createProducer({ topic: topic("copy") });
  const pending: Promise<void>[] = [];
  for (let n = 0; n < N; n++) {
    const msg = await copyIn.receive();
    pending.push(
      copyOut.send({ payload: msg.payload, ...(msg.key ? { key: msg.key } : {}) })
        .then(() => copyIn.ack(msg)),
    );
    if (pending.length >= 1000) await Promise.all(pending.splice(0));
  }
  await Promise.all(pending);
  await copyIn.flushAcks();
  await copyIn.close();
  await copyOut.close();
  record("client: consume → produce → ack", (performance.now() - started) / 1000);

  // 4. The shell pipeline, with and without the ack channel: the median of three runs each,
  // since the machine is shared.
  for (
    const [name, consumeArgs] of [
      ["edgepipe consume \\| edgepipe produce (acks downstream)", []],
      ["edgepipe consume --ack on-write \\| edgepipe produce", ["--ack", "on-write"]],
    ] as const
  ) {
    const times: number[] = [];
    for (let round = 0; round < 3; round++) {
      started = performance.now();
      const env = { PULSAR_SERVICE_URL: serviceUrl };
      const consume = new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          MAIN,
          "consume",
          source,
          "-s",
          `bench-shell-${results.length}-${round}`,
          ...consumeArgs,
          "-e",
        ],
        env,
        stdout: "piped",
        stderr: "inherit",
      }).spawn();
      const produce = new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", MAIN, "produce", topic(`out-${results.length}-${round}`)],
        env,
        stdin: "piped",
        stdout: "inherit",
        stderr: "inherit",
      }).spawn();
      await consume.stdout.pipeTo(produce.stdin);
      const codes = [(await consume.status).code, (await produce.status).code];
      if (codes.some((c) => c !== 0)) throw new Error(`${name}: exit codes ${codes}`);
      times.push((performance.now() - started) / 1000);
    }
    record(name, times.sort((a, b) => a - b)[1]);
  }
} finally {
  await client.close();
}

const header = ["path", "events", "seconds", "events/s"];
const rows = results.map(([name, n, s]) => [
  name,
  n.toLocaleString("en-US"),
  s.toFixed(2),
  Math.round(n / s).toLocaleString("en-US"),
]);
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
const line = (cells: string[]) =>
  `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(" | ")} |`;
console.log(
  `\nconsume | produce vs the in-process client, ${
    N.toLocaleString("en-US")
  } events of ~80 bytes, ` +
    `${navigator.hardwareConcurrency} cores, deno ${Deno.version.deno}` +
    `\n(process rows include process start-up, about 0.3 s each)\n`,
);
console.log(line(header));
console.log(
  `|${widths.map((w, i) => (i === 0 ? "-".repeat(w + 2) : "-".repeat(w + 1) + ":")).join("|")}|`,
);
for (const row of rows) console.log(line(row));
