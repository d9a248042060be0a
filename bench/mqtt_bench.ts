/**
 * MQTT and store-and-forward benchmarks, interleaved rounds (median and range of the ratios):
 *
 * 1. The MQTT source against `mosquitto_sub` on the same Mosquitto: QoS 1, draining N messages
 *    queued for a persistent session (each client has its own session on the same filter, filled
 *    by the same publish), and QoS 0, live while `mosquitto_pub -l` publishes N. Figure: messages
 *    per second from the first line out to the last.
 * 2. `produce <topic> --buffer-dir D < file` against `produce <topic> < file` on the shared broker
 *    (`PULSAR_SERVICE_URL`): events per second from start to exit (the buffered run exits once
 *    everything is forwarded).
 *
 * Run: `set -a; . servers.env; set +a; deno run -A bench/mqtt_bench.ts [N] [rounds]`
 * (default 20000 messages, 3 rounds). Results: `bench/mqtt_results.md`.
 */
import { mosquittoPubLines, startMosquitto } from "../test/harness/mosquitto.ts";
import { interleave, ratio, spread } from "./_rounds.ts";
import { edgepipe, timed } from "./_spawn.ts";

const N = Number(Deno.args[0] ?? 20_000);
const ROUNDS = Number(Deno.args[1] ?? 3);
const rate = (t: { firstMs: number; lastMs: number; lines: number }, n: number) => {
  if (t.lines < n) throw new Error(`got ${t.lines} of ${n} lines`);
  return n / ((t.lastMs - t.firstMs) / 1000);
};

const broker = await startMosquitto();
const id = crypto.randomUUID().slice(0, 8);
const filter = `bench/${id}/#`;
const url = `mqtt://127.0.0.1:${broker.port}/${filter}`;
const lines = Array.from({ length: N }, (_, n) => JSON.stringify({ n, site: "north", v: n * 0.5 }));
const ours = (extra: string[]) =>
  edgepipe("consume", url, "--ack", "on-write", "-c", String(N), ...extra);
const theirs = (extra: string[]) => [
  "mosquitto_sub",
  "-h",
  "127.0.0.1",
  "-p",
  String(broker.port),
  "-t",
  filter,
  "-C",
  String(N),
  ...extra,
];
try {
  // Both persistent sessions exist before the first publish.
  await timed(
    edgepipe(
      "consume",
      url,
      "--client-id",
      `ep-${id}`,
      "--ack",
      "on-write",
      "-e",
      "--idle",
      "300ms",
    ),
  );
  await timed(
    theirs(["-q", "1", "-c", "-i", `ms-${id}`, "-E"]).filter((a) => a !== "-C" && a !== String(N)),
  );
  const qos1 = await interleave([
    {
      name: "consume mqtt QoS 1 (queued)",
      run: async () => {
        await mosquittoPubLines(broker.port, `bench/${id}/q1`, lines, 1); // fills both sessions
        return rate(await timed(ours(["--client-id", `ep-${id}`, "--qos", "1"])), N);
      },
    },
    {
      name: "mosquitto_sub QoS 1 (queued)",
      run: async () => rate(await timed(theirs(["-q", "1", "-c", "-i", `ms-${id}`])), N),
    },
  ], ROUNDS);
  const live = async (cmd: string[]) => {
    const running = timed(cmd);
    await new Promise((r) => setTimeout(r, 1500)); // subscribed
    await mosquittoPubLines(broker.port, `bench/${id}/q0`, lines, 0);
    return rate(await running, N);
  };
  const qos0 = await interleave([
    { name: "consume mqtt QoS 0 (live)", run: () => live(ours(["--qos", "0"])) },
    { name: "mosquitto_sub QoS 0 (live)", run: () => live(theirs(["-q", "0"])) },
  ], ROUNDS);

  const file = await Deno.makeTempFile({ suffix: ".ndjson" });
  await Deno.writeTextFile(file, lines.map((l) => `{"value":${l}}`).join("\n") + "\n");
  const topic = `persistent://public/default/bench-buffer-${id}`;
  const spool = await Deno.makeTempDir();
  const produce = async (extra: string[]) => {
    const t = await timed(edgepipe("produce", topic, ...extra), { stdinFile: file });
    return N / (t.exitMs / 1000);
  };
  const buffered = await interleave([
    { name: "produce --buffer-dir", run: (r) => produce(["--buffer-dir", `${spool}/r${r}`]) },
    { name: "produce (direct)", run: () => produce([]) },
  ], ROUNDS);
  await Deno.remove(spool, { recursive: true });
  await Deno.remove(file);

  const row = (label: string, m: Map<string, number[]>, a: string, b: string) =>
    console.log(
      `| ${label} | ${spread(m.get(a)!, 0)} | ${spread(m.get(b)!, 0)} | ${
        ratio(m.get(a)!, m.get(b)!)
      } |`,
    );
  console.log(
    `\n${N} messages, ${ROUNDS} rounds, load ${Deno.loadavg().map((l) => l.toFixed(1)).join(" ")}`,
  );
  console.log("| what | ours /s | baseline /s | ratio |\n| --- | --- | --- | --- |");
  row(
    "MQTT source QoS 1, queued session, vs mosquitto_sub",
    qos1,
    "consume mqtt QoS 1 (queued)",
    "mosquitto_sub QoS 1 (queued)",
  );
  row(
    "MQTT source QoS 0, live, vs mosquitto_sub",
    qos0,
    "consume mqtt QoS 0 (live)",
    "mosquitto_sub QoS 0 (live)",
  );
  row(
    "produce --buffer-dir vs direct produce",
    buffered,
    "produce --buffer-dir",
    "produce (direct)",
  );
} finally {
  await broker.stop();
}
