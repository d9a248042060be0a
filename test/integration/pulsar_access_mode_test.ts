/**
 * Producer access modes against a real broker: Exclusive refuses a second producer, and
 * WaitForExclusive waits (beyond the operation timeout) until the first one leaves.
 */
import assert from "node:assert/strict";
import { pulsarUrls } from "../harness/pulsar.ts";
import { BrokerError, PulsarClient } from "../../lib/pulsar/mod.ts";

const { serviceUrl } = await pulsarUrls();

Deno.test("Exclusive producers refuse a second one; WaitForExclusive waits its turn", async () => {
  const client = new PulsarClient({ serviceUrl, operationTimeoutMs: 1500 });
  try {
    const topic = `persistent://public/default/access-${crypto.randomUUID().slice(0, 8)}`;
    const consumer = await client.subscribe({ topic, subscription: "s" });
    const first = await client.createProducer({ topic, accessMode: "Exclusive" });
    await assert.rejects(
      client.createProducer({ topic, accessMode: "Exclusive" }),
      (err: unknown) => err instanceof BrokerError && !err.retriable,
    );
    let waiting = true;
    const second = client.createProducer({ topic, accessMode: "WaitForExclusive" })
      .finally(() => (waiting = false));
    await new Promise((r) => setTimeout(r, 2500)); // longer than the operation timeout
    assert.equal(waiting, true, "still waiting while the first producer holds the topic");
    await first.send({ payload: "from first" });
    await first.close();
    const next = await second;
    await next.send({ payload: "from second" });
    assert.equal((await consumer.receive(10_000)).text(), "from first");
    assert.equal((await consumer.receive(10_000)).text(), "from second");
  } finally {
    await client.close();
  }
});
