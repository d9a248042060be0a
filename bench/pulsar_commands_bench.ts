/**
 * The Pulsar commands against the Java client's `bin/pulsar-perf`, on the same broker and topics,
 * in interleaved rounds (A B A B …), printed as per-round ratios (median and range):
 *
 * - `edgepipe consume <topic> -s … -e --ack on-write` (every line written to a pipe and counted)
 *   vs `pulsar-perf consume` of the same topic from the earliest message;
 * - `edgepipe produce <topic> < file` vs `pulsar-perf produce` with the same batching (1 ms,
 *   1,000 messages) and the same 1,000 messages in flight.
 *
 * Rates are steady-state, first message to last, on both sides: pulsar-perf from its own log
 * ("Created producers" / "Start receiving" to "DONE"; its summary divides by the time since the
 * JVM started); `consume` from its first stdout line to its last; `produce` from the moment it
 * has read its first MiB of stdin to its exit (the flush of the last batch included). Whole-command
 * wall rates, start-up included, are printed beside them.
 *
 * ```sh
 * deno run -A bench/pulsar_commands_bench.ts [--messages 200000] [--small-messages 500000]
 *   [--rounds 3] [--sizes 1024,100] [--svg bench/charts/pulsar_commands.svg]
 * ```
 *
 * With `--svg <file>` the ratio table is also drawn as a chart (bench/_svg.ts) to that file.
 *
 * Uses PULSAR_SERVICE_URL (default pulsar://127.0.0.1:6650): start a private broker for it
 * (`deno task broker`) so that other work on a shared broker does not skew one side.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { PulsarClient } from "../lib/pulsar/mod.ts";
import { interleave, machineState, ratio, spread, table } from "./_rounds.ts";
import { edgepipe, pulsarPerf, timed } from "./_spawn.ts";
import { ratioRows } from "./_md_tables.ts";
import { ratioChart } from "./_svg.ts";

const { values } = parseArgs({
  options: {
    messages: { type: "string", default: "200000" },
    "small-messages": { type: "string", default: "500000" },
    rounds: { type: "string", default: "3" },
    sizes: { type: "string", default: "1024,100" },
    svg: { type: "string" },
  },
});
const ROUNDS = Number(values.rounds);
const SIZES = values.sizes!.split(",").map(Number);
const serviceUrl = Deno.env.get("PULSAR_SERVICE_URL") ?? "pulsar://127.0.0.1:6650";
const runId = crypto.randomUUID().slice(0, 8);
const topicName = (name: string) => `persistent://public/default/bench-cmd-${runId}-${name}`;
const messagesFor = (size: number) =>
  size >= 1024 ? Number(values.messages) : Number(values["small-messages"]);

/** A JSON object of exactly `size` bytes: what an edgepipe user's topic holds. */
function payloadJson(n: number, size: number): string {
  const head = `{"n":${n},"origin":"${["SFO", "LAX", "JFK", "ORD"][n % 4]}","pad":"`;
  return head + "x".repeat(Math.max(0, size - head.length - 2)) + `"}`;
}

const work = await Deno.makeTempDir({ prefix: "edgepipe-bench-cmd-" });
const client = new PulsarClient({ serviceUrl });
const rows: string[][] = [];
const wall: string[] = [];
try {
  for (const size of SIZES) {
    const n = messagesFor(size);
    const source = topicName(`in-${size}`);
    // The topic consume reads, filled once by the library client; the file produce reads.
    console.error(`${size} B: filling ${source} with ${n} messages`);
    const producer = await client.createProducer({ topic: source, maxPendingMessages: 1000 });
    const encoder = new TextEncoder();
    const input = `${work}/input-${size}.ndjson`;
    const file = await Deno.open(input, { write: true, create: true });
    let chunk = "";
    for (let i = 0; i < n; i++) {
      const json = payloadJson(i, size);
      await producer.ready();
      producer.send({ payload: encoder.encode(json) });
      chunk += `{"value":${json}}\n`;
      if (chunk.length > 1 << 20) {
        await file.write(encoder.encode(chunk));
        chunk = "";
      }
    }
    await file.write(encoder.encode(chunk));
    file.close();
    await producer.flush();
    await producer.close();

    const consume = await interleave([
      {
        name: `edgepipe consume -e, ${size} B`,
        run: async (round) => {
          const t = await timed(edgepipe(
            "consume",
            source,
            "-s",
            `ours-${round}`,
            "-e",
            "--ack",
            "on-write",
            "--service-url",
            serviceUrl,
          ));
          if (t.lines !== n) throw new Error(`consume wrote ${t.lines} lines, expected ${n}`);
          wall.push(`consume ${size} B round ${round + 1}: ${Math.round(n / (t.exitMs / 1000))}`);
          return n / ((t.lastMs - t.firstMs) / 1000);
        },
      },
      {
        name: `pulsar-perf consume, ${size} B`,
        run: async (round) =>
          (await pulsarPerf("consume", serviceUrl, n, [
            "-ss",
            `java-${round}`,
            "-sp",
            "Earliest",
            "-q",
            "1000",
            source,
          ])).rate,
      },
    ], ROUNDS);
    const [ours, theirs] = [...consume.values()];
    rows.push([
      `\`consume -e\`, ${size} B, ${n} msgs`,
      spread(ours),
      spread(theirs),
      ratio(ours, theirs),
      "≥ 1.0×",
    ]);

    const produce = await interleave([
      {
        name: `edgepipe produce < file, ${size} B`,
        run: async (round) => {
          const t = await timed(
            edgepipe("produce", topicName(`ours-${size}-${round}`), "--service-url", serviceUrl),
            { feed: input },
          );
          wall.push(`produce ${size} B round ${round + 1}: ${Math.round(n / (t.exitMs / 1000))}`);
          return (n - t.fedLines) / ((t.exitMs - t.fedMs) / 1000);
        },
      },
      {
        name: `pulsar-perf produce, ${size} B`,
        run: async (round) =>
          (await pulsarPerf("produce", serviceUrl, n, [
            "-r",
            "10000000",
            "-s",
            String(size),
            "-o",
            "1000",
            "-b",
            "1",
            "-bm",
            "1000",
            topicName(`java-${size}-${round}`),
          ])).rate,
      },
    ], ROUNDS);
    const [oursP, theirsP] = [...produce.values()];
    rows.push([
      `\`produce < file\`, ${size} B, ${n} msgs`,
      spread(oursP),
      spread(theirsP),
      ratio(oursP, theirsP),
      "≥ 1.5×",
    ]);
  }
} finally {
  await client.close();
  await Deno.remove(work, { recursive: true });
}

const machine = `${await machineState()}; ${ROUNDS} interleaved rounds`;
const header = ["path", "edgepipe msg/s", "pulsar-perf msg/s", "ratio (per round)", "goal"];
console.log(`\n${machine}\n`);
console.log(table(header, rows));
if (values.svg) {
  await Deno.writeTextFile(
    values.svg,
    ratioChart({
      title: "edgepipe consume / produce vs pulsar-perf (msg/s, steady state)",
      caption: machine,
      rows: ratioRows({ header, rows }),
    }),
  );
  console.error(`wrote ${values.svg}`);
}
console.log(`\nedgepipe whole-command msg/s (start-up included): ${wall.join("; ")}`);
