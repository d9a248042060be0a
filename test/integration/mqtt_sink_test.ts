/**
 * `edgepipe produce mqtt://…` against a real Mosquitto, read back by `mosquitto_sub` (the
 * independent peer) from a persistent session made before anything is published: topics from a
 * template, QoS 1, retain, user properties and content type, and events without the template's
 * field (skipped with a message, exit 1; or the run fails).
 */
import assert from "node:assert/strict";
import { runEdgepipe } from "../harness/edgepipe.ts";
import { run } from "../harness/process.ts";
import { startMosquitto } from "../harness/mosquitto.ts";

Deno.test({
  name: "mqtt sink: topic template, QoS 1, properties, retain; a missing field is --on-error's",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const broker = await startMosquitto();
    try {
      const id = crypto.randomUUID().slice(0, 8);
      const sub = (extra: string[]) =>
        run("mosquitto_sub", [
          "-h",
          "127.0.0.1",
          "-p",
          String(broker.port),
          "-V",
          "mqttv5",
          "-q",
          "1",
          "-c",
          "-i",
          `ref-${id}`,
          "-x",
          "600",
          "-t",
          `alerts/${id}/#`,
          ...extra,
        ]);
      const made = await sub(["-E"]); // the session and its subscription, before any publish
      assert.ok(made.ok, made.output);
      const events = [
        {
          id: "e1",
          key: "k",
          value: { site: "SFO", level: 3 },
          properties: { shift: "night", "mqtt.qos": "1" },
        },
        { id: "e2", value: { level: 9 } }, // no site
        { id: "e3", value: { site: "LAX", level: 1, keep: true }, score: { p: 0.5 } },
      ];
      const input = events.map((e) => JSON.stringify(e)).join("\n") + "\n";
      const target = `mqtt://127.0.0.1:${broker.port}/alerts/${id}/{value.site}`;
      // Not under the reference subscription: what it sent before failing does not count here.
      const elsewhere = `mqtt://127.0.0.1:${broker.port}/failed/${id}/{value.site}`;
      const failed = await runEdgepipe(["produce", elsewhere], { stdin: input });
      assert.equal(failed.code, 1);
      assert.match(failed.stderr, /field 'value\.site' is missing in event e2/);
      const skipped = await runEdgepipe(
        [
          "produce",
          target,
          "--on-error",
          "skip",
          "--property",
          "from=edgepipe",
          "--content-type",
          "application/json",
          "--retain-field",
          "value.keep",
        ],
        { stdin: input },
      );
      assert.equal(skipped.code, 1, skipped.stderr);
      assert.match(skipped.stderr, /skipped event e2/);
      const got = await sub(["-C", "2", "-W", "10", "-F", "%t|%q|%r|%C|%P|%p"]);
      assert.ok(got.ok, got.output);
      const lines = got.output.trimEnd().split("\n");
      assert.equal(lines.length, 2, got.output);
      const [t1, q1, r1, c1, p1, body1] = lines[0].split("|");
      assert.equal(t1, `alerts/${id}/SFO`);
      assert.equal(q1, "1");
      assert.equal(r1, "0");
      assert.equal(c1, "application/json");
      assert.equal(p1, "from:edgepipe shift:night"); // mosquitto_sub joins them with a space
      assert.deepEqual(JSON.parse(body1), { site: "SFO", level: 3 });
      const [t3, , , , , body3] = lines[1].split("|");
      assert.equal(t3, `alerts/${id}/LAX`);
      assert.deepEqual(JSON.parse(body3), { site: "LAX", level: 1, keep: true, score: { p: 0.5 } });
      // e3 was retained (value.keep): a new subscriber gets it, flagged.
      const retained = await run("mosquitto_sub", [
        "-h",
        "127.0.0.1",
        "-p",
        String(broker.port),
        "-t",
        `alerts/${id}/LAX`,
        "-C",
        "1",
        "-W",
        "5",
        "-F",
        "%r|%p",
      ]);
      assert.equal(retained.output.trim().split("|")[0], "1");
    } finally {
      await broker.stop();
    }
  },
});
