/**
 * Failures surface as typed errors, promptly: broker refusals carry their ServerError code,
 * unreachable brokers are ConnectionErrors, closed producers and consumers say so.
 */
import assert from "node:assert/strict";
import { pulsarUrls } from "../harness/pulsar.ts";
import {
  BrokerError,
  ClientClosedError,
  ConnectionError,
  ConsumerClosedError,
  InvalidArgumentError,
  ProducerClosedError,
  PulsarClient,
} from "../../lib/pulsar/mod.ts";

const { serviceUrl } = await pulsarUrls();
const run = crypto.randomUUID().slice(0, 8);

/** Resolves with how long `promise` took to reject, and its error. */
async function failure(promise: Promise<unknown>): Promise<{ error: unknown; ms: number }> {
  const started = Date.now();
  try {
    await promise;
  } catch (error) {
    return { error, ms: Date.now() - started };
  }
  throw new assert.AssertionError({ message: "expected a failure" });
}

for (const domain of ["persistent", "non-persistent"]) {
  Deno.test(`${domain} topic in a missing namespace: typed broker error, no hang`, async () => {
    const client = new PulsarClient({ serviceUrl, operationTimeoutMs: 20_000 });
    try {
      const topic = `${domain}://public/missing-ns-${run}/t`;
      for (
        const attempt of [
          client.subscribe({ topic, subscription: "s" }),
          client.createProducer({ topic }),
        ]
      ) {
        const { error } = await failure(attempt);
        assert.ok(error instanceof BrokerError, `got ${error}`);
        assert.ok(
          ["TopicNotFound", "MetadataError", "NotAllowedError", "AuthorizationError"].includes(
            error.code,
          ),
          `code ${error.code}`,
        );
        // Not retried: lib/pulsar/connect_with_retry_test.ts counts the attempts.
        assert.equal(error.retriable, false);
      }
    } finally {
      await client.close();
    }
  });
}

Deno.test("a missing tenant is a typed broker error", async () => {
  const client = new PulsarClient({ serviceUrl });
  try {
    const { error } = await failure(
      client.subscribe({ topic: `persistent://no-tenant-${run}/ns/t`, subscription: "s" }),
    );
    assert.ok(error instanceof BrokerError && !error.retriable, `got ${error}`);
  } finally {
    await client.close();
  }
});

Deno.test("an unreachable broker is a retriable ConnectionError", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close(); // nothing listens there now
  const client = new PulsarClient({
    serviceUrl: `pulsar://127.0.0.1:${port}`,
    operationTimeoutMs: 1500,
  });
  try {
    const { error } = await failure(client.createProducer({ topic: "t" }));
    assert.ok(error instanceof ConnectionError, `got ${error}`);
    assert.equal(error.retriable, true);
  } finally {
    await client.close();
  }
});

Deno.test("a server that never answers CONNECT times out", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepted: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const conn of listener) accepted.push(conn);
  })();
  const client = new PulsarClient({
    serviceUrl: `pulsar://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`,
    connectTimeoutMs: 500,
    operationTimeoutMs: 500,
  });
  try {
    const { error } = await failure(client.createProducer({ topic: "t" }));
    assert.ok((error as Error).name === "TimeoutError", `got ${error}`);
  } finally {
    await client.close();
    listener.close();
    for (const conn of accepted) conn.close();
    await accepting.catch(() => {});
  }
});

Deno.test("garbage from the server is a protocol failure, not a hang", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepted: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const conn of listener) {
      accepted.push(conn);
      await conn.write(new Uint8Array([0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4])).catch(() => {});
    }
  })();
  const client = new PulsarClient({
    serviceUrl: `pulsar://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`,
    connectTimeoutMs: 3000,
    operationTimeoutMs: 1000,
  });
  try {
    const { error } = await failure(client.createProducer({ topic: "t" }));
    // A hang would end in a TimeoutError at the operation timeout.
    assert.ok(error instanceof ConnectionError, `got ${error}`);
  } finally {
    await client.close();
    listener.close();
    for (const conn of accepted) conn.close();
    await accepting.catch(() => {});
  }
});

Deno.test("bad arguments and closed handles are typed errors", async () => {
  const client = new PulsarClient({ serviceUrl });
  const topic = `persistent://public/default/errors-${run}`;
  assert.throws(() => new PulsarClient({ serviceUrl: "http://nope" }), InvalidArgumentError);
  await assert.rejects(client.subscribe({ topic: "a/b", subscription: "s" }), InvalidArgumentError);
  await assert.rejects(client.subscribe({ topic, subscription: "" }), InvalidArgumentError);
  await assert.rejects(
    client.subscribe({ topic, topics: [topic], subscription: "s" }),
    InvalidArgumentError,
  );
  const producer = await client.createProducer({ topic });
  const consumer = await client.subscribe({ topic, subscription: "s" });
  assert.throws(() => consumer.ack("not-an-id!"), InvalidArgumentError);
  await producer.close();
  await assert.rejects(producer.send({ payload: "x" }), ProducerClosedError);
  await consumer.close();
  await assert.rejects(consumer.receive(), ConsumerClosedError);
  assert.throws(() => consumer.ack("CAcQAA=="), ConsumerClosedError);
  await client.close();
  await assert.rejects(client.createProducer({ topic }), ClientClosedError);
});
