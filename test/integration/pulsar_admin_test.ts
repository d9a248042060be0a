/**
 * The admin REST calls edgepipe uses, against a real broker: topics created and deleted, backlog
 * read from stats, namespaces checked; and a topic unload (the broker closes producers and
 * consumers) that the client rides through.
 */
import assert from "node:assert/strict";
import { pulsarUrls } from "../harness/pulsar.ts";
import { BrokerError, PulsarAdmin, PulsarClient } from "../../lib/pulsar/mod.ts";

const { serviceUrl, adminUrl } = await pulsarUrls();
const admin = new PulsarAdmin({ adminUrl });
const run = crypto.randomUUID().slice(0, 8);

Deno.test("admin: create, stats with backlog, delete; namespaces", async () => {
  const topic = `persistent://public/default/admin-${run}`;
  await admin.createTopic(topic, 3);
  assert.equal(await admin.partitions(topic), 3);
  const client = new PulsarClient({ serviceUrl });
  try {
    const consumer = await client.subscribe({ topic, subscription: "lagging" });
    // Unbatched: the broker counts backlog in entries.
    const producer = await client.createProducer({ topic, batching: false });
    await Promise.all(
      Array.from({ length: 25 }, (_, i) => producer.send({ payload: `${i}`, key: `${i}` })),
    );
    for (let i = 0; i < 5; i++) consumer.ack(await consumer.receive(10_000));
    await consumer.flushAcks();
    await new Promise((r) => setTimeout(r, 500));
    const stats = await admin.topicStats(topic);
    assert.equal(stats.msgInCounter, 25);
    assert.equal(stats.subscriptions.lagging.backlog, 20);
    assert.ok(stats.subscriptions.lagging.consumers >= 1);
  } finally {
    await client.close();
  }
  await admin.deleteTopic(topic);
  await assert.rejects(
    admin.partitions(topic),
    (err: unknown) => err instanceof BrokerError && err.code === "TopicNotFound",
  );
  await assert.rejects(
    admin.topicStats(topic),
    (err: unknown) => err instanceof BrokerError && err.code === "TopicNotFound",
  );

  assert.equal(await admin.namespaceExists("public/default"), true);
  assert.equal(await admin.namespaceExists(`public/none-${run}`), false);
  await assert.rejects(admin.createTopic(`persistent://public/none-${run}/t`), BrokerError);
  await assert.rejects(admin.namespaceExists("no-slash"), BrokerError);
});

Deno.test("admin: an unreachable admin URL is a retriable ConnectionError", async () => {
  const nowhere = new PulsarAdmin({ adminUrl: "http://127.0.0.1:1", timeoutMs: 2000 });
  await assert.rejects(
    nowhere.namespaceExists("public/default"),
    (err: unknown) =>
      (err as Error).name === "ConnectionError" && (err as { retriable: boolean }).retriable,
  );
});

Deno.test("topic unloaded five times mid-stream: producer and consumer are closed by the broker and come back", async () => {
  const topic = `persistent://public/default/unload-${run}`;
  const client = new PulsarClient({ serviceUrl, backoff: { initialMs: 50, maxMs: 500 } });
  try {
    const consumer = await client.subscribe({ topic, subscription: "s" });
    const producer = await client.createProducer({ topic });
    const sent: Promise<unknown>[] = [];
    for (let i = 0; i < 600; i++) {
      sent.push(producer.send({ payload: `${i}` }));
      if (i > 0 && i % 100 === 0) {
        const response = await fetch(
          `${adminUrl}/admin/v2/persistent/public/default/unload-${run}/unload`,
          {
            method: "PUT",
          },
        );
        assert.ok(response.ok, `unload: ${response.status}`);
        await response.body?.cancel();
      }
    }
    await Promise.all(sent);
    const seen = new Set<string>();
    while (seen.size < 600) {
      const msg = await consumer.receive(15_000);
      consumer.ack(msg);
      seen.add(msg.text());
    }
    assert.equal(seen.size, 600);
  } finally {
    await client.close();
  }
});
