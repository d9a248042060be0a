/**
 * Connections cut under a running producer and consumer: both reconnect with backoff, pending
 * messages are resent in order, unacknowledged ones are redelivered, and nothing is lost.
 */
import assert from "node:assert/strict";
import { pulsarUrls } from "../harness/pulsar.ts";
import { PulsarClient, TimeoutError } from "../../lib/pulsar/mod.ts";

const { serviceUrl } = await pulsarUrls();
const run = crypto.randomUUID().slice(0, 8);

async function cutAll(client: PulsarClient): Promise<number> {
  const connections = await client.pool.connections();
  for (const conn of connections) conn.simulateNetworkFailure();
  return connections.length;
}

for (const batching of [true, false]) {
  Deno.test(`connections cut mid-stream: nothing lost (batching=${batching})`, async () => {
    const backoff = { initialMs: 20, maxMs: 500 };
    const producerClient = new PulsarClient({ serviceUrl, backoff });
    const consumerClient = new PulsarClient({ serviceUrl, backoff });
    try {
      const topic = `persistent://public/default/recovery-${run}-${batching}`;
      const consumer = await consumerClient.subscribe({
        topic,
        subscription: "s",
        subscriptionType: "Shared",
        receiverQueueSize: 100,
      });
      const producer = await producerClient.createProducer({
        topic,
        batching,
        maxPendingMessages: 200,
      });
      const total = batching ? 5000 : 1500;
      const received = new Map<string, number>();
      let deliveries = 0;
      const consuming = (async () => {
        while (received.size < total) {
          try {
            const msg = await consumer.receive(20_000);
            deliveries++;
            received.set(msg.text(), (received.get(msg.text()) ?? 0) + 1);
            consumer.ack(msg);
          } catch (error) {
            if (error instanceof TimeoutError) break;
            throw error;
          }
        }
      })();
      const receipts: Promise<unknown>[] = [];
      let cuts = 0;
      for (let i = 0; i < total; i++) {
        await producer.ready();
        receipts.push(producer.send({ payload: `m${i}` }));
        if (i > 0 && i % Math.floor(total / 5) === 0) {
          cuts += await cutAll(producerClient);
          cuts += await cutAll(consumerClient);
        }
      }
      const settled = await Promise.allSettled(receipts);
      const failed = settled.filter((s) => s.status === "rejected");
      assert.equal(
        failed.length,
        0,
        `send failures: ${failed.map((f) => (f as PromiseRejectedResult).reason)}`,
      );
      await consuming;
      assert.ok(cuts >= 4, `connections were cut (${cuts})`);
      const missing = Array.from({ length: total }, (_, i) => `m${i}`).filter((m) =>
        !received.has(m)
      );
      assert.deepEqual(missing, [], "every message was received");
      console.log(`sent ${total}, received ${received.size} distinct in ${deliveries} deliveries`);
    } finally {
      await producerClient.close();
      await consumerClient.close();
    }
  });
}

Deno.test("a producer resends pending messages in order after its connection drops", async () => {
  const client = new PulsarClient({ serviceUrl, backoff: { initialMs: 20, maxMs: 200 } });
  try {
    const topic = `persistent://public/default/recovery-${run}-order`;
    const consumer = await client.subscribe({ topic, subscription: "s" });
    const producer = await client.createProducer({ topic, batching: false });
    const receipts = [];
    for (let i = 0; i < 300; i++) {
      receipts.push(producer.send({ payload: `${i}` }));
      if (i === 100 || i === 200) await cutAll(client);
    }
    await Promise.all(receipts);
    // Exclusive subscription: order of first appearance equals send order.
    const firstSeen: number[] = [];
    const seen = new Set<number>();
    while (seen.size < 300) {
      const msg = await consumer.receive(20_000);
      consumer.ack(msg);
      const n = Number(msg.text());
      if (!seen.has(n)) firstSeen.push(n);
      seen.add(n);
    }
    assert.deepEqual(firstSeen, Array.from({ length: 300 }, (_, i) => i));
  } finally {
    await client.close();
  }
});
