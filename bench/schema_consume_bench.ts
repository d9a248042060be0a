/**
 * Consume throughput with Avro decoding (`consume --schema auto`) against the JSON path (the same
 * records as schemaless JSON payloads) and against the Java client's `bin/pulsar-perf consume` on
 * the same Avro topic. A Java producer (Schema.AVRO of a POJO with eight fields) writes both
 * topics once; each round then reads every message from the earliest on a new subscription:
 * edgepipe's consume session (envelopes built and serialized as the command writes them) on the
 * Avro topic, on the JSON topic, and pulsar-perf on the Avro topic (raw bytes, timed from its own
 * log). Rounds are interleaved; prints medians with ranges and per-round ratios.
 *
 * ```sh
 * set -a; . servers.env; set +a   # PULSAR_SERVICE_URL
 * deno run -A bench/schema_consume_bench.ts [--messages 100000] [--rounds 3]
 * ```
 *
 * Results: bench/schema_results.md.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { PulsarClient } from "../lib/pulsar/mod.ts";
import { ConsumeSession } from "../lib/sources/consume/consume_session.ts";
import { javaProgram } from "../test/harness/java_client.ts";
import { pulsarPerf } from "./_spawn.ts";
import { interleave, machineState, ratio, spread, table } from "./_rounds.ts";

const { values } = parseArgs({
  options: {
    messages: { type: "string", default: "100000" },
    rounds: { type: "string", default: "3" },
  },
});
const N = Number(values.messages);
const ROUNDS = Number(values.rounds);
const serviceUrl = Deno.env.get("PULSAR_SERVICE_URL") ?? "pulsar://127.0.0.1:6650";
const run = crypto.randomUUID().slice(0, 8);
const avroTopic = `persistent://public/default/bench-schema-${run}-avro`;
const jsonTopic = `persistent://public/default/bench-schema-${run}-json`;

const java = javaProgram(
  new URL("../test/integration/java/SchemaInterop.java", import.meta.url).pathname,
  "SchemaInterop",
);
console.error(`writing ${N} Avro and ${N} JSON readings with the Java client…`);
await java(["bench", serviceUrl, avroTopic, jsonTopic, String(N)]);

const client = new PulsarClient({ serviceUrl });

/** Reads all N from the earliest on a new subscription; msg/s from the first message on. */
async function edgepipeConsume(topic: string, round: number): Promise<number> {
  const session = await ConsumeSession.open(client, {
    topics: [topic],
    subscription: `bench-${round}-${crypto.randomUUID().slice(0, 6)}`,
    ack: "on-write",
    limit: N,
    log: () => {},
  });
  let start = 0;
  let bytes = 0;
  let count = 0;
  for await (const envelope of session.envelopes()) {
    if (count++ === 0) start = performance.now();
    bytes += JSON.stringify(envelope).length + 1;
    session.ack(envelope.id!);
  }
  const seconds = (performance.now() - start) / 1000;
  await session.close();
  if (count !== N || bytes === 0) throw new Error(`read ${count} of ${N} messages`);
  return (N - 1) / seconds;
}

const results = await interleave([
  { name: "edgepipe avro", run: (r) => edgepipeConsume(avroTopic, r) },
  { name: "edgepipe json", run: (r) => edgepipeConsume(jsonTopic, r) },
  {
    name: "pulsar-perf avro",
    run: async (r) =>
      (await pulsarPerf("consume", serviceUrl, N, [
        "-ss",
        `perf-${r}`,
        "-sp",
        "Earliest",
        avroTopic,
      ])).rate,
  },
], ROUNDS);
await client.close();

const avro = results.get("edgepipe avro")!;
const json = results.get("edgepipe json")!;
const perf = results.get("pulsar-perf avro")!;
console.log(`${N} messages per read, ${ROUNDS} interleaved rounds; ${await machineState()}\n`);
console.log(table(["read", "msg/s median (range)"], [
  ["edgepipe consume --schema auto, Avro topic", spread(avro)],
  ["edgepipe consume, same records as JSON", spread(json)],
  ["pulsar-perf consume, Avro topic (no decoding)", spread(perf)],
]));
console.log();
console.log(table(["ratio (per round)", "median (range)"], [
  ["Avro decoding / JSON path", ratio(avro, json)],
  ["Avro decoding / pulsar-perf", ratio(avro, perf)],
]));
