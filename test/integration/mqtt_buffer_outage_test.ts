/**
 * The uplink outage: `consume mqtt://… | produce <topic> --buffer-dir D` on a private broker.
 * Events flow from MQTT (published by `mosquitto_pub`, ten device topics = ten keys), the broker
 * is killed and stays down while more are published; produce stores them (its RSS is sampled
 * while it does), is killed with kill -9 once during the outage, and the pipe is started again
 * with the broker still down. When the broker returns every event arrives (read back by the Java
 * client), in order per key (each key's events first appear in publish order; replays after the
 * kill may add duplicates, which are counted). `OUTAGE_S` sets how long the broker stays down
 * beyond the time the test needs (default 5; the 60 s: `OUTAGE_S=60`).
 */
import assert from "node:assert/strict";
import { runEdgepipe } from "../harness/edgepipe.ts";
import { startMosquitto } from "../harness/mosquitto.ts";
import {
  auditArrivals,
  bufferSettled,
  type DeviceEvent,
  DevicePublisher,
  rssKiB,
  segmentBytes,
  waitUntil,
} from "../harness/outage.ts";
import { javaReadPayloads, readPayloads } from "../harness/output_audit.ts";
import { startBroker } from "../harness/pulsar.ts";
import { startShellPipe } from "../harness/shell_pipe.ts";
import { publishedCount } from "../harness/topic_stats.ts";

const KEYS = 10;
const PHASES = [1000, 2000, 1000]; // before the outage, during it, after produce's kill -9
const OUTAGE_S = Number(Deno.env.get("OUTAGE_S") ?? 5);

Deno.test({
  name: "uplink outage: the buffered sink stores, survives kill -9, forwards everything in order",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const broker = await startBroker({ heapMiB: 512 });
    const mqtt = await startMosquitto();
    const dir = await Deno.makeTempDir({ prefix: "edgepipe-outage-" });
    try {
      const id = crypto.randomUUID().slice(0, 8);
      const source = `mqtt://127.0.0.1:${mqtt.port}/dev/${id}/+`;
      const target = `persistent://public/default/outage-${id}`;
      const env = { PULSAR_SERVICE_URL: broker.serviceUrl, NO_COLOR: "1" };
      const consume = ["consume", source, "--client-id", `outage-${id}`];
      const created = await runEdgepipe(
        [...consume, "--ack", "on-write", "-e", "--idle", "300ms"],
        {
          env,
        },
      );
      assert.equal(created.code, 0, created.stderr);
      const stages = [consume, ["produce", target, "--buffer-dir", `${dir}/buf`, "--stats"]];
      const devices = new DevicePublisher(mqtt.port, `dev/${id}`, KEYS);

      let pipe = await startShellPipe(stages, { env });
      await devices.publish(PHASES[0]);
      await waitUntil(
        "the first events on the topic",
        60_000,
        async () => await publishedCount(broker.adminUrl, target) >= PHASES[0],
      );

      await broker.kill(); // the uplink goes away
      const before = await segmentBytes(`${dir}/buf`);
      const producePid = await pipe.pid(1);
      const rss: number[] = [await rssKiB(producePid)];
      const sampler = setInterval(async () => rss.push(await rssKiB(producePid)), 250);
      await devices.publish(PHASES[1]);
      const stored = await bufferSettled(`${dir}/buf`, before + 1);
      clearInterval(sampler);
      assert.ok(await pipe.signal(1, "SIGKILL"), "produce was running when killed");
      // consume sees the pipe break only at its next write: stop it (what produce never
      // reported stays unacknowledged at the MQTT broker).
      await pipe.signal(0, "SIGTERM");
      const killed = await pipe.done;
      assert.equal(killed.codes[1], 137);

      pipe = await startShellPipe(stages, { env }); // broker still down
      await devices.publish(PHASES[2]);
      await bufferSettled(`${dir}/buf`, stored + 1);
      await new Promise((r) => setTimeout(r, OUTAGE_S * 1000));

      await broker.restart();
      const total = PHASES.reduce((a, b) => a + b, 0);
      await waitUntil("every event on the topic", 180_000, async () => {
        const ns = new Set((await readPayloads(target, env)).map((p) => JSON.parse(p).n));
        return ns.size === total;
      });
      await pipe.signal(0, "SIGTERM");
      const last = await pipe.done;
      assert.deepEqual(last.codes, [143, 0], last.stderr.join("\n"));

      // The broker's counters restarted with it: count the topic's messages by reading them.
      const published = (await readPayloads(target, env)).length;
      const payloads = (await javaReadPayloads(broker.serviceUrl, target, published)).map((p) =>
        JSON.parse(p) as DeviceEvent
      );
      const audit = auditArrivals(payloads, total);
      const growthMiB = (Math.max(...rss) - rss[0]) / 1024;
      console.log(
        `    ${total} events; ${published} on the topic, ${audit.distinct} distinct, ` +
          `${audit.duplicates} duplicates, ${audit.missing.length} missing; buffer ${stored} bytes at the kill; produce RSS ` +
          `${Math.round(rss[0] / 1024)} → max ${Math.round(Math.max(...rss) / 1024)} MiB ` +
          `(${rss.length} samples while buffering)`,
      );
      assert.deepEqual(audit.missing, []);
      assert.ok(stored > before, "the outage's events went to the buffer");
      assert.ok(growthMiB < 64, `produce RSS grew ${growthMiB.toFixed(1)} MiB while buffering`);
      assert.match(
        last.stderr[1] + killed.stderr[1],
        /destination unreachable|forwarding them first/,
      );
    } finally {
      await broker.stop();
      await mqtt.stop();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});
