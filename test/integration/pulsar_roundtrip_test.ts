/**
 * Produce / consume round trips against a real broker: content and order, keys, properties,
 * event time, batching on and off, and every compression codec.
 */
import assert from "node:assert/strict";
import { pulsarUrls } from "../harness/pulsar.ts";
import {
  type Compression,
  type MessageConsumer,
  MessageId,
  Producer,
  PulsarClient,
} from "../../lib/pulsar/mod.ts";

const { serviceUrl } = await pulsarUrls();
const run = crypto.randomUUID().slice(0, 8);
const topicName = (name: string) => `persistent://public/default/rt-${run}-${name}`;

async function receiveN(consumer: MessageConsumer, n: number) {
  const out = [];
  for (let i = 0; i < n; i++) {
    const msg = await consumer.receive(15_000);
    consumer.ack(msg);
    out.push(msg);
  }
  return out;
}

Deno.test("round trip keeps content, order, keys, properties and event time", async () => {
  const client = new PulsarClient({ serviceUrl });
  try {
    for (const batching of [true, false]) {
      const topic = topicName(`fields-${batching}`);
      const consumer = await client.subscribe({
        topic,
        subscription: "s",
        initialPosition: "earliest",
      });
      const producer = await client.createProducer({ topic, batching, batchingMaxMessages: 7 });
      const sent = Array.from({ length: 50 }, (_, i) => ({
        payload: JSON.stringify({ i, pad: "x".repeat(i * 13) }),
        ...(i % 3 === 0 ? {} : { key: `key-${i % 5}` }),
        properties: { i: String(i), parity: i % 2 ? "odd" : "even" },
        ...(i % 4 === 0 ? {} : { eventTime: 1_700_000_000_000 + i }),
      }));
      const ids = await Promise.all(sent.map((m) => producer.send(m)));
      // Receipts are distinct and in send order.
      assert.equal(new Set(ids.map((id) => id.toString())).size, 50);
      for (let i = 1; i < ids.length; i++) assert.ok(MessageId.compare(ids[i - 1], ids[i]) < 0);
      const received = await receiveN(consumer, 50);
      received.forEach((msg, i) => {
        assert.equal(msg.text(), sent[i].payload, `payload ${i} (batching=${batching})`);
        assert.equal(msg.key, sent[i].key, `key ${i}`);
        assert.deepEqual(msg.properties, sent[i].properties, `properties ${i}`);
        assert.equal(msg.eventTime, sent[i].eventTime ?? 0, `event time ${i}`);
        assert.equal(msg.id.toString(), ids[i].toString(), `id ${i} matches its receipt`);
        assert.ok(msg.publishTime > 0);
      });
      if (batching) assert.ok(received.some((m) => m.id.batchIndex > 0), "batches were formed");
      else assert.ok(received.every((m) => m.id.batchIndex === -1), "no batches");
      await producer.close();
      await consumer.close();
    }
  } finally {
    await client.close();
  }
});

for (const codec of ["LZ4", "ZLIB", "ZSTD", "SNAPPY"] as Compression[]) {
  Deno.test(`batched round trip with ${codec} compression`, async () => {
    const client = new PulsarClient({ serviceUrl });
    try {
      const topic = topicName(`codec-${codec}`);
      const consumer = await client.subscribe({
        topic,
        subscription: "s",
        initialPosition: "earliest",
      });
      const producer = await client.createProducer({
        topic,
        compression: codec,
        batchingMaxMessages: 100,
      });
      // Compressible and incompressible payloads alike.
      const random = (n: number) =>
        btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(n))));
      const sent = Array.from(
        { length: 300 },
        (_, i) => i % 2 ? `${i}:${"abc".repeat(200)}` : `${i}:${random(300)}`,
      );
      await Promise.all(sent.map((payload, i) => producer.send({ payload, key: `k${i % 7}` })));
      const received = await receiveN(consumer, sent.length);
      assert.deepEqual(received.map((m) => m.text()), sent);
      assert.deepEqual(received.map((m) => m.key), sent.map((_, i) => `k${i % 7}`));
    } finally {
      await client.close();
    }
  });
}

Deno.test("binary payloads, empty payloads and large messages survive", async () => {
  const client = new PulsarClient({ serviceUrl });
  try {
    const topic = topicName("binary");
    const consumer = await client.subscribe({
      topic,
      subscription: "s",
      initialPosition: "earliest",
    });
    const producer = await client.createProducer({ topic, compression: "LZ4" });
    const payloads = [
      new Uint8Array(0),
      Uint8Array.from({ length: 256 }, (_, i) => i),
      crypto.getRandomValues(new Uint8Array(60_000)),
      new Uint8Array(1024 * 1024).fill(7),
    ];
    for (const payload of payloads) await producer.send({ payload });
    const received = await receiveN(consumer, payloads.length);
    received.forEach((msg, i) => assert.deepEqual(msg.payload, payloads[i]));
  } finally {
    await client.close();
  }
});

Deno.test("a message over the broker's limit is refused with a typed error", async () => {
  const client = new PulsarClient({ serviceUrl });
  try {
    const producer = await client.createProducer({
      topic: topicName("too-large"),
      batching: false,
    });
    await assert.rejects(
      producer.send({ payload: new Uint8Array(6 * 1024 * 1024) }),
      (err: Error) => err.name === "MessageTooLargeError",
    );
    // The producer still works afterwards.
    const id = await producer.send({ payload: "fine" });
    assert.ok(id.entryId >= 0n);
  } finally {
    await client.close();
  }
});

Deno.test("backpressure: no more than maxPendingMessages are in flight; order is kept", async () => {
  const client = new PulsarClient({ serviceUrl });
  try {
    const topic = topicName("backpressure");
    const consumer = await client.subscribe({ topic, subscription: "s" });
    const producer = await client.createProducer({ topic, maxPendingMessages: 5, batching: false });
    assert.ok(producer instanceof Producer);
    let most = 0;
    const receipts = [];
    for (let i = 0; i < 200; i++) {
      receipts.push(producer.send({ payload: `${i}` }));
      most = Math.max(most, producer.pendingMessages);
    }
    let waited = false;
    const ready = producer.ready().then(() => (waited = true));
    assert.equal(waited, false, "ready() waits while the producer is full");
    await Promise.all(receipts);
    await ready;
    assert.equal(most, 5);
    const got = [];
    for (let i = 0; i < 200; i++) got.push((await consumer.receive(10_000)).text());
    assert.deepEqual(got, Array.from({ length: 200 }, (_, i) => `${i}`));
  } finally {
    await client.close();
  }
});
