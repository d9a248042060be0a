/**
 * Multi-host service URLs against the real broker: the first host is down (a port nobody listens
 * on, as a stopped broker's is), edgepipe connects through the second; produce and consume work,
 * as a library and as commands. A first host that answers and then goes away: later lookups go to
 * the second. With every host down, the error names each one.
 */
import assert from "node:assert/strict";
import { pulsarUrls, startBroker } from "../harness/pulsar.ts";
import { javaReadPayloads } from "../harness/output_audit.ts";
import { runEdgepipe } from "../harness/edgepipe.ts";
import { PulsarClient } from "../../lib/pulsar/mod.ts";
import { ConnectionPool } from "../../lib/pulsar/connection_pool.ts";
import { LookupService } from "../../lib/pulsar/lookup.ts";

const integration = { sanitizeOps: false, sanitizeResources: false };

/** A local port that was just free and is closed again: connecting to it is refused. */
function deadPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

async function urls() {
  const { serviceUrl } = await pulsarUrls();
  const live = serviceUrl.replace(/^pulsar:\/\//, "").replace(/\/$/, "");
  return { live, dead: `127.0.0.1:${deadPort()}`, other: `127.0.0.1:${deadPort()}` };
}

Deno.test({
  name: "first host down: the client connects through the second; produce and consume work",
  ...integration,
  async fn() {
    const { live, dead } = await urls();
    const topic = `persistent://public/default/multihost-${crypto.randomUUID()}`;
    const client = new PulsarClient({ serviceUrl: `pulsar://${dead},${live}` });
    try {
      const consumer = await client.subscribe({
        topic,
        subscription: "s",
        initialPosition: "earliest",
      });
      const producer = await client.createProducer({ topic });
      for (let i = 0; i < 10; i++) await producer.send({ payload: `m${i}`, key: `k${i}` });
      for (let i = 0; i < 10; i++) {
        const msg = await consumer.receive(10_000);
        assert.equal(msg.text(), `m${i}`);
        assert.equal(msg.key, `k${i}`);
        consumer.ack(msg);
      }
      const hosts = (await client.pool.connections()).map((c) => c.url);
      assert.ok(!hosts.some((u) => u.includes(dead)), `no connection to the dead host: ${hosts}`);
    } finally {
      await client.close();
    }
  },
});

Deno.test({
  name: "commands take a multi-host --service-url (first host down)",
  ...integration,
  async fn() {
    const { live, dead } = await urls();
    const topic = `persistent://public/default/multihost-cli-${crypto.randomUUID()}`;
    const serviceUrl = `pulsar://${dead},${live}`;
    const values = Array.from({ length: 5 }, (_, n) => ({ n }));
    assert.deepEqual(await produceThenConsume(serviceUrl, topic, values), values);
  },
});

/** `edgepipe produce` of `values` to `topic`, then `consume -e` of all of it; the values read. */
async function produceThenConsume(
  serviceUrl: string,
  topic: string,
  values: unknown[],
): Promise<unknown[]> {
  const produced = await runEdgepipe(
    ["produce", topic, "--input", "json", "--service-url", serviceUrl],
    { stdin: values.map((v) => JSON.stringify(v) + "\n").join("") },
  );
  assert.equal(produced.code, 0, produced.stderr);
  const consumed = await runEdgepipe(
    ["consume", topic, "-s", "c", "-e", "--ack", "on-write", "--service-url", serviceUrl],
  );
  assert.equal(consumed.code, 0, consumed.stderr);
  return consumed.stdout.trim().split("\n").map((l) => JSON.parse(l).value);
}

const hostOf = (url: string) => url.replace(/^pulsar:\/\//, "").replace(/\/$/, "");

Deno.test({
  name:
    "two real brokers: the first killed mid-stream, producer and commands go on through the second",
  ...integration,
  async fn() {
    const { serviceUrl: secondUrl } = await pulsarUrls();
    const first = await startBroker({ heapMiB: 512 });
    const hosts = `pulsar://${hostOf(first.serviceUrl)},${hostOf(secondUrl)}`;
    const topic = `persistent://public/default/multihost-brokers-${crypto.randomUUID()}`;
    const client = new PulsarClient({ serviceUrl: hosts, connectTimeoutMs: 3_000 });
    try {
      const producer = await client.createProducer({ topic });
      for (let i = 0; i < 5; i++) await producer.send({ payload: `m${i}` });
      const before = (await client.pool.connections()).map((c) => c.url);
      assert.ok(before.every((u) => u.includes(hostOf(first.serviceUrl))), `${before}`);

      await first.kill();
      for (let i = 5; i < 10; i++) await producer.send({ payload: `m${i}` });
      await producer.close();
      // The first broker's messages went down with it; the second has the rest, once each.
      assert.deepEqual(
        await javaReadPayloads(secondUrl, topic, 5),
        ["m5", "m6", "m7", "m8", "m9"],
      );

      const sent = ["a", "b", "c"].map((v) => ({ v }));
      const values = await produceThenConsume(hosts, topic, sent);
      assert.deepEqual(values.slice(5), sent);
      assert.deepEqual(
        values.slice(0, 5),
        ["m5", "m6", "m7", "m8", "m9"],
        "consume reads the second broker's topic",
      );
    } finally {
      await client.close();
      await first.stop();
    }
  },
});

/** A TCP forwarder to `target` on a local port; `close()` cuts it and every connection through it. */
function forwarder(target: { hostname: string; port: number }) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns = new Set<Deno.Conn>();
  let accepted = 0, closed = false;
  (async () => {
    for await (const client of listener) {
      accepted++;
      const upstream = await Deno.connect(target);
      conns.add(client).add(upstream);
      client.readable.pipeTo(upstream.writable).catch(() => {});
      upstream.readable.pipeTo(client.writable).catch(() => {});
    }
  })().catch(() => {});
  return {
    port: (listener.addr as Deno.NetAddr).port,
    accepted: () => accepted,
    close() {
      if (closed) return;
      closed = true;
      listener.close();
      for (const c of conns) {
        try {
          c.close();
        } catch { /* already closed */ }
      }
    },
  };
}

Deno.test({
  name: "the first host answers, then goes away: later lookups go to the second host",
  ...integration,
  async fn() {
    const { live } = await urls();
    const [hostname, port] = live.split(":");
    const first = forwarder({ hostname, port: Number(port) });
    const topic = `persistent://public/default/multihost-lost-${crypto.randomUUID()}`;
    const client = new PulsarClient({
      serviceUrl: `pulsar://127.0.0.1:${first.port},${live}`,
      connectTimeoutMs: 3_000,
    });
    try {
      assert.deepEqual(await client.getPartitions(topic), [topic]);
      assert.equal(first.accepted(), 1, "the first lookup went through the first host");
      first.close();
      const producer = await client.createProducer({ topic });
      await producer.send({ payload: "after" });
      await producer.close();
      assert.deepEqual(await client.getPartitions(topic), [topic]);
      const urlsNow = (await client.pool.connections()).map((c) => c.url);
      assert.ok(urlsNow.includes(`pulsar://${live}`), `lookups now use ${live}: ${urlsNow}`);
      assert.equal(first.accepted(), 1);
    } finally {
      first.close();
      await client.close();
    }
  },
});

Deno.test({
  name: "every host down: one error naming each host",
  ...integration,
  async fn() {
    const { dead, other } = await urls();
    const pool = new ConnectionPool({ connectTimeoutMs: 3_000 });
    const lookup = new LookupService(pool, `pulsar://${dead},${other}`, false);
    try {
      await assert.rejects(
        lookup.serviceConnection(),
        (err: Error) => {
          assert.match(err.message, new RegExp(`no host of pulsar://${dead},${other} answered`));
          assert.match(err.message, new RegExp(`pulsar://${dead}: .*; pulsar://${other}: `));
          return true;
        },
      );
    } finally {
      await pool.close();
    }
  },
});
