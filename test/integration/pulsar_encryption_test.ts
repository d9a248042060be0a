/**
 * End-to-end encryption against the official Java client, both ways, with RSA and EC keys made
 * by `openssl` here: Java encrypts (single messages, a batch, an LZ4 batch, two recipients) and
 * edgepipe decrypts; edgepipe encrypts and Java decrypts with its default key reader. One JVM run
 * does the Java side of every case. A wrong key and a missing key give an "encrypted" decode error.
 */
import assert from "node:assert/strict";
import { pulsarUrls } from "../harness/pulsar.ts";
import {
  type Compression,
  type Message,
  MessageDecryptor,
  MessageEncryptor,
  PulsarClient,
  readPrivateKey,
  readPublicKey,
} from "../../lib/pulsar/mod.ts";

const { serviceUrl } = await pulsarUrls();
const run = crypto.randomUUID().slice(0, 8);
const home = Deno.env.get("PULSAR_HOME") ??
  `${Deno.env.get("HOME")}/.cache/edgepipe/apache-pulsar-4.0.8`;
const prefix = `persistent://public/default/e2e-${run}`;

/** Java side: consume what edgepipe encrypted (3 topics), then produce 5 encrypted topics. */
const JAVA = `
import org.apache.pulsar.client.api.*;
import java.util.*;
import java.util.concurrent.*;

public class CryptoPeer {
  public static void main(String[] args) throws Exception {
    String prefix = args[1], dir = args[2];
    Map<String, String> priv = Map.of("rsa-app", "file://" + dir + "/rsa.pem",
        "ec-app", "file://" + dir + "/ec.pem");
    Map<String, String> pub = Map.of("rsa-app", "file://" + dir + "/rsa.pub.pem",
        "ec-app", "file://" + dir + "/ec.pub.pem");
    try (PulsarClient client = PulsarClient.builder().serviceUrl(args[0]).build()) {
      for (String c : new String[] {"ep-rsa", "ep-ec", "ep-batch"}) {
        int n = Integer.parseInt(args[3]);
        try (Consumer<byte[]> consumer = client.newConsumer().topic(prefix + "-" + c)
            .subscriptionName("java").subscriptionInitialPosition(SubscriptionInitialPosition.Earliest)
            .defaultCryptoKeyReader(priv).subscribe()) {
          for (int i = 0; i < n; i++) {
            Message<byte[]> msg = consumer.receive(30, TimeUnit.SECONDS);
            if (msg == null) { System.out.println("TIMEOUT " + c + " " + i); break; }
            System.out.println("GOT " + c + " " + msg.getKey() + " " + msg.getEventTime() + " "
                + new TreeMap<>(msg.getProperties()) + " "
                + Base64.getEncoder().encodeToString(msg.getValue()));
            consumer.acknowledge(msg);
          }
        }
      }
      produce(client, prefix + "-j-rsa", pub, List.of("rsa-app"), false, CompressionType.NONE, "j-rsa");
      produce(client, prefix + "-j-ec", pub, List.of("ec-app"), false, CompressionType.NONE, "j-ec");
      produce(client, prefix + "-j-batch", pub, List.of("rsa-app"), true, CompressionType.NONE, "j-batch");
      produce(client, prefix + "-j-lz4", pub, List.of("ec-app"), true, CompressionType.LZ4, "j-lz4");
      produce(client, prefix + "-j-both", pub, List.of("rsa-app", "ec-app"), false, CompressionType.ZSTD, "j-both");
      System.out.println("PRODUCED");
    }
  }

  static void produce(PulsarClient client, String topic, Map<String, String> pub, List<String> keys,
      boolean batch, CompressionType codec, String c) throws Exception {
    ProducerBuilder<byte[]> b = client.newProducer().topic(topic).defaultCryptoKeyReader(pub)
        .compressionType(codec).enableBatching(batch)
        .batchingMaxPublishDelay(1, TimeUnit.SECONDS).batchingMaxMessages(1000);
    for (String k : keys) b = b.addEncryptionKey(k);
    try (Producer<byte[]> producer = b.create()) {
      List<CompletableFuture<MessageId>> sent = new ArrayList<>();
      for (int i = 0; i < 6; i++) {
        sent.add(producer.newMessage().key("k" + i).property("i", "" + i).property("case", c)
            .eventTime(1700000000000L + i).value(text(c, i).getBytes("UTF-8")).sendAsync());
      }
      producer.flush();
      for (CompletableFuture<MessageId> f : sent) f.get();
    }
  }

  static String text(String c, int i) {
    return "{\\"case\\":\\"" + c + "\\",\\"i\\":" + i + ",\\"pad\\":\\"" + "abc".repeat(40 * i) + "\\"}";
  }
}
`;

async function sh(cmd: string, args: string[]): Promise<void> {
  const out = await new Deno.Command(cmd, { args, stderr: "piped", stdout: "piped" }).output();
  if (!out.success) {
    throw new Error(`${cmd} ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
  }
}

/** RSA (PKCS#1, as the Java key reader wants it) and EC (SEC1 with parameters) key pairs. */
async function makeKeys(dir: string): Promise<void> {
  await sh("openssl", ["genrsa", "-traditional", "-out", `${dir}/rsa.pem`, "2048"]);
  await sh("openssl", ["rsa", "-in", `${dir}/rsa.pem`, "-pubout", "-out", `${dir}/rsa.pub.pem`]);
  await sh("openssl", ["ecparam", "-name", "prime256v1", "-genkey", "-out", `${dir}/ec.pem`]);
  await sh("openssl", ["ec", "-in", `${dir}/ec.pem`, "-pubout", "-out", `${dir}/ec.pub.pem`]);
  // A second EC key nobody encrypts for: the wrong key.
  await sh("openssl", ["ecparam", "-name", "secp384r1", "-genkey", "-out", `${dir}/other.pem`]);
  // The same keys as PKCS#8, which edgepipe also reads.
  await sh("openssl", [
    "pkcs8",
    "-topk8",
    "-nocrypt",
    "-in",
    `${dir}/rsa.pem`,
    "-out",
    `${dir}/rsa8.pem`,
  ]);
  await sh("openssl", [
    "pkcs8",
    "-topk8",
    "-nocrypt",
    "-in",
    `${dir}/ec.pem`,
    "-out",
    `${dir}/ec8.pem`,
  ]);
}

async function javaPeer(dir: string, count: number): Promise<string> {
  await Deno.writeTextFile(`${dir}/CryptoPeer.java`, JAVA);
  const javac = await new Deno.Command("javac", {
    args: ["-nowarn", "-cp", `${home}/lib/*`, "-d", dir, `${dir}/CryptoPeer.java`],
  }).output();
  if (!javac.success) throw new Error(`javac: ${new TextDecoder().decode(javac.stderr)}`);
  const out = await new Deno.Command("java", {
    args: [
      "-Xmx256m",
      "-cp",
      `${dir}:${home}/lib/*`,
      "CryptoPeer",
      serviceUrl,
      prefix,
      dir,
      String(count),
    ],
  }).output();
  const stdout = new TextDecoder().decode(out.stdout);
  if (!out.success) {
    throw new Error(`java failed:\n${stdout}${new TextDecoder().decode(out.stderr).slice(-4000)}`);
  }
  return stdout;
}

/** What Java's `text(c, i)` sends. */
function javaText(c: string, i: number): string {
  return JSON.stringify({ case: c, i, pad: "abc".repeat(40 * i) });
}

async function readAll(
  client: PulsarClient,
  topic: string,
  decryptor: MessageDecryptor | undefined,
  count: number,
): Promise<Message[]> {
  const consumer = await client.subscribe({
    topic,
    subscription: `edgepipe-${crypto.randomUUID()}`,
    initialPosition: "earliest",
    ...(decryptor ? { decryptor } : {}),
  });
  const got: Message[] = [];
  for (let i = 0; i < count; i++) got.push(await consumer.receive(20_000));
  await consumer.close();
  return got;
}

Deno.test("encryption interop with the Java client, both ways, RSA and EC keys", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "edgepipe-e2e-" });
  const client = new PulsarClient({ serviceUrl });
  const COUNT = 8;
  try {
    await makeKeys(dir);
    const rsaPub = await readPublicKey(`${dir}/rsa.pub.pem`);
    const ecPub = await readPublicKey(`${dir}/ec.pub.pem`);
    const cases: [string, MessageEncryptor, Compression, boolean][] = [
      ["ep-rsa", new MessageEncryptor([{ name: "rsa-app", key: rsaPub }]), "NONE", false],
      ["ep-ec", new MessageEncryptor([{ name: "ec-app", key: ecPub }]), "NONE", false],
      ["ep-batch", new MessageEncryptor([{ name: "ec-app", key: ecPub }]), "LZ4", true],
    ];
    for (const [c, encryption, compression, batching] of cases) {
      const producer = await client.createProducer({
        topic: `${prefix}-${c}`,
        encryption,
        compression,
        batching,
        batchingMaxDelayMs: 50,
      });
      await Promise.all(Array.from({ length: COUNT }, (_, i) =>
        producer.send({
          payload: javaText(c, i),
          key: `k${i}`,
          properties: { i: String(i), case: c },
          eventTime: 1_700_000_000_000 + i,
        })));
      await producer.close();
    }
    const output = await javaPeer(dir, COUNT);
    assert.match(output, /^PRODUCED$/m);

    await t.step("Java decrypts what edgepipe encrypted (RSA, EC, an LZ4 batch)", () => {
      assert.doesNotMatch(output, /TIMEOUT/);
      for (const [c] of cases) {
        const lines = output.split("\n").filter((l) => l.startsWith(`GOT ${c} `));
        assert.equal(lines.length, COUNT, c);
        lines.forEach((line, i) => {
          const [, key, eventTime, props, value] = /^GOT \S+ (\S+) (\d+) (\{.*\}) (\S+)$/
            .exec(line)!;
          assert.equal(key, `k${i}`);
          assert.equal(Number(eventTime), 1_700_000_000_000 + i);
          assert.equal(props, `{case=${c}, i=${i}}`);
          assert.equal(
            new TextDecoder().decode(Uint8Array.from(atob(value), (ch) => ch.charCodeAt(0))),
            javaText(c, i),
          );
        });
      }
    });

    const rsa = new MessageDecryptor([await readPrivateKey(`${dir}/rsa.pem`)]);
    const ec = new MessageDecryptor([await readPrivateKey(`${dir}/ec.pem`)]);
    const pkcs8 = new MessageDecryptor([
      await readPrivateKey(`${dir}/rsa8.pem`),
      await readPrivateKey(`${dir}/ec8.pem`),
    ]);
    const expected: [string, MessageDecryptor, boolean][] = [
      ["j-rsa", rsa, false],
      ["j-ec", ec, false],
      ["j-batch", pkcs8, true],
      ["j-lz4", ec, true],
      ["j-both", rsa, false],
      ["j-both", ec, false],
    ];
    for (const [c, decryptor, batched] of expected) {
      await t.step(`edgepipe decrypts what Java encrypted: ${c}`, async () => {
        const got = await readAll(client, `${prefix}-${c}`, decryptor, 6);
        got.forEach((msg, i) => {
          assert.equal(msg.decodeError, undefined, msg.decodeError?.message);
          assert.equal(msg.text(), javaText(c, i));
          assert.equal(msg.key, `k${i}`);
          assert.deepEqual(msg.properties, { i: String(i), case: c });
          assert.equal(msg.eventTime, 1_700_000_000_000 + i);
          assert.equal(msg.id.batchIndex >= 0, batched, `${c} batched`);
        });
      });
    }

    await t.step(
      "a wrong key or no key: every message arrives with an 'encrypted' error",
      async () => {
        const wrong = new MessageDecryptor([await readPrivateKey(`${dir}/other.pem`)]);
        for (
          const [decryptor, reason] of [[wrong, /cannot be decrypted/], [
            undefined,
            /no --decrypt-key/,
          ]] as const
        ) {
          const got = await readAll(client, `${prefix}-j-rsa`, decryptor, 6);
          for (const msg of got) {
            assert.equal(msg.decodeError?.kind, "encrypted");
            assert.match(msg.decodeError!.message, reason);
            assert.throws(() => msg.text(), /encrypted/);
          }
        }
        // The EC key cannot open a message sealed for the RSA key only.
        const got = await readAll(client, `${prefix}-j-rsa`, ec, 1);
        assert.equal(got[0].decodeError?.kind, "encrypted");
      },
    );
  } finally {
    await client.close();
    await Deno.remove(dir, { recursive: true });
  }
});
