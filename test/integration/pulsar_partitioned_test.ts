/**
 * Partitioned topics, topic lists and regex subscriptions against a real broker.
 */
import assert from "node:assert/strict";
import { pulsarUrls } from "../harness/pulsar.ts";
import { partitionFor } from "../../lib/pulsar/routing.ts";
import {
  type Message,
  type MessageConsumer,
  PulsarAdmin,
  PulsarClient,
  TimeoutError,
} from "../../lib/pulsar/mod.ts";

const { serviceUrl, adminUrl } = await pulsarUrls();
const admin = new PulsarAdmin({ adminUrl });
const run = crypto.randomUUID().slice(0, 8);

async function receiveAll(consumer: MessageConsumer, n: number, ack = true): Promise<Message[]> {
  const out: Message[] = [];
  for (let i = 0; i < n; i++) {
    let msg: Message;
    try {
      msg = await consumer.receive(15_000);
    } catch (error) {
      throw new Error(`received ${out.length} of ${n}; ${await partitionReport(consumer)}`, {
        cause: error,
      });
    }
    if (ack) consumer.ack(msg.id.toString()); // acks by opaque id find their partition
    out.push(msg);
  }
  return out;
}

/** What the broker says of each topic the consumer reads: why did nothing more arrive? */
async function partitionReport(consumer: MessageConsumer): Promise<string> {
  const topics = "topics" in consumer ? (consumer as { topics: string[] }).topics : [];
  const lines = await Promise.all(topics.map(async (topic) => {
    try {
      const stats = await admin.topicStats(topic);
      const subs = (stats.raw.subscriptions ?? {}) as Record<string, { consumers?: unknown[] }>;
      const consumers = Object.values(subs).flatMap((sub) => sub.consumers ?? []).map((c) => {
        const { availablePermits, unackedMessages, blockedConsumerOnUnackedMsgs, msgOutCounter } =
          c as Record<string, unknown>;
        return { availablePermits, unackedMessages, blockedConsumerOnUnackedMsgs, msgOutCounter };
      });
      const { msgInCounter, msgOutCounter, subscriptions } = stats;
      return `${topic}: ${
        JSON.stringify({ msgInCounter, msgOutCounter, subscriptions, consumers })
      }`;
    } catch (error) {
      return `${topic}: stats failed: ${(error as Error).message}`;
    }
  }));
  return `topics: ${topics.length}\n${lines.join("\n")}`;
}

Deno.test("partitioned topic: keys route like Java, keyless spread, one consumer reads all", async () => {
  const topic = `persistent://public/default/part-${run}`;
  await admin.createTopic(topic, 4);
  const client = new PulsarClient({ serviceUrl });
  try {
    assert.equal((await client.getPartitions(topic)).length, 4);
    const consumer = await client.subscribe({
      topic,
      subscription: "s",
      subscriptionType: "Shared",
    });
    const producer = await client.createProducer({ topic, batchingMaxDelayMs: 1 });
    const keyed = await Promise.all(
      Array.from(
        { length: 200 },
        (_, i) => producer.send({ payload: `k${i}`, key: `key-${i % 23}` }),
      ),
    );
    keyed.forEach((id, i) =>
      assert.equal(id.partition, partitionFor(`key-${i % 23}`, 4), `key-${i % 23}`)
    );
    const keyless = [];
    for (let i = 0; i < 40; i++) {
      keyless.push(await producer.send({ payload: `n${i}` }));
      await new Promise((r) => setTimeout(r, 3));
    }
    assert.ok(new Set(keyless.map((id) => id.partition)).size > 1, "keyless messages spread");
    const got = await receiveAll(consumer, 240);
    assert.deepEqual(
      got.map((m) => m.text()).sort(),
      [
        ...Array.from({ length: 200 }, (_, i) => `k${i}`),
        ...Array.from({ length: 40 }, (_, i) => `n${i}`),
      ].sort(),
    );
    for (const msg of got) {
      assert.equal(msg.topic, `${topic}-partition-${msg.id.partition}`);
    }
    // Acks reached every partition: nothing comes back after resubscribing.
    await consumer.flushAcks();
    await consumer.close();
    const again = await client.subscribe({ topic, subscription: "s", subscriptionType: "Shared" });
    await assert.rejects(again.receive(1500), TimeoutError);
    // A reader over all partitions reads everything once.
    const reader = await client.createReader({ topic, startAt: "earliest" });
    let read = 0;
    while (await reader.hasMessageAvailable()) {
      await reader.readNext(10_000);
      read++;
    }
    assert.equal(read, 240);
  } finally {
    await client.close();
    await admin.deleteTopic(topic).catch(() => {});
  }
});

Deno.test("a topic list and a regex pattern (new topics picked up) share one consumer", async () => {
  const client = new PulsarClient({ serviceUrl });
  const prefix = `persistent://public/default/multi-${run}`;
  try {
    const topics = [`${prefix}-a`, `${prefix}-b`];
    for (const t of topics) await admin.createTopic(t);
    const list = await client.subscribe({
      topics,
      subscription: "list",
      initialPosition: "earliest",
    });
    const pattern = await client.subscribe({
      topicsPattern: `${prefix}-.*`,
      subscription: "pattern",
      initialPosition: "earliest",
      patternRefreshMs: 500,
    });
    for (const t of topics) {
      const producer = await client.createProducer({ topic: t });
      await producer.send({ payload: t });
      await producer.close();
    }
    const fromList = (await receiveAll(list, 2)).map((m) => m.text()).sort();
    assert.deepEqual(fromList, topics);
    const fromPattern = (await receiveAll(pattern, 2)).map((m) => m.text()).sort();
    assert.deepEqual(fromPattern, topics);
    // A topic created later matches the pattern and is consumed after the next refresh.
    const late = `${prefix}-c`;
    await admin.createTopic(late);
    await new Promise((r) => setTimeout(r, 1500));
    const producer = await client.createProducer({ topic: late });
    await producer.send({ payload: late });
    assert.equal((await pattern.receive(15_000)).text(), late);
    // Another namespace's topics and non-matching names are not consumed.
    const other = await client.createProducer({
      topic: `persistent://public/default/other-${run}`,
    });
    await other.send({ payload: "other" });
    await assert.rejects(pattern.receive(1200), TimeoutError);
  } finally {
    await client.close();
  }
});

Deno.test("a topic list reads far more than its merged queue holds from every topic", async () => {
  // Regression: pumps that all wait for room in a full merged queue must all wake again.
  const client = new PulsarClient({ serviceUrl });
  const prefix = `persistent://public/default/multi-full-${run}`;
  try {
    const topics = [`${prefix}-a`, `${prefix}-b`, `${prefix}-c`];
    const perTopic = 300;
    for (const t of topics) {
      const producer = await client.createProducer({ topic: t });
      await Promise.all(
        Array.from({ length: perTopic }, (_, i) => producer.send({ payload: `${t}#${i}` })),
      );
      await producer.close();
    }
    const consumer = await client.subscribe({
      topics,
      subscription: "full",
      initialPosition: "earliest",
      receiverQueueSize: 10,
    });
    const received = await receiveAll(consumer, topics.length * perTopic);
    const perTopicCount = new Map<string, number>();
    for (const msg of received) {
      const topic = msg.text().split("#")[0];
      perTopicCount.set(topic, (perTopicCount.get(topic) ?? 0) + 1);
    }
    assert.deepEqual([...perTopicCount.entries()].sort(), topics.map((t) => [t, perTopic]));
  } finally {
    await client.close();
  }
});
