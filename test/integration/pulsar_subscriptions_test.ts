/**
 * Subscription types against a real broker: Exclusive and Failover exclusivity, Shared spreading,
 * Key_Shared keeping each key on one consumer, in order.
 */
import assert from "node:assert/strict";
import { pulsarUrls } from "../harness/pulsar.ts";
import {
  BrokerError,
  type Message,
  type MessageConsumer,
  PulsarClient,
  TimeoutError,
} from "../../lib/pulsar/mod.ts";

const { serviceUrl } = await pulsarUrls();
const run = crypto.randomUUID().slice(0, 8);
const topicName = (name: string) => `persistent://public/default/sub-${run}-${name}`;

/** Receives until `total` messages arrived over all consumers, acking each. */
async function drain(consumers: MessageConsumer[], total: number): Promise<Message[][]> {
  const got: Message[][] = consumers.map(() => []);
  let count = 0;
  await Promise.all(consumers.map(async (consumer, i) => {
    while (count < total) {
      let msg: Message;
      try {
        msg = await consumer.receive(1500);
      } catch (error) {
        if (error instanceof TimeoutError) continue;
        throw error;
      }
      got[i].push(msg);
      count++;
      consumer.ack(msg);
    }
  }));
  return got;
}

Deno.test("Exclusive: a second consumer is refused with ConsumerBusy", async () => {
  const client = new PulsarClient({ serviceUrl });
  try {
    const topic = topicName("exclusive");
    await client.subscribe({ topic, subscription: "s", subscriptionType: "Exclusive" });
    await assert.rejects(
      client.subscribe({ topic, subscription: "s", subscriptionType: "Exclusive" }),
      (err: unknown) => err instanceof BrokerError && err.code === "ConsumerBusy" && !err.retriable,
    );
    // A different subscription on the same topic is fine.
    await client.subscribe({ topic, subscription: "other", subscriptionType: "Exclusive" });
  } finally {
    await client.close();
  }
});

Deno.test("Shared: messages spread over consumers, each delivered once", async () => {
  const client = new PulsarClient({ serviceUrl });
  try {
    const topic = topicName("shared");
    const consumers = await Promise.all([0, 1, 2].map(() =>
      client.subscribe({
        topic,
        subscription: "s",
        subscriptionType: "Shared",
        receiverQueueSize: 10,
      })
    ));
    const producer = await client.createProducer({ topic, batching: false });
    const total = 300;
    await Promise.all(Array.from({ length: total }, (_, i) => producer.send({ payload: `${i}` })));
    const got = await drain(consumers, total);
    const all = got.flat().map((m) => m.text()).sort((a, b) => Number(a) - Number(b));
    assert.deepEqual(all, Array.from({ length: total }, (_, i) => `${i}`));
    for (const [i, list] of got.entries()) assert.ok(list.length > 0, `consumer ${i} got some`);
  } finally {
    await client.close();
  }
});

Deno.test("Failover: one active consumer gets everything; the standby takes over", async () => {
  const client = new PulsarClient({ serviceUrl });
  try {
    const topic = topicName("failover");
    const first = await client.subscribe({
      topic,
      subscription: "s",
      subscriptionType: "Failover",
      consumerName: "a",
    });
    const second = await client.subscribe({
      topic,
      subscription: "s",
      subscriptionType: "Failover",
      consumerName: "b",
    });
    const producer = await client.createProducer({ topic });
    await Promise.all(Array.from({ length: 100 }, (_, i) => producer.send({ payload: `${i}` })));
    const got = await drain([first, second], 100);
    const active = got[0].length > 0 ? 0 : 1;
    assert.equal(got[active].length, 100, "all to the active consumer");
    assert.equal(got[1 - active].length, 0, "none to the standby");
    assert.deepEqual(
      got[active].map((m) => m.text()),
      Array.from({ length: 100 }, (_, i) => `${i}`),
    );
    // The active one leaves: the standby receives what comes next.
    const standby = active === 0 ? second : first;
    await (active === 0 ? first : second).close();
    await Promise.all(
      Array.from({ length: 10 }, (_, i) => producer.send({ payload: `late-${i}` })),
    );
    const late = [];
    for (let i = 0; i < 10; i++) late.push((await standby.receive(10_000)).text());
    assert.deepEqual(late, Array.from({ length: 10 }, (_, i) => `late-${i}`));
  } finally {
    await client.close();
  }
});

Deno.test("Key_Shared: every key stays on one consumer, in order", async () => {
  const client = new PulsarClient({ serviceUrl });
  try {
    const topic = topicName("key-shared");
    const consumers = await Promise.all(
      [0, 1, 2].map(() =>
        client.subscribe({ topic, subscription: "s", subscriptionType: "Key_Shared" })
      ),
    );
    const producer = await client.createProducer({ topic, batching: false });
    const total = 600;
    await Promise.all(
      Array.from(
        { length: total },
        (_, i) => producer.send({ payload: `${i}`, key: `key-${i % 40}` }),
      ),
    );
    const got = await drain(consumers, total);
    const owner = new Map<string, number>();
    got.forEach((list, consumer) => {
      for (const msg of list) {
        const previous = owner.get(msg.key!);
        assert.ok(previous === undefined || previous === consumer, `${msg.key} on two consumers`);
        owner.set(msg.key!, consumer);
      }
      // Per key, messages arrive in the order they were sent.
      const byKey = new Map<string, number[]>();
      for (const msg of list) {
        byKey.set(msg.key!, [...(byKey.get(msg.key!) ?? []), Number(msg.text())]);
      }
      for (const [key, values] of byKey) {
        assert.deepEqual(values, [...values].sort((a, b) => a - b), `order of ${key}`);
      }
    });
    assert.equal(owner.size, 40);
    assert.ok(new Set(owner.values()).size >= 2, "keys spread over more than one consumer");
    assert.equal(got.flat().length, total);
  } finally {
    await client.close();
  }
});
