/**
 * A dead-letter topic that cannot be written (its namespace does not exist) on a real broker: the
 * consumer tries a bounded number of times with backoff, then `receive` throws a DeadLetterError
 * and the message stays unacknowledged on the subscription.
 */
import assert from "node:assert/strict";
import { pulsarUrls } from "../harness/pulsar.ts";
import { DeadLetterError, PulsarClient } from "../../lib/pulsar/mod.ts";

Deno.test({
  name: "a dead-letter topic that cannot be created: bounded attempts, then a typed give-up",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const { serviceUrl } = await pulsarUrls();
    const run = crypto.randomUUID().slice(0, 8);
    const topic = `persistent://public/default/dlq-giveup-${run}`;
    const dlq = `persistent://public/no-such-namespace-${run}/dead`;
    const client = new PulsarClient({
      serviceUrl,
      backoff: { initialMs: 50, maxMs: 200 },
      operationTimeoutMs: 5_000,
    });
    try {
      const consumer = await client.subscribe({
        topic,
        subscription: "s",
        subscriptionType: "Shared",
        initialPosition: "earliest",
        nackRedeliveryDelayMs: 50,
        deadLetter: { maxRedeliverCount: 1, deadLetterTopic: dlq, maxSendAttempts: 3 },
      });
      const producer = await client.createProducer({ topic });
      await producer.send({ payload: "poison" });
      const counts: number[] = [];
      let error: unknown;
      for (let i = 0; i < 5 && error === undefined; i++) {
        try {
          const msg = await consumer.receive(30_000);
          counts.push(msg.redeliveryCount);
          consumer.nack(msg);
        } catch (e) {
          error = e;
        }
      }
      assert.deepEqual(counts, [0, 1], "delivered 1 + maxRedeliverCount times");
      assert.ok(error instanceof DeadLetterError, `expected DeadLetterError, got ${error}`);
      assert.match(error.message, new RegExp(`${dlq}.*after 3 attempts`));
      assert.ok(error.cause instanceof Error, "the broker's refusal is the cause");
      await consumer.close();
      // Not acknowledged: the next consumer of the subscription gets it again.
      const again = await client.subscribe({
        topic,
        subscription: "s",
        subscriptionType: "Shared",
      });
      assert.equal((await again.receive(10_000)).text(), "poison");
    } finally {
      await client.close();
    }
  },
});
