/**
 * Acknowledgements against a real broker: individual and cumulative acks (what is not acked comes
 * back after a reconnect), negative acks, ack timeout, and the dead-letter topic.
 */
import assert from "node:assert/strict";
import { pulsarUrls } from "../harness/pulsar.ts";
import {
  InvalidArgumentError,
  type MessageConsumer,
  PulsarClient,
  TimeoutError,
} from "../../lib/pulsar/mod.ts";

const { serviceUrl, adminUrl } = await pulsarUrls();
const run = crypto.randomUUID().slice(0, 8);
const topicName = (name: string) => `persistent://public/default/ack-${run}-${name}`;

async function texts(consumer: MessageConsumer, n: number, timeoutMs = 10_000): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push((await consumer.receive(timeoutMs)).text());
  return out;
}

async function nothingMore(consumer: MessageConsumer, waitMs = 700): Promise<void> {
  await assert.rejects(consumer.receive(waitMs), TimeoutError, "no further message expected");
}

async function produce(client: PulsarClient, topic: string, payloads: string[], batching = false) {
  const producer = await client.createProducer({ topic, batching, batchingMaxMessages: 5 });
  await Promise.all(payloads.map((payload) => producer.send({ payload })));
  await producer.close();
}

const ten = Array.from({ length: 10 }, (_, i) => `m${i}`);

/** Reads the broker's runtime configuration (to know whether batch-index acks are on). */
async function brokerConfig(): Promise<Record<string, string>> {
  const response = await fetch(`${adminUrl}/admin/v2/brokers/configuration/runtime`);
  return await response.json();
}

/** Receives until nothing arrives for `quietMs`. */
async function rest(consumer: MessageConsumer, quietMs = 1000): Promise<string[]> {
  const out: string[] = [];
  for (;;) {
    try {
      out.push((await consumer.receive(quietMs)).text());
    } catch (error) {
      if (error instanceof TimeoutError) return out;
      throw error;
    }
  }
}

for (const batching of [false, true]) {
  Deno.test(`individual acks: unacked messages return after resubscribing (batching=${batching})`, async () => {
    const client = new PulsarClient({ serviceUrl });
    try {
      const topic = topicName(`individual-${batching}`);
      const options = {
        topic,
        subscription: "s",
        initialPosition: "earliest" as const,
        subscriptionType: "Shared" as const,
      };
      let consumer = await client.subscribe(options);
      await produce(client, topic, ten, batching);
      const entryOf = new Map<string, string>();
      const unackedEntries = new Set<string>();
      for (let i = 0; i < 10; i++) {
        const msg = await consumer.receive(10_000);
        const entry = `${msg.id.ledgerId}:${msg.id.entryId}`;
        entryOf.set(msg.text(), entry);
        // Ack all of the first half, every other one of the second half.
        if (i < 5 || i % 2 === 0) consumer.ack(msg);
        else unackedEntries.add(entry);
      }
      await consumer.close();
      consumer = await client.subscribe(options);
      const again = (await rest(consumer)).sort();
      // Without batch-index acks a batch is acknowledged only as a whole: an entry with any
      // unacked message comes back entirely.
      const expected = ten.filter((t) => unackedEntries.has(entryOf.get(t)!)).sort();
      if (!batching) assert.deepEqual(expected, ["m5", "m7", "m9"]);
      assert.deepEqual(again, expected);
      assert.ok(!again.includes("m0"), "the fully acked part stays acked");
    } finally {
      await client.close();
    }
  });
}

Deno.test("batch-index acks: a partly acked batch comes back as the broker's setting says", async () => {
  const client = new PulsarClient({ serviceUrl });
  try {
    const config = await brokerConfig();
    // Observed on 4.0.8: with the transaction coordinator enabled the broker keeps ack sets of
    // partly acknowledged batches even when acknowledgmentAtBatchIndexLevelEnabled is false.
    const indexLevel = config.acknowledgmentAtBatchIndexLevelEnabled === "true" ||
      config.transactionCoordinatorEnabled === "true";
    const topic = topicName("batch-index");
    const options = {
      topic,
      subscription: "s",
      initialPosition: "earliest" as const,
      subscriptionType: "Shared" as const,
      batchIndexAck: true,
    };
    let consumer = await client.subscribe(options);
    await produce(client, topic, ten, true);
    const entryOf = new Map<string, string>();
    for (let i = 0; i < 10; i++) {
      const msg = await consumer.receive(10_000);
      assert.ok(msg.id.batchIndex >= 0, "batched");
      entryOf.set(msg.text(), `${msg.id.ledgerId}:${msg.id.entryId}`);
      if (i !== 3 && i !== 8) consumer.ack(msg);
    }
    await consumer.flushAcks();
    await consumer.close();
    consumer = await client.subscribe(options);
    const again = (await rest(consumer)).sort();
    const partly = new Set([entryOf.get("m3"), entryOf.get("m8")]);
    const expected = indexLevel
      ? ["m3", "m8"]
      : ten.filter((t) => partly.has(entryOf.get(t))).sort();
    assert.deepEqual(again, expected, `batch-index level acks on the broker: ${indexLevel}`);
  } finally {
    await client.close();
  }
});

Deno.test("cumulative ack: everything up to the acked message stays acknowledged", async () => {
  const client = new PulsarClient({ serviceUrl });
  try {
    const topic = topicName("cumulative");
    const options = { topic, subscription: "s", initialPosition: "earliest" as const };
    let consumer = await client.subscribe(options);
    await produce(client, topic, ten);
    let sixth;
    for (let i = 0; i < 10; i++) {
      const msg = await consumer.receive(10_000);
      if (i === 6) sixth = msg;
    }
    consumer.ackCumulative(sixth!);
    await consumer.close();
    consumer = await client.subscribe(options);
    assert.deepEqual(await texts(consumer, 3), ["m7", "m8", "m9"]);
    await nothingMore(consumer);
  } finally {
    await client.close();
  }
});

Deno.test("cumulative ack is refused on a Shared subscription", async () => {
  const client = new PulsarClient({ serviceUrl });
  try {
    const topic = topicName("cumulative-shared");
    const consumer = await client.subscribe({
      topic,
      subscription: "s",
      subscriptionType: "Shared",
      initialPosition: "earliest",
    });
    await produce(client, topic, ["x"]);
    const msg = await consumer.receive(10_000);
    assert.throws(() => consumer.ackCumulative(msg), InvalidArgumentError);
  } finally {
    await client.close();
  }
});

for (const subscriptionType of ["Shared", "Exclusive"] as const) {
  Deno.test(`nack: the message comes back after the delay with a higher redelivery count (${subscriptionType})`, async () => {
    const client = new PulsarClient({ serviceUrl });
    try {
      const topic = topicName(`nack-${subscriptionType}`);
      const consumer = await client.subscribe({
        topic,
        subscription: "s",
        subscriptionType,
        initialPosition: "earliest",
        nackRedeliveryDelayMs: 300,
      });
      await produce(client, topic, ["a", "b", "c"]);
      const first = await consumer.receive(10_000);
      assert.equal(first.text(), "a");
      assert.equal(first.redeliveryCount, 0);
      const nackedAt = Date.now();
      consumer.nack(first);
      const seen: { text: string; count: number }[] = [];
      while (!seen.some((s) => s.text === "a")) {
        const msg = await consumer.receive(10_000);
        seen.push({ text: msg.text(), count: msg.redeliveryCount });
        consumer.ack(msg);
      }
      assert.ok(Date.now() - nackedAt >= 250, "not before the delay");
      // Brokers count redeliveries only on Shared and Key_Shared subscriptions.
      if (subscriptionType === "Shared") assert.equal(seen.find((s) => s.text === "a")!.count, 1);
      const texts = new Set(seen.map((s) => s.text));
      for (const t of ["b", "c"]) {
        if (!texts.has(t)) assert.equal((await consumer.receive(10_000)).text(), t);
      }
    } finally {
      await client.close();
    }
  });
}

Deno.test("ack timeout: unacknowledged messages are redelivered", async () => {
  const client = new PulsarClient({ serviceUrl });
  try {
    const topic = topicName("ack-timeout");
    const consumer = await client.subscribe({
      topic,
      subscription: "s",
      subscriptionType: "Shared",
      initialPosition: "earliest",
      ackTimeoutMs: 1000,
    });
    await produce(client, topic, ["keep", "drop"]);
    const a = await consumer.receive(10_000);
    const b = await consumer.receive(10_000);
    const keep = a.text() === "keep" ? a : b;
    consumer.ack(keep);
    const started = Date.now();
    const again = await consumer.receive(10_000);
    assert.equal(again.text(), "drop");
    assert.equal(again.redeliveryCount, 1);
    assert.ok(Date.now() - started >= 500, "redelivered only after the timeout");
    consumer.ack(again);
    await nothingMore(consumer, 2000);
  } finally {
    await client.close();
  }
});

Deno.test("dead letter: after N redeliveries the message moves to <topic>-<sub>-DLQ and is acked", async () => {
  const client = new PulsarClient({ serviceUrl });
  try {
    const topic = topicName("dlq");
    const dlqTopic = `${topic}-s-DLQ`;
    const dlqConsumer = await client.subscribe({
      topic: dlqTopic,
      subscription: "inspect",
      initialPosition: "earliest",
    });
    const consumer = await client.subscribe({
      topic,
      subscription: "s",
      subscriptionType: "Shared",
      initialPosition: "earliest",
      nackRedeliveryDelayMs: 100,
      deadLetter: { maxRedeliverCount: 2 },
    });
    const producer = await client.createProducer({ topic });
    await producer.send({ payload: "poison", key: "k1", properties: { origin: "test" } });
    await producer.send({ payload: "fine" });
    const deliveries: number[] = [];
    let fine = 0;
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      let msg;
      try {
        msg = await consumer.receive(1500);
      } catch {
        break;
      }
      if (msg.text() === "poison") {
        deliveries.push(msg.redeliveryCount);
        consumer.nack(msg);
      } else {
        fine++;
        consumer.ack(msg);
      }
    }
    assert.deepEqual(deliveries, [0, 1, 2], "delivered 1 + maxRedeliverCount times");
    assert.equal(fine, 1);
    const dead = await dlqConsumer.receive(10_000);
    assert.equal(dead.text(), "poison");
    assert.equal(dead.key, "k1");
    assert.equal(dead.properties.origin, "test");
    assert.equal(dead.properties.REAL_TOPIC, topic);
    // Acked on the original subscription: it does not come back after resubscribing.
    await consumer.close();
    const again = await client.subscribe({
      topic,
      subscription: "s",
      subscriptionType: "Shared",
      initialPosition: "earliest",
    });
    await nothingMore(again, 1500);
  } finally {
    await client.close();
  }
});

Deno.test("acks by id string from elsewhere never acknowledge a whole batch early", async () => {
  const client = new PulsarClient({ serviceUrl });
  try {
    const topic = topicName("ids-from-elsewhere");
    const options = {
      topic,
      subscription: "s",
      subscriptionType: "Shared" as const,
      initialPosition: "earliest" as const,
    };
    const receiver = await client.subscribe({ ...options, receiverQueueSize: 100 });
    await produce(client, topic, ["b0", "b1", "b2", "b3", "b4"], true);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await receiver.receive(10_000)).id.toString());
    // Another consumer of the subscription (as a separate process holding ids would) acks
    // three of the five; it never saw the batch.
    const acker = await client.subscribe({ ...options, receiverQueueSize: 1 });
    for (const id of ids.slice(0, 3)) acker.ack(id);
    await acker.flushAcks();
    await new Promise((r) => setTimeout(r, 300));
    await receiver.close();
    // The two unacknowledged messages must come back (with their batch).
    const again = new Set(await rest(acker, 1500));
    assert.ok(again.has("b3") && again.has("b4"), `redelivered: ${[...again]}`);
  } finally {
    await client.close();
  }
});
