/**
 * The uplink outage with S3 as the uplink: `consume mqtt://… | sink s3 --buffer-dir D` against a
 * private MinIO. Events flow from MQTT (published by `mosquitto_pub`, ten device topics = ten
 * keys), MinIO is killed and stays down while more are published; the sink stores them (its RSS
 * is sampled while it does), is killed with kill -9 once during the outage, and the pipe is
 * started again with MinIO still down. When MinIO returns every event arrives (read back with
 * boto3, objects in listing order: writers sort by start time, a writer's objects by sequence),
 * in order per key; replays after the kill may add duplicates, which are counted. `OUTAGE_S` sets
 * how long MinIO stays down beyond the time the test needs (default 5; the 60 s:
 * `OUTAGE_S=60`).
 */
import assert from "node:assert/strict";
import { runEdgepipe } from "../harness/edgepipe.ts";
import { createBucket, inspectObjects, s3Env, startMinio } from "../harness/minio.ts";
import { startMosquitto } from "../harness/mosquitto.ts";
import {
  auditArrivals,
  checkOutage,
  type DeviceEvent,
  DevicePublisher,
  runOutage,
} from "../harness/outage.ts";

const OUTAGE_S = Number(Deno.env.get("OUTAGE_S") ?? 5);

Deno.test({
  name: "S3 outage: the buffered sink stores, survives kill -9, forwards everything in order",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const minio = await startMinio();
    const mqtt = await startMosquitto();
    const dir = await Deno.makeTempDir({ prefix: "edgepipe-s3-outage-" });
    try {
      const id = crypto.randomUUID().slice(0, 8);
      const bucket = `outage-${id}`;
      await createBucket(minio, bucket);
      const env = { ...s3Env(minio), NO_COLOR: "1" };
      const consume = [
        "consume",
        `mqtt://127.0.0.1:${mqtt.port}/dev/${id}/+`,
        "--client-id",
        `s3-outage-${id}`,
      ];
      // The persistent session exists before the first event is published.
      const created = await runEdgepipe(
        [...consume, "--ack", "on-write", "-e", "--idle", "300ms"],
        {
          env,
        },
      );
      assert.equal(created.code, 0, created.stderr);
      const sink = ["sink", "s3", "--bucket", bucket, "--prefix", "out/", "--format", "ndjson"];
      sink.push("--payload", "value", "--max-age", "500ms", "--max-attempts", "2");
      sink.push("--buffer-dir", `${dir}/buf`, "--stats");
      const arrived = async () =>
        (await inspectObjects(minio, bucket, "out/", true)).flatMap((o) =>
          (o.lines ?? []) as unknown as DeviceEvent[]
        );
      const devices = new DevicePublisher(mqtt.port, `dev/${id}`, 10);
      const run = await runOutage({
        stages: [consume, sink],
        env,
        bufferDir: `${dir}/buf`,
        devices,
        phases: [1000, 2000, 1000],
        outageSeconds: OUTAGE_S,
        arrivedCount: async () => new Set((await arrived()).map((e) => e.n)).size,
        killUplink: () => minio.kill(),
        restoreUplink: () => minio.restart(),
      });
      const events = await arrived();
      checkOutage(run, auditArrivals(events, devices.published), events.length, devices.published);
    } finally {
      await minio.stop();
      await mqtt.stop();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});
