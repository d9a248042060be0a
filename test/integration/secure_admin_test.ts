/**
 * One set of connection settings for the broker and its admin API, on a broker with token
 * authentication and TLS: `consume --token token:…` polls the backlog with the same token (it
 * got 401 before), `--tls-ca` is used for an `https` admin URL (the backlog was NaN), and a `run`
 * file whose consume source names a `serviceUrl` sends its sinks to that broker too, not to
 * `PULSAR_SERVICE_URL`.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { sharedSecureBroker } from "../harness/pulsar.ts";
import { runEdgepipe } from "../harness/edgepipe.ts";

/** The backlog in consume's last stats line (NaN when the admin API never answered). */
function lastBacklog(stderr: string): number {
  const line = stderr.trim().split("\n").filter((l) => / in=\d+/.test(l)).at(-1) ?? "";
  const match = /backlog=(\S+)/.exec(line);
  assert.ok(match, `a stats line with a backlog: ${stderr}`);
  return Number(match[1]);
}

/** The subscription's backlog as the admin API reports it, asked directly with the token. */
async function brokerBacklog(adminUrl: string, token: string, topic: string, sub: string) {
  const response = await fetch(`${adminUrl}/admin/v2/${topic.replace("://", "/")}/stats`, {
    headers: { authorization: `Bearer ${token}` },
  });
  assert.ok(response.ok, `admin stats: ${response.status}`);
  return (await response.json()).subscriptions[sub].msgBacklog as number;
}

Deno.test({
  name: "secured broker: admin polls take the broker's token and CA; run sinks follow serviceUrl",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const broker = await sharedSecureBroker();
    const dir = await Deno.makeTempDir();
    try {
      const secure = broker.secure!;
      const id = crypto.randomUUID().slice(0, 8);
      const topic = `persistent://public/default/secure-admin-${id}`;
      const tls = { PULSAR_SERVICE_URL: secure.tlsServiceUrl, PULSAR_TLS_CA: secure.caCertFile };
      const seeded = await runEdgepipe(["produce", topic, "--input", "lines"], {
        env: { ...tls, PULSAR_AUTH_TOKEN: secure.adminToken },
        stdin: "a\nb\nc\n",
      });
      assert.equal(seeded.code, 0, seeded.stderr);

      await t.step("--token token:<jwt> authenticates the admin backlog poll too", async () => {
        // The subscription starts at the earliest message and is only read, never acknowledged.
        const run = await runEdgepipe([
          "consume",
          topic,
          "-s",
          "token-prefix",
          "-e",
          "--ack",
          "none",
          "--stats",
          "--admin-url",
          broker.adminUrl,
          "--token",
          `token:${secure.adminToken}`,
        ], { env: { ...tls, PULSAR_AUTH_TOKEN: "" } });
        assert.equal(run.code, 0, run.stderr);
        assert.doesNotMatch(run.stderr, /backlog from --admin-url/);
        const expected = await brokerBacklog(
          broker.adminUrl,
          secure.adminToken,
          topic,
          "token-prefix",
        );
        assert.ok(expected > 0);
        assert.equal(lastBacklog(run.stderr), expected);
      });

      await t.step("--tls-ca is the admin client's CA for an https admin URL", async () => {
        const run = await runEdgepipe([
          "consume",
          topic,
          "-s",
          "tls-admin",
          "-e",
          "--ack",
          "none",
          "--stats",
          "--admin-url",
          secure.tlsAdminUrl,
          "--tls-ca",
          secure.caCertFile,
        ], {
          env: {
            PULSAR_SERVICE_URL: secure.tlsServiceUrl,
            PULSAR_AUTH_TOKEN: secure.adminToken,
            PULSAR_TLS_CA: "",
          },
        });
        assert.equal(run.code, 0, run.stderr);
        assert.doesNotMatch(run.stderr, /backlog from --admin-url/);
        const expected = await brokerBacklog(
          broker.adminUrl,
          secure.adminToken,
          topic,
          "tls-admin",
        );
        assert.ok(expected > 0);
        assert.equal(lastBacklog(run.stderr), expected);
      });

      await t.step(
        "run: the consume source's serviceUrl is where its Pulsar sink goes",
        async () => {
          const out = `${topic}-out`;
          const file = join(dir, "copy.yaml");
          await Deno.writeTextFile(
            file,
            `source:\n  consume:\n    topic: ${topic}\n    subscription: copy\n` +
              `    serviceUrl: ${secure.tlsServiceUrl}\n    exitAtEnd: true\nsink: ${out}\n`,
          );
          // PULSAR_SERVICE_URL names a port where no broker listens.
          const env = {
            PULSAR_SERVICE_URL: "pulsar://127.0.0.1:9",
            PULSAR_AUTH_TOKEN: secure.adminToken,
            PULSAR_TLS_CA: secure.caCertFile,
          };
          const run = await runEdgepipe(["run", file], { env });
          assert.equal(run.code, 0, run.stderr);
          const read = await runEdgepipe(["consume", out, "-e", "-f", "%s\n"], {
            env: { ...env, PULSAR_SERVICE_URL: secure.tlsServiceUrl },
          });
          assert.equal(read.code, 0, read.stderr);
          assert.deepEqual(read.stdout.trim().split("\n").sort(), ["a", "b", "c"]);
        },
      );
    } finally {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});
