/**
 * Seek and readers against a real broker: seek by message id and by publish time, readers from
 * earliest / latest / after an id / a publish time, and bounded reads with hasMessageAvailable.
 */
import assert from "node:assert/strict";
import { pulsarUrls } from "../harness/pulsar.ts";
import {
  MessageId,
  type MessageProducer,
  PulsarClient,
  TimeoutError,
} from "../../lib/pulsar/mod.ts";

const { serviceUrl, adminUrl } = await pulsarUrls();
const run = crypto.randomUUID().slice(0, 8);
const topicName = (name: string) => `persistent://public/default/seek-${run}-${name}`;

async function sendAll(producer: MessageProducer, payloads: string[]): Promise<MessageId[]> {
  return await Promise.all(payloads.map((payload) => producer.send({ payload })));
}

const twenty = Array.from({ length: 20 }, (_, i) => `m${i}`);

for (const batching of [false, true]) {
  Deno.test(`seek by message id, then by publish time (batching=${batching})`, async () => {
    const client = new PulsarClient({ serviceUrl });
    try {
      const topic = topicName(`seek-${batching}`);
      const consumer = await client.subscribe({
        topic,
        subscription: "s",
        initialPosition: "earliest",
      });
      const producer = await client.createProducer({ topic, batching, batchingMaxMessages: 4 });
      const ids = await sendAll(producer, twenty.slice(0, 10));
      await new Promise((r) => setTimeout(r, 50));
      const middle = Date.now();
      await new Promise((r) => setTimeout(r, 50));
      await sendAll(producer, twenty.slice(10));
      for (let i = 0; i < 20; i++) consumer.ack(await consumer.receive(10_000));

      // Batched messages: the broker rewinds to the start of the entry holding the target.
      await consumer.seek(ids[6].toString());
      const first = await consumer.receive(10_000);
      const expectedFirst = batching ? ids.findIndex((id) => id.entryId === ids[6].entryId) : 6;
      assert.equal(first.text(), `m${expectedFirst}`);

      await consumer.seek(middle);
      const afterTime = await consumer.receive(10_000);
      assert.equal(afterTime.text(), "m10");
    } finally {
      await client.close();
    }
  });
}

Deno.test("reader from earliest reads exactly what exists (hasMessageAvailable)", async () => {
  const client = new PulsarClient({ serviceUrl });
  try {
    const topic = topicName("bounded");
    const producer = await client.createProducer({ topic, batchingMaxMessages: 3 });
    await sendAll(producer, twenty);
    const reader = await client.createReader({ topic, startAt: "earliest" });
    const read: string[] = [];
    while (await reader.hasMessageAvailable()) read.push((await reader.readNext(10_000)).text());
    assert.deepEqual(read, twenty);
    assert.equal(await reader.hasMessageAvailable(), false);
    // A new message makes it true again.
    await producer.send({ payload: "late" });
    assert.equal(await reader.hasMessageAvailable(), true);
    assert.equal((await reader.readNext(10_000)).text(), "late");
    // The reader left no subscription behind once closed.
    await reader.close();
    const stats = await (await fetch(
      `${adminUrl}/admin/v2/persistent/public/default/seek-${run}-bounded/stats`,
    )).json();
    assert.deepEqual(Object.keys(stats.subscriptions), []);
  } finally {
    await client.close();
  }
});

Deno.test("reader on an empty topic has nothing available", async () => {
  const client = new PulsarClient({ serviceUrl });
  try {
    const topic = topicName("empty");
    const producer = await client.createProducer({ topic });
    const reader = await client.createReader({ topic, startAt: "earliest" });
    assert.equal(await reader.hasMessageAvailable(), false);
    await producer.close();
  } finally {
    await client.close();
  }
});

for (const batching of [false, true]) {
  Deno.test(`reader after a message id, from latest, and from a publish time (batching=${batching})`, async () => {
    const client = new PulsarClient({ serviceUrl });
    try {
      const topic = topicName(`positions-${batching}`);
      const producer = await client.createProducer({ topic, batching, batchingMaxMessages: 4 });
      const ids = await sendAll(producer, twenty.slice(0, 10));
      await new Promise((r) => setTimeout(r, 1100));
      const middle = Date.now();
      await new Promise((r) => setTimeout(r, 50));
      await sendAll(producer, twenty.slice(10));

      const after = await client.createReader({
        topic,
        startAt: { afterMessageId: ids[5].toString() },
      });
      const fromId: string[] = [];
      while (await after.hasMessageAvailable()) fromId.push((await after.readNext(10_000)).text());
      assert.deepEqual(fromId, twenty.slice(6));

      const fromTime = await client.createReader({ topic, startAt: { publishTime: middle } });
      const timed: string[] = [];
      while (await fromTime.hasMessageAvailable()) {
        timed.push((await fromTime.readNext(10_000)).text());
      }
      assert.deepEqual(timed, twenty.slice(10));

      const latest = await client.createReader({ topic, startAt: "latest" });
      assert.equal(await latest.hasMessageAvailable(), false);
      await assert.rejects(latest.readNext(500), TimeoutError);
      await producer.send({ payload: "new" });
      assert.equal((await latest.readNext(10_000)).text(), "new");

      const last = await latest.getLastMessageId();
      assert.ok(MessageId.compare(last, ids[9]) > 0);
    } finally {
      await client.close();
    }
  });
}
