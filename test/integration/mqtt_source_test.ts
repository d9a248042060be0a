/**
 * `edgepipe consume mqtt://…` against a real Mosquitto, with `mosquitto_pub` as the publisher:
 * envelopes (topic, QoS, retain, MQTT 5 user properties, content type, response topic),
 * wildcards, MQTT 3.1.1, TLS, a password file, acknowledgements held until delivery (what no
 * terminal reported is redelivered to the same session after kill -9), and bad input.
 */
import assert from "node:assert/strict";
import { runEdgepipe, startEdgepipe } from "../harness/edgepipe.ts";
import {
  mosquittoPub,
  mosquittoPubLines,
  type RunningMosquitto,
  startMosquitto,
} from "../harness/mosquitto.ts";

let broker: RunningMosquitto;
const env = { NO_COLOR: "1" };
const uid = () => crypto.randomUUID().slice(0, 8);

async function consumeJson(args: string[], extraEnv: Record<string, string> = {}) {
  const run = await runEdgepipe(["consume", ...args], { env: { ...env, ...extraEnv } });
  const lines = run.stdout === "" ? [] : run.stdout.trimEnd().split("\n").map((l) => JSON.parse(l));
  return { ...run, lines };
}

/** Starts a consume that creates its session, then waits until the broker has the subscription. */
async function sessionReady(url: string, clientId: string, extra: string[] = []) {
  const created = await consumeJson([
    url,
    "--client-id",
    clientId,
    "--ack",
    "on-write",
    "-e",
    "--idle",
    "300ms",
    ...extra,
  ]);
  assert.equal(created.code, 0, created.stderr);
}

Deno.test({
  name: "mqtt source",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    broker = await startMosquitto();
    const plain = (topic: string) => `mqtt://127.0.0.1:${broker.port}/${topic}`;
    try {
      await t.step(
        "MQTT 5 envelope: user properties, content type, response topic, retain, wildcards",
        async () => {
          const id = uid();
          await sessionReady(plain(`s/${id}/+/temp`), `env-${id}`);
          await mosquittoPub([
            "-h",
            "127.0.0.1",
            "-p",
            String(broker.port),
            "-V",
            "mqttv5",
            "-q",
            "1",
            "-t",
            `s/${id}/dev1/temp`,
            "-m",
            '{"c":21.5}',
            "-D",
            "publish",
            "user-property",
            "site",
            "north",
            "-D",
            "publish",
            "content-type",
            "application/json",
            "-D",
            "publish",
            "response-topic",
            "replies/dev1",
          ]);
          await mosquittoPub([
            "-h",
            "127.0.0.1",
            "-p",
            String(broker.port),
            "-q",
            "1",
            "-t",
            `s/${id}/dev1/hum`,
            "-m",
            "not matched",
          ]);
          await mosquittoPub([
            "-h",
            "127.0.0.1",
            "-p",
            String(broker.port),
            "-q",
            "1",
            "-t",
            `s/${id}/dev2/temp`,
            "-m",
            "plain text",
          ]);
          const got = await consumeJson([
            plain(`s/${id}/+/temp`),
            "--client-id",
            `env-${id}`,
            "--ack",
            "on-write",
            "-c",
            "2",
          ]);
          assert.equal(got.code, 0, got.stderr);
          assert.equal(got.lines.length, 2);
          assert.equal(got.lines[0].topic, `s/${id}/dev1/temp`);
          assert.equal(got.lines[0].key, `s/${id}/dev1/temp`);
          assert.deepEqual(got.lines[0].value, { c: 21.5 });
          assert.deepEqual(got.lines[0].properties, {
            site: "north",
            "mqtt.qos": "1",
            "mqtt.contentType": "application/json",
            "mqtt.responseTopic": "replies/dev1",
          });
          assert.equal(got.lines[1].value, "plain text");
          // A retained message comes to a new subscriber, flagged.
          await mosquittoPub([
            "-h",
            "127.0.0.1",
            "-p",
            String(broker.port),
            "-q",
            "1",
            "-r",
            "-t",
            `r/${id}`,
            "-m",
            "7",
          ]);
          const retained = await consumeJson([
            plain(`r/${id}`),
            "--ack",
            "on-write",
            "-c",
            "1",
            "--payload",
            "base64",
          ]);
          assert.equal(retained.lines[0].value, btoa("7"));
          assert.equal(retained.lines[0].properties["mqtt.retain"], "true");
        },
      );

      await t.step(
        "acknowledged only when delivered: kill -9 before any report, all come again",
        async () => {
          const id = uid();
          const url = plain(`k/${id}`);
          await sessionReady(url, `held-${id}`);
          await mosquittoPubLines(broker.port, `k/${id}`, ["1", "2", "3", "4", "5"], 1);
          // Into a pipe with no terminal stage: nothing is reported, so nothing may be acknowledged.
          const child = startEdgepipe(["consume", url, "--client-id", `held-${id}`], env);
          const reader = child.child.stdout.pipeThrough(new TextDecoderStream()).getReader();
          let text = "";
          while (text.split("\n").length < 7) {
            const { value, done } = await reader.read();
            if (done) break;
            text += value;
          }
          const first = text.trimEnd().split("\n").map((l) => JSON.parse(l));
          assert.equal(first[0].$edgepipe, "hello");
          assert.deepEqual(first.slice(1).map((e) => e.value), [1, 2, 3, 4, 5]);
          child.child.kill("SIGKILL");
          await child.exited;
          await reader.cancel().catch(() => {});
          const again = await consumeJson([
            url,
            "--client-id",
            `held-${id}`,
            "--ack",
            "on-write",
            "-e",
            "--idle",
            "1s",
          ]);
          assert.deepEqual(again.lines.map((e) => e.value), [1, 2, 3, 4, 5], again.stderr);
          assert.equal(again.lines[0].properties["mqtt.dup"], "true");
          // Those were acknowledged on write: the session is empty now.
          const empty = await consumeJson([
            url,
            "--client-id",
            `held-${id}`,
            "--ack",
            "on-write",
            "-e",
            "--idle",
            "1s",
          ]);
          assert.deepEqual(empty.lines, []);
        },
      );

      await t.step("MQTT 3.1.1 and QoS 2 with a persistent session", async () => {
        const id = uid();
        const url = plain(`v3/${id}`);
        await sessionReady(url, `v3-${id}`, ["--mqtt-version", "3.1.1", "--qos", "2"]);
        await mosquittoPubLines(broker.port, `v3/${id}`, ["a", "b", "c"], 2);
        const got = await consumeJson([
          url,
          "--client-id",
          `v3-${id}`,
          "--mqtt-version",
          "3.1.1",
          "--qos",
          "2",
          "--ack",
          "on-write",
          "-c",
          "3",
        ]);
        assert.deepEqual(got.lines.map((e) => [e.value, e.properties["mqtt.qos"]]), [["a", "2"], [
          "b",
          "2",
        ], ["c", "2"]]);
      });

      await t.step(
        "password file, refused password, TLS with a CA and a client certificate",
        async () => {
          const id = uid();
          const dir = await Deno.makeTempDir();
          await Deno.writeTextFile(`${dir}/pw`, broker.password + "\n");
          await Deno.writeTextFile(`${dir}/bad`, "wrong\n");
          const auth = `mqtt://${broker.user}@127.0.0.1:${broker.authPort}/a/${id}`;
          const refused = await consumeJson([
            auth,
            "--password-file",
            `${dir}/bad`,
            "--ack",
            "on-write",
            "-c",
            "1",
          ]);
          assert.equal(refused.code, 1);
          assert.match(refused.stderr, /refused the user name or password/);
          assert.ok(!refused.stderr.includes("wrong"), "the password must never be printed");
          const consumer = startEdgepipe([
            "consume",
            auth,
            "--password-file",
            `${dir}/pw`,
            "--ack",
            "on-write",
            "-c",
            "1",
          ], env);
          const tls = `mqtts://localhost:${broker.tlsPort}/a/${id}`;
          const tlsConsumer = startEdgepipe([
            "consume",
            tls,
            "--tls-ca",
            broker.tls.caCertFile,
            "--tls-cert",
            broker.tls.clientCertFile,
            "--tls-key",
            broker.tls.clientKeyFile,
            "--ack",
            "on-write",
            "-c",
            "1",
          ], env);
          await new Promise((r) => setTimeout(r, 2500)); // both subscribed (no session: live only)
          await mosquittoPub([
            "-h",
            "127.0.0.1",
            "-p",
            String(broker.port),
            "-q",
            "1",
            "-t",
            `a/${id}`,
            "-m",
            '"ok"',
          ]);
          for (const c of [consumer, tlsConsumer]) {
            const out = await new Response(c.child.stdout).text();
            assert.equal(await c.exited, 0, await c.stderr);
            assert.equal(JSON.parse(out).value, "ok");
          }
          const untrusted = await consumeJson([
            tls,
            "--ack",
            "on-write",
            "-c",
            "1",
            "--connect-timeout",
            "3s",
          ]);
          assert.equal(untrusted.code, 1);
          assert.match(untrusted.stderr, /cannot connect/);
          await Deno.remove(dir, { recursive: true });
        },
      );

      await t.step("a run file's mqtt source: acknowledged once its sink delivered", async () => {
        const id = uid();
        const dir = await Deno.makeTempDir();
        const url = plain(`run/${id}/#`);
        const file = `${dir}/p.yaml`;
        await Deno.writeTextFile(
          file,
          `name: mqtt-run\nsource:\n  mqtt:\n    url: "${url}"\n    clientId: run-${id}\n` +
            `    idleExit: 1s\nsink: stdout\n`,
        );
        await sessionReady(url, `run-${id}`);
        await mosquittoPubLines(broker.port, `run/${id}/a`, ['{"n":1}', '{"n":2}'], 1);
        const ran = await runEdgepipe(["run", file], { env });
        assert.equal(ran.code, 0, ran.stderr);
        assert.deepEqual(ran.stdout.trimEnd().split("\n").map((l) => JSON.parse(l)), [{ n: 1 }, {
          n: 2,
        }]);
        const again = await consumeJson([
          url,
          "--client-id",
          `run-${id}`,
          "--ack",
          "on-write",
          "-e",
          "--idle",
          "1s",
        ]);
        assert.deepEqual(again.lines, [], "the run acknowledged what its sink delivered");
        await Deno.remove(dir, { recursive: true });
      });

      await t.step(
        "bad input: malformed filter, unreachable broker, password in the URL, non-UTF-8",
        async () => {
          const bad = await consumeJson([plain("a/#/b"), "-c", "1"]);
          assert.equal(bad.code, 2);
          assert.match(bad.stderr, /'#' must be a whole level and the last one/);
          const closedPort = broker.port === 1 ? 2 : 1;
          const down = await consumeJson([
            `mqtt://127.0.0.1:${closedPort}/t`,
            "-c",
            "1",
            "--connect-timeout",
            "2s",
          ]);
          assert.equal(down.code, 1);
          assert.match(down.stderr, /cannot connect to mqtt:\/\/127\.0\.0\.1:1/);
          const pw = await consumeJson([`mqtt://u:hunter2@127.0.0.1:${broker.port}/t`, "-c", "1"]);
          assert.equal(pw.code, 2);
          assert.ok(!pw.stderr.includes("hunter2"));
          const id = uid();
          const url = plain(`b/${id}`);
          await sessionReady(url, `bin-${id}`);
          const file = await Deno.makeTempFile();
          await Deno.writeFile(file, new Uint8Array([0xff, 0xfe, 0x00]));
          await mosquittoPub([
            "-h",
            "127.0.0.1",
            "-p",
            String(broker.port),
            "-q",
            "1",
            "-t",
            `b/${id}`,
            "-f",
            file,
          ]);
          await mosquittoPub([
            "-h",
            "127.0.0.1",
            "-p",
            String(broker.port),
            "-q",
            "1",
            "-t",
            `b/${id}`,
            "-m",
            "next",
          ]);
          const failed = await consumeJson([
            url,
            "--client-id",
            `bin-${id}`,
            "--ack",
            "on-write",
            "-c",
            "2",
          ]);
          assert.equal(failed.code, 1);
          assert.match(failed.stderr, /not valid UTF-8/);
          const skipped = await consumeJson([
            url,
            "--client-id",
            `bin-${id}`,
            "--ack",
            "on-write",
            "--on-error",
            "skip",
            "-c",
            "1",
          ]);
          assert.equal(skipped.code, 0, skipped.stderr);
          assert.match(skipped.stderr, /skipped/);
          assert.deepEqual(skipped.lines.map((e) => e.value), ["next"]);
          await Deno.remove(file);
        },
      );
    } finally {
      await broker.stop();
    }
  },
});
