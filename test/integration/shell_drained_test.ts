/**
 * `edgepipe consume -e` on a durable subscription reads what is left and stops, also when
 * nothing is left: the subscription's mark-delete position covers the whole last (batched) entry.
 */
import assert from "node:assert/strict";
import { PulsarClient } from "../../lib/pulsar/mod.ts";
import { runEdgepipe } from "../harness/edgepipe.ts";
import { pulsarUrls } from "../harness/pulsar.ts";

Deno.test({
  name: "consume -e exits at once on a subscription that has read everything",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const { serviceUrl } = await pulsarUrls();
    const topic = `persistent://public/default/drained-${crypto.randomUUID()}`;
    const client = new PulsarClient({ serviceUrl });
    try {
      const producer = await client.createProducer({ topic, batchingMaxMessages: 100 });
      await Promise.all([1, 2, 3].map((n) => producer.send({ payload: JSON.stringify(n) })));
      await producer.close();
    } finally {
      await client.close();
    }
    const consume = () =>
      runEdgepipe(["consume", topic, "-s", "drain", "-e", "--ack", "on-write"], {
        env: { PULSAR_SERVICE_URL: serviceUrl },
      });
    const first = await consume();
    assert.equal(first.code, 0, first.stderr);
    const values = first.stdout.trim().split("\n").map((line) => JSON.parse(line))
      .filter((item) => item.$edgepipe === undefined).map((item) => item.value);
    assert.deepEqual(values, [1, 2, 3]);

    const again = await Promise.race([
      consume(),
      new Promise<never>((_, reject) =>
        setTimeout(
          () => reject(new Error("consume -e did not stop on a drained subscription")),
          20_000,
        )
      ),
    ]);
    assert.equal(again.code, 0, again.stderr);
    // Nothing but the end record: the topic has no more for this subscription.
    // Nothing left; --ack on-write writes no control records (no hello, no end record).
    assert.equal(again.stdout, "");
  },
});
