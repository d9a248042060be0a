/**
 * Messages that cannot be decoded (corrupt compression, end-to-end encryption) follow consume's
 * `--on-error` policy on a real broker: the good messages around them flow, nothing crash-loops.
 */
import assert from "node:assert/strict";
import { PulsarClient } from "../../lib/pulsar/mod.ts";
import { sendRaw } from "../../lib/pulsar/raw_send_test_util.ts";
import { pulsarUrls } from "../harness/pulsar.ts";
import { runEdgepipe } from "../harness/edgepipe.ts";
import { pulsarClient } from "../harness/java_client.ts";
import { run } from "../harness/process.ts";

const integration = { sanitizeOps: false, sanitizeResources: false };
const utf8 = new TextEncoder();
const corrupt = Uint8Array.from([0xf0, 0x13, 0x37, 0x00, 0xfe, 0xff]);
const sealed = Uint8Array.from([0x8a, 0x01, 0x7c, 0x55]);

/** A topic holding: "a", an undecompressable LZ4 payload, an encrypted message, "b". */
async function poisonedTopic(): Promise<string> {
  const { serviceUrl } = await pulsarUrls();
  const topic = `persistent://public/default/decode-${crypto.randomUUID()}`;
  const client = new PulsarClient({ serviceUrl });
  try {
    await sendRaw(client, topic, [
      { payload: utf8.encode('"a"') },
      { metadata: { compression: "LZ4", uncompressedSize: 64 }, payload: corrupt },
      {
        metadata: {
          encryptionKeys: [{ key: "orders-key", value: Uint8Array.from([1, 2, 3]) }],
          encryptionAlgo: "RSA",
          encryptionParam: Uint8Array.from([7, 7, 7]),
        },
        payload: sealed,
      },
      { payload: utf8.encode('"b"') },
    ]);
  } finally {
    await client.close();
  }
  return topic;
}

async function consume(topic: string, policy: string) {
  const { serviceUrl } = await pulsarUrls();
  return await runEdgepipe(
    [
      "consume",
      topic,
      "-s",
      "check",
      "-o",
      "earliest",
      "-e",
      "--ack",
      "on-write",
      "--on-error",
      policy,
    ],
    { env: { PULSAR_SERVICE_URL: serviceUrl } },
  );
}

const decodeBase64 = (text: string) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
const values = (stdout: string) =>
  stdout.trim().split("\n").filter(Boolean).map((l) => JSON.parse(l).value);

Deno.test({
  name:
    "consume --on-error dead-letter: undecodable payloads are dead-lettered raw, with the reason",
  ...integration,
  async fn() {
    const topic = await poisonedTopic();
    const dir = await Deno.makeTempDir();
    try {
      const run = await consume(topic, `dead-letter=${dir}/dead.ndjson`);
      assert.equal(run.code, 0, run.stderr);
      assert.deepEqual(values(run.stdout), ["a", "b"], "good messages around them flow");
      const dead = (await Deno.readTextFile(`${dir}/dead.ndjson`)).trim().split("\n")
        .map((l) => JSON.parse(l));
      assert.equal(dead.length, 2);
      assert.deepEqual(decodeBase64(dead[0].value), corrupt, "the bytes as received");
      assert.match(dead[0].deadLetter.error, /cannot be decompressed/);
      assert.deepEqual(decodeBase64(dead[1].value), sealed, "ciphertext kept, not passed as data");
      assert.match(dead[1].deadLetter.error, /encrypted.*orders-key/);
      // Acknowledged: a second run finds nothing left.
      const again = await consume(topic, "fail");
      assert.equal(again.code, 0, again.stderr);
      assert.deepEqual(values(again.stdout), []);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "consume --on-error skip says so and goes on; fail stops naming the message",
  ...integration,
  async fn() {
    const skipped = await consume(await poisonedTopic(), "skip");
    assert.equal(skipped.code, 0, skipped.stderr);
    assert.deepEqual(values(skipped.stdout), ["a", "b"]);
    assert.equal(skipped.stderr.match(/skipped: /g)?.length, 2, skipped.stderr);

    const failed = await consume(await poisonedTopic(), "fail");
    assert.equal(failed.code, 1);
    assert.deepEqual(values(failed.stdout), ["a"], "what came before is delivered");
    assert.match(failed.stderr, /message \S+ on \S+: message \d+:\d+:-1:-1 cannot be decompressed/);
    assert.equal(failed.stderr.trim().split("\n").length, 1, failed.stderr);
  },
});

Deno.test({
  name: "a message the Java client encrypted is dead-lettered as ciphertext, never read as data",
  ...integration,
  async fn() {
    const { serviceUrl } = await pulsarUrls();
    const topic = `persistent://public/default/encrypted-${crypto.randomUUID()}`;
    const dir = await Deno.makeTempDir();
    try {
      for (
        const args of [
          ["genrsa", "-out", `${dir}/private.pem`, "2048"],
          ["rsa", "-in", `${dir}/private.pem`, "-pubout", "-out", `${dir}/public.pem`],
        ]
      ) {
        const made = await run("openssl", args);
        assert.ok(made.ok, made.output);
      }
      const secret = "hello-secret-payload";
      await pulsarClient({ serviceUrl }, [
        "produce",
        topic,
        "-m",
        secret,
        "-ekn",
        "orders-key",
        "-ekv",
        `file://${dir}/public.pem`,
      ]);
      const result = await consume(topic, `dead-letter=${dir}/dead.ndjson`);
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout.trim(), "", "nothing passed on as data");
      const [dead, ...more] = (await Deno.readTextFile(`${dir}/dead.ndjson`)).trim().split("\n")
        .map((l) => JSON.parse(l));
      assert.equal(more.length, 0);
      assert.match(dead.deadLetter.error, /end-to-end encrypted \(key orders-key\)/);
      const raw = new TextDecoder().decode(decodeBase64(dead.value));
      assert.ok(raw.length > 0 && !raw.includes(secret), "the dead letter holds the ciphertext");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
