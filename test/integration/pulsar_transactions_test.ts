/**
 * Transactions against a real broker (the transaction coordinator enabled): a commit makes the
 * sends visible and the acks effective, an abort hides the sends and delivers the acked messages
 * again, a transaction the client leaves open is aborted by its timeout, and a commit survives
 * the coordinator's connection dropping. What the output topic holds is read by the Java client.
 */
import assert from "node:assert/strict";
import { pulsarUrls } from "../harness/pulsar.ts";
import { consumedContents, pulsarClient } from "../harness/java_client.ts";
import {
  type MessageConsumer,
  PulsarAdmin,
  PulsarClient,
  TimeoutError,
  TransactionError,
} from "../../lib/pulsar/mod.ts";
import { sleep } from "../../lib/pulsar/backoff.ts";

const { serviceUrl, adminUrl } = await pulsarUrls();
const run = crypto.randomUUID().slice(0, 8);
const topicName = (name: string) => `persistent://public/default/txn-${run}-${name}`;
const admin = new PulsarAdmin({ adminUrl });

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

/** Every message of `topic` a fresh Java subscription reads, ending with the `end` marker. */
async function javaReadUntilMarker(topic: string, expected: number): Promise<string[]> {
  const output = await pulsarClient({ serviceUrl }, [
    "consume",
    topic,
    "-s",
    `java-${crypto.randomUUID()}`,
    "-p",
    "Earliest",
    "-n",
    String(expected),
  ]);
  return consumedContents(output);
}

/** A source topic holding `payloads`, a subscription on it, and an output topic. */
async function setup(client: PulsarClient, name: string, payloads: string[]) {
  const source = topicName(`${name}-in`);
  const output = topicName(`${name}-out`);
  const consumer = await client.subscribe({
    topic: source,
    subscription: "pipe",
    subscriptionType: "Exclusive",
    batchIndexAck: true,
  });
  const seed = await client.createProducer({ topic: source, batchingMaxMessages: 3 });
  await Promise.all(payloads.map((payload) => seed.send({ payload })));
  await seed.close();
  const producer = await client.createProducer({ topic: output, batchingMaxMessages: 4 });
  // A reader that sees only committed messages (the broker's default isolation).
  const watcher = await client.subscribe({
    topic: output,
    subscription: "watch",
    initialPosition: "earliest",
  });
  return { source, output, consumer, producer, watcher };
}

const ten = Array.from({ length: 10 }, (_, i) => `m${i}`);

Deno.test("txn commit: sends become visible and acks take effect together", async () => {
  const client = new PulsarClient({ serviceUrl });
  try {
    const { source, output, consumer, producer, watcher } = await setup(client, "commit", ten);
    const txns = await client.transactions();
    assert.ok(txns.coordinators >= 1);
    const txn = await txns.newTransaction({ timeoutMs: 60_000 });
    for (let i = 0; i < ten.length; i++) {
      const msg = await consumer.receive(10_000);
      void producer.send({ payload: `out-${msg.text()}` }, { txn });
      void consumer.ackInTransaction(msg, txn);
    }
    await producer.flush();
    assert.deepEqual(await rest(watcher, 700), [], "nothing is visible before the commit");
    await txn.commit();
    assert.equal(txn.state, "committed");
    assert.deepEqual(await rest(watcher), ten.map((m) => `out-${m}`));
    // The independent reader: the Java client sees the ten, in order.
    assert.deepEqual(await javaReadUntilMarker(output, 10), ten.map((m) => `out-${m}`));
    await consumer.close();
    const stats = await admin.topicStats(source);
    assert.equal(stats.subscriptions.pipe.backlog, 0, "the acks in the transaction took effect");
    await assert.rejects(producer.send({ payload: "late" }, { txn }), TransactionError);
  } finally {
    await client.close();
  }
});

Deno.test("txn abort: sends stay invisible, acked messages are delivered again", async () => {
  const client = new PulsarClient({ serviceUrl });
  try {
    const { source, output, consumer, producer, watcher } = await setup(client, "abort", ten);
    const txns = await client.transactions();
    const txn = await txns.newTransaction();
    for (let i = 0; i < ten.length; i++) {
      const msg = await consumer.receive(10_000);
      void producer.send({ payload: `aborted-${msg.text()}` }, { txn });
      void consumer.ackInTransaction(msg, txn);
    }
    await producer.flush();
    await txn.abort();
    assert.equal(txn.state, "aborted");
    consumer.redeliverUnacknowledged();
    assert.deepEqual(await rest(consumer), ten, "the acks were undone");
    await producer.send({ payload: "after-abort" });
    assert.deepEqual(await rest(watcher), ["after-abort"]);
    assert.deepEqual(await javaReadUntilMarker(output, 1), ["after-abort"]);
    await consumer.close();
    // The backlog counts batch entries: some are left, none was acknowledged for good.
    assert.ok((await admin.topicStats(source)).subscriptions.pipe.backlog > 0);
  } finally {
    await client.close();
  }
});

Deno.test("txn timeout: the coordinator aborts a transaction left open", async () => {
  const client = new PulsarClient({ serviceUrl });
  try {
    const { consumer, producer, watcher } = await setup(client, "timeout", ten.slice(0, 3));
    const txns = await client.transactions();
    const txn = await txns.newTransaction({ timeoutMs: 1000 });
    for (let i = 0; i < 3; i++) {
      const msg = await consumer.receive(10_000);
      await producer.send({ payload: `timed-out-${msg.text()}` }, { txn });
      await consumer.ackInTransaction(msg, txn);
    }
    // Well past the timeout (the broker's timeout tracker ticks every 100 ms by default).
    await sleep(4000);
    await assert.rejects(txn.commit(), TransactionError);
    consumer.redeliverUnacknowledged();
    assert.deepEqual(await rest(consumer), ten.slice(0, 3));
    await producer.send({ payload: "after-timeout" });
    assert.deepEqual(await rest(watcher), ["after-timeout"]);
  } finally {
    await client.close();
  }
});

Deno.test("txn: a commit goes through after the coordinator's connection drops", async () => {
  const client = new PulsarClient({ serviceUrl });
  try {
    const { consumer, producer, watcher } = await setup(client, "reconnect", ten.slice(0, 4));
    const txns = await client.transactions();
    const txn = await txns.newTransaction();
    for (let i = 0; i < 4; i++) {
      const msg = await consumer.receive(10_000);
      await producer.send({ payload: `kept-${msg.text()}` }, { txn });
      await consumer.ackInTransaction(msg, txn);
    }
    for (const conn of await client.pool.connections()) conn.simulateNetworkFailure();
    await txn.commit();
    assert.deepEqual(await rest(watcher), ten.slice(0, 4).map((m) => `kept-${m}`));
    consumer.redeliverUnacknowledged();
    assert.deepEqual(await rest(consumer, 700), [], "the acks survived the reconnect");
  } finally {
    await client.close();
  }
});

Deno.test("txn: messages acked in a transaction whose owner vanished come to the next consumer after its timeout", async () => {
  const client = new PulsarClient({ serviceUrl });
  const other = new PulsarClient({ serviceUrl });
  try {
    const { source, consumer, producer } = await setup(client, "orphan", ten.slice(0, 5));
    const txns = await client.transactions();
    const txn = await txns.newTransaction({ timeoutMs: 2000 });
    for (let i = 0; i < 5; i++) {
      const msg = await consumer.receive(10_000);
      await producer.send({ payload: `orphan-${msg.text()}` }, { txn });
      await consumer.ackInTransaction(msg, txn);
    }
    // The owner goes away without ending the transaction (as after kill -9).
    await client.close();
    const next = await other.subscribe({
      topic: source,
      subscription: "pipe",
      subscriptionType: "Exclusive",
    });
    const got = await rest(next, 6000);
    assert.deepEqual(got.sort(), ten.slice(0, 5), "every message comes again, once");
  } finally {
    await client.close();
    await other.close();
  }
});
