/**
 * `consume mqtt://… | score --model models/flight-delay | produce <pulsar topic>`: QoS 1 messages
 * published by `mosquitto_pub` into a persistent MQTT session, and `kill -9` of a random process
 * of the pipe at random moments (each checked to land mid-stream); the whole pipe is started
 * again with the same client id. Every message arrives in the output topic (read back by the Java
 * client): duplicates are counted, none may be missing. The 100k version is
 * `bench/mqtt_kill_bench.ts`.
 */
import assert from "node:assert/strict";
import { runEdgepipe } from "../harness/edgepipe.ts";
import { killPipe } from "../harness/kill_pipe.ts";
import { mosquittoPubLines, startMosquitto } from "../harness/mosquitto.ts";
import { javaReadPayloads, readPayloads, tally } from "../harness/output_audit.ts";
import { pulsarUrls } from "../harness/pulsar.ts";
import { publishedCount } from "../harness/topic_stats.ts";

const EVENTS = Number(Deno.env.get("MQTT_KILL_EVENTS") ?? 8_000);
const KILLS = Number(Deno.env.get("MQTT_KILL_KILLS") ?? 4);
const SAMPLE = new URL("../../models/flight-delay/sample.ndjson", import.meta.url);
const MODEL = new URL("../../models/flight-delay", import.meta.url).pathname;

Deno.test({
  name: "kill -9 of any process of consume mqtt | score | produce loses no QoS 1 message",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const broker = await startMosquitto();
    try {
      const { serviceUrl, adminUrl } = await pulsarUrls();
      const env = { PULSAR_SERVICE_URL: serviceUrl, NO_COLOR: "1" };
      const id = crypto.randomUUID().slice(0, 8);
      const filter = `plant/${id}/#`;
      const source = `mqtt://127.0.0.1:${broker.port}/${filter}`;
      const target = `persistent://public/default/mqtt-kill-out-${id}`;
      const clientId = `kill-${id}`;
      // The persistent session exists before anything is published: the broker queues for it.
      const created = await runEdgepipe(
        ["consume", source, "--client-id", clientId, "--ack", "on-write", "-e", "--idle", "300ms"],
        { env },
      );
      assert.equal(created.code, 0, created.stderr);
      const flights = (await Deno.readTextFile(SAMPLE)).trimEnd().split("\n").map((line) =>
        JSON.parse(line)
      );
      const values = Array.from({ length: EVENTS }, (_, n) => {
        const { eventTime, value } = flights[n % flights.length];
        return JSON.stringify({ n, t: eventTime, ...value });
      });
      await mosquittoPubLines(broker.port, `plant/${id}/flights`, values, 1);

      const identities = (payloads: string[]) =>
        payloads.map((p) => (JSON.parse(p) as { n: number }).n);
      const expected = values.map((_, n) => n);
      const kill = await killPipe({
        stages: [
          [
            "consume",
            source,
            "--client-id",
            clientId,
            "--time-field",
            "t",
            "-e",
            "--idle",
            "3s",
            "--ack-timeout",
            "10s",
          ],
          ["score", "--model", MODEL, "--batch", "64"],
          ["produce", target, "--max-in-flight", "50", "--batch-max-messages", "1"],
        ],
        env,
        victim: (_round, random) => Math.floor(random() * 3),
        kills: KILLS,
        progress: () => publishedCount(adminUrl, target),
        accounted: async () =>
          tally(expected, identities(await readPayloads(target, env))).distinct,
        total: EVENTS,
        runTimeoutMs: Math.max(120_000, EVENTS * 10),
      });
      const published = await publishedCount(adminUrl, target);
      const payloads = await javaReadPayloads(serviceUrl, target, published);
      const output = tally(expected, identities(payloads));
      console.log(
        `    ${EVENTS} published to MQTT; ${published} in the output topic, ${output.distinct} ` +
          `distinct, ${output.duplicates} duplicates, ${output.missing.length} missing; kills: ` +
          kill.rounds.map((r) => `${r.stage}${r.midStream ? "" : "(not mid-stream)"}`).join(" "),
      );
      assert.equal(kill.midStreamKills, KILLS, "every kill must land mid-stream");
      assert.deepEqual(kill.last.codes, [0, 0, 0], kill.last.stderr.join("\n"));
      assert.equal(payloads.length, published);
      assert.deepEqual(output.missing.slice(0, 10), [], `${output.missing.length} missing`);
      assert.deepEqual(output.unexpected, []);
      assert.equal(output.distinct, EVENTS);
      // Everything was acknowledged: a new run of the session gets nothing.
      const after = await runEdgepipe(
        ["consume", source, "--client-id", clientId, "--ack", "on-write", "-e", "--idle", "1s"],
        { env },
      );
      assert.equal(after.code, 0, after.stderr);
      assert.equal(after.stdout, "", "the session still held messages after the last run");
    } finally {
      await broker.stop();
    }
  },
});
