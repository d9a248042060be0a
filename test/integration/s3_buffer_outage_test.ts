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
  bufferSettled,
  type DeviceEvent,
  DevicePublisher,
  rssKiB,
  segmentBytes,
  waitUntil,
} from "../harness/outage.ts";
import { startShellPipe } from "../harness/shell_pipe.ts";

const KEYS = 10;
const PHASES = [1000, 2000, 1000]; // before the outage, during it, after the sink's kill -9
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
      const sink = [
        "sink",
        "s3",
        "--bucket",
        bucket,
        "--prefix",
        "out/",
        "--format",
        "ndjson",
        "--payload",
        "value",
        "--max-age",
        "500ms",
        "--max-attempts",
        "2",
        "--buffer-dir",
        `${dir}/buf`,
        "--stats",
      ];
      const stages = [consume, sink];
      const devices = new DevicePublisher(mqtt.port, `dev/${id}`, KEYS);
      const arrived = async () =>
        (await inspectObjects(minio, bucket, "out/", true)).flatMap((o) =>
          (o.lines ?? []) as unknown as DeviceEvent[]
        );

      let pipe = await startShellPipe(stages, { env });
      await devices.publish(PHASES[0]);
      await waitUntil(
        "the first events in the bucket",
        60_000,
        async () => new Set((await arrived()).map((e) => e.n)).size >= PHASES[0],
      );

      await minio.kill(); // the uplink goes away
      const before = await segmentBytes(`${dir}/buf`);
      const sinkPid = await pipe.pid(1);
      const rss: number[] = [await rssKiB(sinkPid)];
      const sampler = setInterval(async () => rss.push(await rssKiB(sinkPid)), 250);
      await devices.publish(PHASES[1]);
      const stored = await bufferSettled(`${dir}/buf`, before + 1);
      clearInterval(sampler);
      assert.ok(await pipe.signal(1, "SIGKILL"), "the sink was running when killed");
      // consume sees the pipe break only at its next write: stop it (what the sink never
      // reported stays unacknowledged at the MQTT broker).
      await pipe.signal(0, "SIGTERM");
      const killed = await pipe.done;
      assert.equal(killed.codes[1], 137);

      pipe = await startShellPipe(stages, { env }); // MinIO still down
      await devices.publish(PHASES[2]);
      await bufferSettled(`${dir}/buf`, stored + 1);
      await new Promise((r) => setTimeout(r, OUTAGE_S * 1000));
      assert.equal(pipe.finished, false, "the sink waits for S3 instead of failing");

      await minio.restart();
      const total = devices.published;
      await waitUntil(
        "every event in the bucket",
        180_000,
        async () => new Set((await arrived()).map((e) => e.n)).size === total,
      );
      await pipe.signal(0, "SIGTERM");
      const last = await pipe.done;
      assert.deepEqual(last.codes, [143, 0], last.stderr.join("\n"));

      const events = await arrived();
      const audit = auditArrivals(events, total);
      const growthMiB = (Math.max(...rss) - rss[0]) / 1024;
      console.log(
        `    ${total} events; ${events.length} in the bucket, ${audit.distinct} distinct, ` +
          `${audit.duplicates} duplicates, ${audit.missing.length} missing; buffer ${stored} ` +
          `bytes at the kill; sink RSS ${Math.round(rss[0] / 1024)} → max ` +
          `${Math.round(Math.max(...rss) / 1024)} MiB (${rss.length} samples while buffering)`,
      );
      assert.deepEqual(audit.missing, []);
      assert.ok(stored > before, "the outage's events went to the buffer");
      assert.ok(growthMiB < 64, `sink RSS grew ${growthMiB.toFixed(1)} MiB while buffering`);
      assert.match(
        last.stderr[1] + killed.stderr[1],
        /destination unreachable|not delivered|forwarding them first/,
      );
    } finally {
      await minio.stop();
      await mqtt.stop();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});
