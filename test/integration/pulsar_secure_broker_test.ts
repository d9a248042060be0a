/**
 * Features that need a private broker: token authentication (with AUTH_CHALLENGE refreshes), TLS
 * and mutual TLS, batch-index acknowledgements, deduplication across producer restarts, and a
 * broker restart under a running producer and consumer with nothing lost.
 */
import assert from "node:assert/strict";
import { startBroker } from "../harness/pulsar.ts";
import {
  BrokerError,
  ConnectionError,
  type MessageConsumer,
  PulsarClient,
  TimeoutError,
  tlsAuth,
} from "../../lib/pulsar/mod.ts";

async function rest(consumer: MessageConsumer, quietMs = 1000): Promise<string[]> {
  const out: string[] = [];
  for (;;) {
    try {
      const msg = await consumer.receive(quietMs);
      consumer.ack(msg);
      out.push(msg.text());
    } catch (error) {
      if (error instanceof TimeoutError) return out;
      throw error;
    }
  }
}

Deno.test({
  name: "private broker: auth, TLS, batch-index acks, dedup, restart",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const broker = await startBroker({
      secure: true,
      heapMiB: 512,
      config: {
        acknowledgmentAtBatchIndexLevelEnabled: "true",
        brokerDeduplicationEnabled: "true",
        authenticationRefreshCheckSeconds: "1",
      },
    });
    const secure = broker.secure!;
    const token = secure.adminToken;
    const run = crypto.randomUUID().slice(0, 8);
    const topic = (name: string) => `persistent://public/default/secure-${run}-${name}`;
    const caCerts = [await Deno.readTextFile(secure.caCertFile)];
    try {
      await t.step(
        "token auth: round trip with a token; none or a forged one is refused",
        async () => {
          const client = new PulsarClient({ serviceUrl: broker.serviceUrl, token });
          try {
            const consumer = await client.subscribe({ topic: topic("token"), subscription: "s" });
            const producer = await client.createProducer({ topic: topic("token") });
            await producer.send({ payload: "authorised" });
            assert.equal((await consumer.receive(10_000)).text(), "authorised");
          } finally {
            await client.close();
          }
          for (const bad of [undefined, `${token.slice(0, -4)}AAAA`]) {
            const anonymous = new PulsarClient({
              serviceUrl: broker.serviceUrl,
              ...(bad ? { token: bad } : {}),
              operationTimeoutMs: 5000,
            });
            await assert.rejects(
              anonymous.createProducer({ topic: topic("token") }),
              (err: unknown) =>
                err instanceof BrokerError &&
                ["AuthenticationError", "AuthorizationError"].includes(err.code),
            );
            await anonymous.close();
          }
        },
      );

      await t.step(
        "token refresh: the broker's AUTH_CHALLENGE gets a fresh token, no reconnect",
        async () => {
          let minted = 0;
          const client = new PulsarClient({
            serviceUrl: broker.serviceUrl,
            token: () => (minted++, secure.mintToken("admin", 3)),
          });
          try {
            const consumer = await client.subscribe({ topic: topic("refresh"), subscription: "s" });
            const producer = await client.createProducer({ topic: topic("refresh") });
            const [connection] = await client.pool.connections();
            for (let i = 0; i < 8; i++) {
              await producer.send({ payload: `${i}` });
              assert.equal((await consumer.receive(10_000)).text(), `${i}`);
              await new Promise((r) => setTimeout(r, 1000));
            }
            assert.ok(minted >= 2, `tokens minted: ${minted}`);
            assert.ok(connection.isOpen, "the same connection survived the expiry");
          } finally {
            await client.close();
          }
        },
      );

      await t.step("TLS with a private CA, and mutual TLS with a client certificate", async () => {
        const tlsClient = new PulsarClient({
          serviceUrl: secure.tlsServiceUrl,
          token,
          tls: { caCerts },
        });
        try {
          const consumer = await tlsClient.subscribe({ topic: topic("tls"), subscription: "s" });
          const producer = await tlsClient.createProducer({
            topic: topic("tls"),
            compression: "ZSTD",
          });
          await producer.send({ payload: "over tls" });
          assert.equal((await consumer.receive(10_000)).text(), "over tls");
        } finally {
          await tlsClient.close();
        }
        const mtls = new PulsarClient({
          serviceUrl: secure.tlsServiceUrl,
          auth: tlsAuth(),
          tls: {
            caCerts,
            cert: await Deno.readTextFile(secure.clientCertFile),
            key: await Deno.readTextFile(secure.clientKeyFile),
          },
        });
        try {
          const producer = await mtls.createProducer({ topic: topic("tls") });
          assert.ok((await producer.send({ payload: "mtls" })).entryId >= 0n);
        } finally {
          await mtls.close();
        }
        const untrusting = new PulsarClient({
          serviceUrl: secure.tlsServiceUrl,
          token,
          operationTimeoutMs: 3000,
        });
        await assert.rejects(untrusting.createProducer({ topic: topic("tls") }), ConnectionError);
        await untrusting.close();
      });

      await t.step("batch-index acks: only the unacked messages of a batch come back", async () => {
        const client = new PulsarClient({ serviceUrl: broker.serviceUrl, token });
        try {
          const options = {
            topic: topic("batch-index"),
            subscription: "s",
            subscriptionType: "Shared" as const,
            initialPosition: "earliest" as const,
            batchIndexAck: true,
          };
          let consumer = await client.subscribe(options);
          const producer = await client.createProducer({
            topic: options.topic,
            batchingMaxMessages: 5,
          });
          await Promise.all(
            Array.from({ length: 10 }, (_, i) => producer.send({ payload: `m${i}` })),
          );
          for (let i = 0; i < 10; i++) {
            const msg = await consumer.receive(10_000);
            if (i !== 3 && i !== 8) consumer.ack(msg);
          }
          await consumer.flushAcks();
          await new Promise((r) => setTimeout(r, 200));
          await consumer.close();
          consumer = await client.subscribe({ ...options });
          assert.deepEqual((await rest(consumer)).sort(), ["m3", "m8"]);
        } finally {
          await client.close();
        }
      });

      await t.step(
        "deduplication: a named producer resumes its sequence ids; resends are dropped",
        async () => {
          const client = new PulsarClient({ serviceUrl: broker.serviceUrl, token });
          try {
            const name = `dedup-${run}`;
            const target = topic("dedup");
            const consumer = await client.subscribe({ topic: target, subscription: "s" });
            let producer = await client.createProducer({ topic: target, producerName: name });
            await Promise.all([0, 1, 2, 3, 4].map((i) => producer.send({ payload: `a${i}` })));
            await producer.close();
            producer = await client.createProducer({
              topic: target,
              producerName: name,
            }) as typeof producer;
            assert.equal((producer as unknown as { lastSequenceId: number }).lastSequenceId, 4);
            await producer.send({ payload: "a5" });
            await producer.close();
            // The same sequence ids again, as a producer that crashed before its receipts would.
            const replay = await client.createProducer({
              topic: target,
              producerName: name,
              initialSequenceId: 0,
            });
            await Promise.all([0, 1, 2].map((i) => replay.send({ payload: `a${i}` })));
            await replay.close();
            assert.deepEqual(await rest(consumer), ["a0", "a1", "a2", "a3", "a4", "a5"]);
          } finally {
            await client.close();
          }
        },
      );

      await t.step(
        "broker restart mid-stream: producer and consumer recover, nothing lost or doubled",
        async () => {
          const backoff = { initialMs: 100, maxMs: 2000 };
          const client = new PulsarClient({ serviceUrl: broker.serviceUrl, token, backoff });
          const target = topic("restart");
          try {
            const consumer = await client.subscribe({
              topic: target,
              subscription: "s",
              subscriptionType: "Shared",
            });
            const producer = await client.createProducer({
              topic: target,
              producerName: `restart-${run}`,
              sendTimeoutMs: 0,
            });
            const total = 3000;
            const received = new Map<string, number>();
            const consuming = (async () => {
              while (received.size < total) {
                try {
                  const msg = await consumer.receive(90_000);
                  received.set(msg.text(), (received.get(msg.text()) ?? 0) + 1);
                  consumer.ack(msg);
                } catch (error) {
                  if (error instanceof TimeoutError) return;
                  throw error;
                }
              }
            })();
            const receipts: Promise<unknown>[] = [];
            let restarting: Promise<void> | undefined;
            for (let i = 0; i < total; i++) {
              await producer.ready();
              receipts.push(producer.send({ payload: `m${i}` }));
              if (i === 1000) restarting = broker.restart();
              if (i % 100 === 0) await new Promise((r) => setTimeout(r, 5));
            }
            await restarting;
            const failed = (await Promise.allSettled(receipts)).filter((s) =>
              s.status === "rejected"
            );
            assert.equal(failed.length, 0, `send failures: ${failed.length}`);
            await consuming;
            const missing = Array.from({ length: total }, (_, i) => `m${i}`).filter((m) =>
              !received.has(m)
            );
            assert.deepEqual(missing, []);
            console.log(`restart: ${total} sent, ${received.size} received distinct`);
            // With deduplication the topic itself holds every message exactly once.
            const reader = await client.createReader({ topic: target, startAt: "earliest" });
            const stored: string[] = [];
            while (await reader.hasMessageAvailable()) {
              stored.push((await reader.readNext(10_000)).text());
            }
            assert.equal(stored.length, total, "no duplicates stored");
            assert.deepEqual(stored, Array.from({ length: total }, (_, i) => `m${i}`), "in order");
          } finally {
            await client.close();
          }
        },
      );
    } finally {
      await broker.stop();
    }
  },
});
