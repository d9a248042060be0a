/**
 * `edgepipe run` with `encryption:` on the real broker: the consume source decrypts with
 * `decryptKeys`, the Pulsar sink encrypts for `encryptKeys` (a different key pair), behind a
 * multi-host service URL whose first host is down. What the sink wrote opens only with the sink's
 * key, and the source subscription is left with no backlog.
 */
import assert from "node:assert/strict";
import { pulsarUrls } from "../harness/pulsar.ts";
import { runEdgepipe } from "../harness/edgepipe.ts";
import { run } from "../harness/process.ts";
import {
  MessageDecryptor,
  MessageEncryptor,
  PulsarClient,
  readPrivateKey,
  readPublicKey,
} from "../../lib/pulsar/mod.ts";

const integration = { sanitizeOps: false, sanitizeResources: false };

Deno.test({
  name: "run: encryption.decryptKeys on the source, encryptKeys on the sink, multi-host URL",
  ...integration,
  async fn() {
    const { serviceUrl, adminUrl } = await pulsarUrls();
    const id = crypto.randomUUID().slice(0, 8);
    const input = `persistent://public/default/run-e2e-in-${id}`;
    const output = `persistent://public/default/run-e2e-out-${id}`;
    const dir = await Deno.makeTempDir();
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const deadPort = (listener.addr as Deno.NetAddr).port;
    listener.close();
    const multiHost = `pulsar://127.0.0.1:${deadPort},${serviceUrl.replace(/^pulsar:\/\//, "")}`;
    const client = new PulsarClient({ serviceUrl });
    try {
      for (
        const args of [
          ["genrsa", "-traditional", "-out", `${dir}/in.pem`, "2048"],
          ["rsa", "-in", `${dir}/in.pem`, "-pubout", "-out", `${dir}/in.pub.pem`],
          ["ecparam", "-name", "secp384r1", "-genkey", "-out", `${dir}/out.pem`],
          ["ec", "-in", `${dir}/out.pem`, "-pubout", "-out", `${dir}/out.pub.pem`],
        ]
      ) {
        const made = await run("openssl", args);
        assert.ok(made.ok, made.output);
      }
      const producer = await client.createProducer({
        topic: input,
        encryption: new MessageEncryptor([
          { name: "in", key: await readPublicKey(`${dir}/in.pub.pem`) },
        ]),
      });
      const values = Array.from({ length: 30 }, (_, i) => ({ n: i, origin: `A${i % 3}` }));
      await Promise.all(values.map((v) => producer.send({ payload: JSON.stringify(v) })));
      await producer.close();

      await Deno.writeTextFile(
        `${dir}/pipe.yaml`,
        `source:
  consume: { topic: ${input}, subscription: run, serviceUrl: '${multiHost}', exitAtEnd: true }
stages:
  - filter: 'event.value.n < 15.0'
sink: ${output}
encryption:
  decryptKeys: in.pem
  encryptKeys: { audit: out.pub.pem }
`,
      );
      const ran = await runEdgepipe(["run", `${dir}/pipe.yaml`]);
      assert.equal(ran.code, 0, ran.stderr);

      const read = async (count: number, decryptor?: MessageDecryptor) => {
        const consumer = await client.subscribe({
          topic: output,
          subscription: `check-${crypto.randomUUID()}`,
          initialPosition: "earliest",
          ...(decryptor ? { decryptor } : {}),
        });
        const got = [];
        for (let i = 0; i < count; i++) got.push(await consumer.receive(15_000));
        await consumer.close();
        return got;
      };
      const opened = await read(15, new MessageDecryptor([await readPrivateKey(`${dir}/out.pem`)]));
      assert.deepEqual(
        opened.map((m) => m.json()),
        values.filter((v) => v.n < 15),
      );
      // Without the key, the first entry (one batch, or a single message) is ciphertext.
      const [sealed] = await read(1);
      assert.equal(sealed.decodeError?.kind, "encrypted", "the sink encrypted");
      assert.match(sealed.decodeError!.message, /\(key audit\)/);
      const stats = await (await fetch(
        `${adminUrl}/admin/v2/${input.replace("persistent://", "persistent/")}/stats`,
      )).json();
      assert.equal(stats.subscriptions.run.msgBacklog, 0);
    } finally {
      await client.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
