/**
 * OAuth2 client credentials against a real authorization server (Ory Hydra) and a broker that
 * verifies its tokens with Pulsar's OpenID Connect provider; the Java client (`pulsar-client`
 * with `AuthenticationOAuth2`, the same params and the same client.conf) is the independent peer.
 * One Hydra (about 0.5 s to start) and one broker (6–12 s) for the whole file.
 */
import assert from "node:assert/strict";
import { startBroker } from "../harness/pulsar.ts";
import { openIdBrokerConfig, startOAuthServer } from "../harness/oauth_server.ts";
import { consumedContents, type JavaClientTarget, pulsarClient } from "../harness/java_client.ts";
import { runEdgepipe, startEdgepipe } from "../harness/edgepipe.ts";
import { freePort } from "../harness/process.ts";
import { PulsarAdmin } from "../../lib/pulsar/admin.ts";
import { adminOptions } from "../../lib/sources/pulsar_connect.ts";

const OAUTH2 = "org.apache.pulsar.client.impl.auth.oauth2.AuthenticationOAuth2";
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

Deno.test({
  name: "OAuth2 client credentials: produce, consume, refresh, client.conf, refusals",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const hydra = await startOAuthServer();
    const main = await hydra.createClient("edgepipe-main");
    // Tokens that live 4 s: the broker (checking every second) challenges them mid-stream.
    const short = await hydra.createClient("edgepipe-short", { tokenLifetime: "4s" });
    const broker = await startBroker({
      secure: true,
      heapMiB: 512,
      config: openIdBrokerConfig(hydra, {
        superUsers: [main.clientId, short.clientId],
        refreshCheckSeconds: 1,
      }),
    });
    const dir = await Deno.makeTempDir();
    const params = (credentialsFile: string, issuerUrl = hydra.issuerUrl) =>
      JSON.stringify({
        issuerUrl,
        privateKey: `file://${credentialsFile}`,
        audience: hydra.audience,
      });
    const java = (credentialsFile: string): JavaClientTarget => ({
      serviceUrl: broker.serviceUrl,
      authPlugin: OAUTH2,
      authParams: params(credentialsFile),
    });
    const topic = (name: string) =>
      `persistent://public/default/oauth2-${name}-${crypto.randomUUID().slice(0, 8)}`;
    const oauthFlags = (credentialsFile: string) => [
      "--service-url",
      broker.serviceUrl,
      "--auth-plugin",
      OAUTH2,
      "--auth-params",
      params(credentialsFile),
    ];
    try {
      const produced = topic("produce");
      const lines = Array.from({ length: 50 }, (_, i) => `reading-${i}`);
      await t.step("edgepipe produces, the Java client reads every value", async () => {
        const name = produced;
        const sent = await runEdgepipe(
          ["produce", name, "--input", "lines", ...oauthFlags(main.credentialsFile)],
          { stdin: lines.join("\n") + "\n" },
        );
        assert.equal(sent.code, 0, sent.stderr);
        const output = await pulsarClient(java(main.credentialsFile), [
          "consume",
          name,
          "-s",
          "java",
          "-p",
          "Earliest",
          "-n",
          "50",
        ]);
        assert.deepEqual(consumedContents(output), lines);
      });

      await t.step("a run pipeline file with OAuth2: sink and dead-letter topic", async () => {
        const out = topic("run-out");
        const dead = topic("run-dead");
        const file = `${dir}/pipeline.yaml`;
        // Values ending in 7 make the expression fail: they go to the dead-letter topic, which
        // the pipeline reaches with the same OAuth2 credentials.
        const expr = "event.value.endsWith('7') ? event.value.nope == 1 : true";
        await Deno.writeTextFile(
          file,
          [
            "source:",
            `  consume: { topic: '${produced}', subscription: run, exitAtEnd: true }`,
            "stages:",
            `  - filter: { expr: "${expr}", onError: 'dead-letter=topic:${dead}' }`,
            `sink: '${out}'`,
            "pulsar:",
            `  serviceUrl: '${broker.serviceUrl}'`,
            "  auth:",
            "    oauth2:",
            `      issuerUrl: '${hydra.issuerUrl}'`,
            `      privateKey: 'file://${main.credentialsFile}'`,
            `      audience: '${hydra.audience}'`,
            "",
          ].join("\n"),
        );
        // The environment points elsewhere and has no credentials: the file's block is used.
        const ran = await runEdgepipe(["run", file], {
          env: { PULSAR_SERVICE_URL: "pulsar://127.0.0.1:1" },
        });
        assert.equal(ran.code, 0, ran.stderr);
        const kept = lines.filter((line) => !line.endsWith("7"));
        const sent = await pulsarClient(java(main.credentialsFile), [
          "consume",
          out,
          "-s",
          "java",
          "-p",
          "Earliest",
          "-n",
          String(kept.length),
        ]);
        assert.deepEqual(consumedContents(sent), kept);
        const letters = await pulsarClient(java(main.credentialsFile), [
          "consume",
          dead,
          "-s",
          "java",
          "-p",
          "Earliest",
          "-n",
          "5",
        ]);
        const values = consumedContents(letters).map((text) => JSON.parse(text).value);
        assert.deepEqual(values, [
          "reading-7",
          "reading-17",
          "reading-27",
          "reading-37",
          "reading-47",
        ]);
      });

      await t.step(
        "a client.conf both clients read: Java produces, edgepipe consumes",
        async () => {
          const name = topic("conf");
          const conf = `${dir}/client.conf`;
          await Deno.writeTextFile(
            conf,
            [
              "# as a team would keep it for pulsar-client and pulsar-admin",
              `webServiceUrl=${broker.adminUrl}`,
              `brokerServiceUrl=${broker.serviceUrl}`,
              `authPlugin=${OAUTH2}`,
              `authParams=${params(main.credentialsFile)}`,
              "",
            ].join("\n"),
          );
          await pulsarClient({ serviceUrl: broker.serviceUrl, clientConf: conf }, [
            "produce",
            name,
            "-m",
            "alpha,beta,gamma",
            "-n",
            "4",
          ]);
          const read = await runEdgepipe([
            "consume",
            name,
            "-e",
            "-f",
            "%s\n",
            "--client-conf",
            conf,
          ], {
            env: { PULSAR_SERVICE_URL: "pulsar://127.0.0.1:1" }, // the file wins over the environment
          });
          assert.equal(read.code, 0, read.stderr);
          const expected = Array.from({ length: 4 }, () => ["alpha", "beta", "gamma"]).flat();
          assert.deepEqual(read.stdout.trim().split("\n"), expected);
        },
      );

      await t.step("the admin API gets the same OAuth2 token as a bearer", async () => {
        const name = topic("admin");
        const admin = new PulsarAdmin(
          await adminOptions(broker.adminUrl, {
            "auth-plugin": OAUTH2,
            "auth-params": params(main.credentialsFile),
          }, {}),
        );
        await admin.createTopic(name);
        assert.equal(await admin.namespaceExists("public/default"), true);
        const stats = await admin.topicStats(name);
        assert.equal(stats.msgInCounter, 0);
        // Without credentials the same call is refused: the token above is what let it through.
        const anonymous = new PulsarAdmin({ adminUrl: broker.adminUrl });
        await assert.rejects(anonymous.topicStats(name));
      });

      await t.step("tokens that expire mid-stream are refreshed; nothing lost", async () => {
        const name = topic("refresh");
        const consumer = startEdgepipe([
          "consume",
          name,
          "-s",
          "refresh",
          "-c",
          "30",
          "-f",
          "%s\n",
          ...oauthFlags(short.credentialsFile),
        ]);
        const out = new Response(consumer.child.stdout).text();
        const producer = startEdgepipe(
          ["produce", name, "--input", "lines", ...oauthFlags(short.credentialsFile)],
          {},
          "piped",
        );
        const writer = producer.child.stdin.getWriter();
        const encoder = new TextEncoder();
        // Three batches over ~13 s: each later batch travels on connections whose first token
        // has expired and that the broker has challenged (it checks every second).
        for (let batch = 0; batch < 3; batch++) {
          if (batch > 0) await sleep(6_500);
          const text = Array.from({ length: 10 }, (_, i) => `b${batch}-${i}\n`).join("");
          await writer.write(encoder.encode(text));
        }
        await writer.close();
        assert.equal(await producer.exited, 0, await producer.stderr);
        assert.equal(await consumer.exited, 0, await consumer.stderr);
        const expected = [0, 1, 2].flatMap((b) =>
          Array.from({ length: 10 }, (_, i) => `b${b}-${i}`)
        );
        assert.deepEqual((await out).trim().split("\n").sort(), expected.sort());
        const log = await Deno.readTextFile(broker.logFile);
        assert.match(
          log,
          new RegExp(`Refreshed authentication credentials for role ${short.clientId}`),
          "the broker challenged the expired token and accepted the fresh one",
        );
      });

      await t.step(
        "a wrong secret: one line naming the refusal, exit 1, secret not shown",
        async () => {
          const wrong = `${dir}/wrong.json`;
          const badSecret = "not-the-secret-8b1f3c";
          await Deno.writeTextFile(
            wrong,
            JSON.stringify({ client_id: main.clientId, client_secret: badSecret }),
          );
          for (
            const command of [["consume", topic("x"), "-s", "x", "-e"], ["produce", topic("y")]]
          ) {
            const run = await runEdgepipe([...command, ...oauthFlags(wrong)], {
              stdin: command[0] === "produce" ? "one\n" : undefined,
            });
            const stderr = run.stderr.trim();
            assert.equal(run.code, 1, stderr);
            assert.equal(stderr.split("\n").length, 1, stderr);
            assert.match(stderr, /OAuth2: the issuer refused the token request .*401/);
            assert.ok(!stderr.includes(badSecret), "the secret must not be printed");
            assert.ok(!stderr.includes(main.clientSecret), "no secret must be printed");
          }
        },
      );

      await t.step("an unreachable issuer: one line, exit 1", async () => {
        const nowhere = `http://127.0.0.1:${await freePort()}`;
        const run = await runEdgepipe([
          "consume",
          topic("z"),
          "-s",
          "z",
          "-e",
          "--service-url",
          broker.serviceUrl,
          "--auth-plugin",
          "oauth2",
          "--auth-params",
          params(main.credentialsFile, nowhere),
        ]);
        const stderr = run.stderr.trim();
        assert.equal(run.code, 1, stderr);
        assert.equal(stderr.split("\n").length, 1, stderr);
        assert.match(stderr, new RegExp(`cannot reach the issuer at ${nowhere}/`));
        assert.ok(!stderr.includes(main.clientSecret));
      });

      await t.step("an expired token is refused by the broker: one line, exit 1", async () => {
        const response = await fetch(`${hydra.issuerUrl}/oauth2/token`, {
          method: "POST",
          body: new URLSearchParams({
            grant_type: "client_credentials",
            client_id: short.clientId,
            client_secret: short.clientSecret,
            audience: hydra.audience,
          }),
        });
        const { access_token: token } = await response.json();
        assert.equal(typeof token, "string");
        await sleep(5_000); // past its 4 s lifetime
        const run = await runEdgepipe([
          "consume",
          topic("expired"),
          "-s",
          "e",
          "-e",
          "--service-url",
          broker.serviceUrl,
          "--auth-plugin",
          "token",
          "--auth-params",
          `token:${token}`,
        ]);
        const stderr = run.stderr.trim();
        assert.equal(run.code, 1, stderr);
        assert.equal(stderr.split("\n").length, 1, stderr);
        assert.match(stderr, /authenticat/i);
      });
    } finally {
      await Deno.remove(dir, { recursive: true });
      await broker.stop();
      await hydra.stop();
    }
  },
});
