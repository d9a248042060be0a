/**
 * `produce --encrypt-key` and `consume --decrypt-key` as commands on a real broker: the right key
 * reads every event; a wrong key dead-letters the ciphertext with the reason, or (with
 * `--on-error fail`) stops with exit 1 having acknowledged nothing; a key file that does not parse
 * is one line and exit 2. (Compatibility with the Java client: pulsar_encryption_test.ts.)
 */
import assert from "node:assert/strict";
import { pulsarUrls } from "../harness/pulsar.ts";
import { runEdgepipe } from "../harness/edgepipe.ts";
import { run } from "../harness/process.ts";

const integration = { sanitizeOps: false, sanitizeResources: false };
const COUNT = 20;

Deno.test({
  name: "produce --encrypt-key | consume --decrypt-key; wrong key → dead letter or exit 1",
  ...integration,
  async fn() {
    const { serviceUrl } = await pulsarUrls();
    const env = { PULSAR_SERVICE_URL: serviceUrl };
    const topic = `persistent://public/default/e2e-cli-${crypto.randomUUID()}`;
    const dir = await Deno.makeTempDir();
    try {
      for (
        const args of [
          ["ecparam", "-name", "prime256v1", "-genkey", "-out", `${dir}/ec.pem`],
          ["ec", "-in", `${dir}/ec.pem`, "-pubout", "-out", `${dir}/ec.pub.pem`],
          ["genrsa", "-out", `${dir}/rsa.pem`, "2048"],
        ]
      ) {
        const made = await run("openssl", args);
        assert.ok(made.ok, made.output);
      }
      const lines = Array.from({ length: COUNT }, (_, i) => JSON.stringify({ n: i, s: "x" }));
      const produced = await runEdgepipe(
        [
          "produce",
          topic,
          "--input",
          "json",
          "--compression",
          "zstd",
          "--encrypt-key",
          `app=${dir}/ec.pub.pem`,
        ],
        { stdin: lines.join("\n") + "\n", env },
      );
      assert.equal(produced.code, 0, produced.stderr);
      const consume = (sub: string, ...extra: string[]) =>
        runEdgepipe(["consume", topic, "-s", sub, "-e", "--ack", "on-write", ...extra], { env });

      const wrongFail = await consume("strict", "--decrypt-key", `${dir}/rsa.pem`);
      assert.equal(wrongFail.code, 1, wrongFail.stderr);
      assert.match(wrongFail.stderr, /end-to-end encrypted \(key app\) and cannot be decrypted/);
      assert.equal(wrongFail.stdout.trim(), "");
      // Nothing was acknowledged: the same subscription with the right key gets every event.
      const right = await consume("strict", "--decrypt-key", `${dir}/ec.pem`);
      assert.equal(right.code, 0, right.stderr);
      const values = right.stdout.trim().split("\n").map((l) => JSON.parse(l).value);
      assert.deepEqual(values, lines.map((l) => JSON.parse(l)));

      const dead = await consume(
        "dl",
        "--decrypt-key",
        `${dir}/rsa.pem`,
        "--on-error",
        `dead-letter=${dir}/dead.ndjson`,
      );
      assert.equal(dead.code, 0, dead.stderr);
      assert.equal(dead.stdout.trim(), "");
      const letters = (await Deno.readTextFile(`${dir}/dead.ndjson`)).trim().split("\n")
        .map((l) => JSON.parse(l));
      // produce batched all 20 into one entry, encrypted as a whole: one dead letter holds it
      // (before, `-e` waited for ever after it, for the batch's last index).
      assert.equal(letters.length, 1);
      for (const letter of letters) {
        assert.match(letter.deadLetter.error, /cannot be decrypted: no --decrypt-key opens/);
        const raw = atob(letter.value);
        assert.ok(raw.length > 16 && !raw.includes('"n"'), "the dead letter holds ciphertext");
      }

      await Deno.writeTextFile(`${dir}/bad.pem`, "-----BEGIN EC PRIVATE KEY-----\nAA==\n");
      const bad = await consume("x", "--decrypt-key", `${dir}/bad.pem`);
      assert.equal(bad.code, 2);
      assert.equal(bad.stderr.trim().split("\n").length, 1, bad.stderr);
      assert.match(bad.stderr, /--decrypt-key .*bad\.pem: no PEM private key/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
