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
  checkOutage,
  type DeviceEvent,
  DevicePublisher,
  runOutage,
} from "../harness/outage.ts";
import { javaReadPayloads, readPayloads } from "../harness/output_audit.ts";
import { startBroker } from "../harness/pulsar.ts";

const KEYS = 10;
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
      // The persistent session exists before the first event is published.
      const created = await runEdgepipe(
        [...consume, "--ack", "on-write", "-e", "--idle", "300ms"],
        {
          env,
        },
      );
      assert.equal(created.code, 0, created.stderr);
      const stages = [consume, ["produce", target, "--buffer-dir", `${dir}/buf`, "--stats"]];
      const devices = new DevicePublisher(mqtt.port, `dev/${id}`, KEYS);

      const run = await runOutage({
        stages,
        env,
        bufferDir: `${dir}/buf`,
        devices,
        phases: [1000, 2000, 1000],
        outageSeconds: OUTAGE_S,
        arrivedCount: async () =>
          new Set((await readPayloads(target, env)).map((p) => JSON.parse(p).n)).size,
        killUplink: () => broker.kill(),
        restoreUplink: () => broker.restart(),
      });
      // The broker's counters restarted with it: count the topic's messages by reading them.
      const published = (await readPayloads(target, env)).length;
      const payloads = (await javaReadPayloads(broker.serviceUrl, target, published)).map((p) =>
        JSON.parse(p) as DeviceEvent
      );
      checkOutage(run, auditArrivals(payloads, devices.published), published, devices.published);
    } finally {
      await broker.stop();
      await mqtt.stop();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});
