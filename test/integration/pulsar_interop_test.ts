/**
 * Interop with the official Java client (from the broker's distribution): batched messages with
 * every compression codec, keys, properties and event time, both ways; and keys routed to the
 * same partition by edgepipe and by Java.
 */
import assert from "node:assert/strict";
import { pulsarUrls } from "../harness/pulsar.ts";
import { type Compression, PulsarAdmin, PulsarClient } from "../../lib/pulsar/mod.ts";

const { serviceUrl, adminUrl } = await pulsarUrls();
const run = crypto.randomUUID().slice(0, 8);
const home = Deno.env.get("PULSAR_HOME") ??
  `${Deno.env.get("HOME")}/.cache/edgepipe/apache-pulsar-4.0.8`;
const codecs: Compression[] = ["NONE", "LZ4", "ZLIB", "ZSTD", "SNAPPY"];
const COUNT = 120;

/** The Java side: produce / consume one topic per codec, or report where keys land. */
const JAVA = `
import org.apache.pulsar.client.api.*;
import java.util.*;
import java.util.concurrent.*;

public class Interop {
  static final String[] CODECS = {"NONE", "LZ4", "ZLIB", "ZSTD", "SNAPPY"};

  public static void main(String[] args) throws Exception {
    try (PulsarClient client = PulsarClient.builder().serviceUrl(args[1]).build()) {
      switch (args[0]) {
        case "produce": produce(client, args[2], Integer.parseInt(args[3])); break;
        case "consume": consume(client, args[2], Integer.parseInt(args[3])); break;
        case "keys": keys(client, args[2], Arrays.copyOfRange(args, 3, args.length)); break;
        default: throw new IllegalArgumentException(args[0]);
      }
    }
  }

  static void produce(PulsarClient client, String prefix, int n) throws Exception {
    for (String codec : CODECS) {
      try (Producer<byte[]> producer = client.newProducer().topic(prefix + "-" + codec)
          .compressionType(CompressionType.valueOf(codec)).enableBatching(true)
          // Batches close by count (and the last one at close), never by a timer: on a loaded
          // machine a 50 ms timer sent lone messages, which the client sends unbatched.
          .batchingMaxMessages(25).batchingMaxPublishDelay(60, TimeUnit.SECONDS).create()) {
        List<CompletableFuture<MessageId>> sent = new ArrayList<>();
        for (int i = 0; i < n; i++) {
          sent.add(producer.newMessage().key("k" + (i % 7)).value(("java-" + codec + "-" + i + "-" + "x".repeat(i)).getBytes())
              .property("i", Integer.toString(i)).property("from", "java")
              .eventTime(1700000000000L + i).sendAsync());
        }
        producer.flush();
        for (CompletableFuture<MessageId> f : sent) f.get();
      }
    }
  }

  static void consume(PulsarClient client, String prefix, int n) throws Exception {
    for (String codec : CODECS) {
      try (Consumer<byte[]> consumer = client.newConsumer().topic(prefix + "-" + codec)
          .subscriptionName("java").subscriptionInitialPosition(SubscriptionInitialPosition.Earliest)
          .subscribe()) {
        for (int i = 0; i < n; i++) {
          Message<byte[]> msg = consumer.receive(30, TimeUnit.SECONDS);
          if (msg == null) throw new IllegalStateException("timed out on " + codec + " after " + i);
          TreeMap<String, String> props = new TreeMap<>(msg.getProperties());
          System.out.println("MSG " + codec + " " + msg.getKey() + " " + msg.getEventTime() + " "
              + props + " " + Base64.getEncoder().encodeToString(msg.getValue()));
          consumer.acknowledge(msg);
        }
      }
    }
  }

  static void keys(PulsarClient client, String topic, String[] keys) throws Exception {
    try (Producer<byte[]> producer = client.newProducer().topic(topic).enableBatching(false).create()) {
      for (String key : keys) {
        MessageId id = producer.newMessage().key(key).value(key.getBytes()).send();
        System.out.println("KEY " + key + " " + ((MessageIdAdv) id).getPartitionIndex());
      }
    }
  }
}
`;

let compiled: Promise<string> | undefined;

/** Compiles the Java side once per run; returns its class directory. */
function javaClasses(): Promise<string> {
  compiled ??= (async () => {
    const dir = await Deno.makeTempDir({ prefix: "edgepipe-interop-" });
    await Deno.writeTextFile(`${dir}/Interop.java`, JAVA);
    const out = await new Deno.Command("javac", {
      args: ["-nowarn", "-cp", `${home}/lib/*`, "-d", dir, `${dir}/Interop.java`],
    }).output();
    if (!out.success) throw new Error(`javac failed: ${new TextDecoder().decode(out.stderr)}`);
    return dir;
  })();
  return compiled;
}

async function java(...args: string[]): Promise<string> {
  const dir = await javaClasses();
  const out = await new Deno.Command("java", {
    args: [
      "-Xmx256m",
      "-cp",
      `${dir}:${home}/lib/*`,
      "Interop",
      args[0],
      serviceUrl,
      ...args.slice(1),
    ],
    // Non-ASCII keys must reach Java (and come back) as UTF-8.
    env: { LC_ALL: "C.UTF-8", LANG: "C.UTF-8" },
  }).output();
  const stdout = new TextDecoder().decode(out.stdout);
  if (!out.success) {
    throw new Error(
      `java ${args[0]} failed:\n${stdout.slice(-2000)}${
        new TextDecoder().decode(out.stderr).slice(-3000)
      }`,
    );
  }
  return stdout;
}

Deno.test("Java produces batched + compressed (every codec); edgepipe reads it all", async () => {
  const prefix = `persistent://public/default/interop-${run}-from-java`;
  const client = new PulsarClient({ serviceUrl });
  try {
    const consumers = await Promise.all(
      codecs.map((codec) =>
        client.subscribe({
          topic: `${prefix}-${codec}`,
          subscription: "edgepipe",
          initialPosition: "earliest",
        })
      ),
    );
    await java("produce", prefix, String(COUNT));
    for (const [c, codec] of codecs.entries()) {
      let batched = 0;
      for (let i = 0; i < COUNT; i++) {
        const msg = await consumers[c].receive(15_000);
        consumers[c].ack(msg);
        if (msg.id.batchIndex >= 0) batched++;
        assert.equal(msg.text(), `java-${codec}-${i}-${"x".repeat(i)}`, codec);
        assert.equal(msg.key, `k${i % 7}`);
        assert.deepEqual(msg.properties, { i: String(i), from: "java" });
        assert.equal(msg.eventTime, 1_700_000_000_000 + i);
      }
      assert.ok(batched === COUNT, `${codec}: all in batches`);
    }
  } finally {
    await client.close();
  }
});

Deno.test("edgepipe produces batched + compressed (every codec); Java reads it all", async () => {
  const prefix = `persistent://public/default/interop-${run}-to-java`;
  const client = new PulsarClient({ serviceUrl });
  const sent = new Map<string, string[]>();
  try {
    // Java subscribes from the earliest message, so producing first is fine.
    for (const codec of codecs) {
      const producer = await client.createProducer({
        topic: `${prefix}-${codec}`,
        compression: codec,
        batchingMaxMessages: 25,
        batchingMaxDelayMs: 20,
      });
      const payloads = Array.from(
        { length: COUNT },
        (_, i) => `edgepipe-${codec}-${i}-${"y".repeat(i)}`,
      );
      await Promise.all(payloads.map((payload, i) =>
        producer.send({
          payload,
          key: `k${i % 7}`,
          properties: { i: String(i), from: "edgepipe" },
          eventTime: 1_700_000_000_000 + i,
        })
      ));
      sent.set(codec, payloads);
      await producer.close();
    }
  } finally {
    await client.close();
  }
  const lines = (await java("consume", prefix, String(COUNT))).split("\n").filter((l) =>
    l.startsWith("MSG ")
  );
  assert.equal(lines.length, COUNT * codecs.length);
  for (const [c, codec] of codecs.entries()) {
    for (let i = 0; i < COUNT; i++) {
      const [, lineCodec, key, eventTime, props, value] = /^MSG (\S+) (\S+) (\d+) (\{.*\}) (\S*)$/
        .exec(lines[c * COUNT + i])!;
      assert.equal(lineCodec, codec);
      assert.equal(atob(value), sent.get(codec)![i]);
      assert.equal(key, `k${i % 7}`);
      assert.equal(Number(eventTime), 1_700_000_000_000 + i);
      assert.equal(props, `{from=edgepipe, i=${i}}`);
    }
  }
});

Deno.test("a key produced by edgepipe and by Java lands in the same partition", async () => {
  const topic = `persistent://public/default/interop-${run}-partitioned`;
  const admin = new PulsarAdmin({ adminUrl });
  await admin.createTopic(topic, 7);
  const keys = Array.from({ length: 40 }, (_, i) => `user-${i * 7919}-é`);
  const client = new PulsarClient({ serviceUrl });
  const ours = new Map<string, number>();
  try {
    const producer = await client.createProducer({ topic, batching: false });
    for (const key of keys) ours.set(key, (await producer.send({ payload: key, key })).partition);
  } finally {
    await client.close();
  }
  const theirs = new Map(
    (await java("keys", topic, ...keys)).split("\n").filter((l) => l.startsWith("KEY "))
      .map((l) => l.split(" ")).map(([, key, partition]) => [key, Number(partition)]),
  );
  assert.equal(theirs.size, keys.length);
  for (const key of keys) assert.equal(ours.get(key), theirs.get(key), key);
  assert.ok(new Set(ours.values()).size >= 5, "keys spread over partitions");
  await admin.deleteTopic(topic);
});
