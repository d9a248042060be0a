/**
 * Lookups that redirect: two small lookup-only services (speaking the binary protocol through the
 * wire layer) send the client on, the first with the authoritative flag, until the real broker
 * answers "Connect". Producer and consumer then work against the real broker.
 */
import assert from "node:assert/strict";
import { pulsarUrls } from "../harness/pulsar.ts";
import { PulsarClient } from "../../lib/pulsar/mod.ts";
import { type Command, encodeCommand, FrameDecoder } from "../../lib/pulsar/wire/mod.ts";

const { serviceUrl } = await pulsarUrls();

interface SeenLookup {
  topic: string;
  authoritative: boolean;
}

/** Answers CONNECT, PING and PARTITIONED_METADATA; redirects every LOOKUP to `redirectTo`. */
function redirector(redirectTo: () => string, authoritative: boolean) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const url = `pulsar://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`;
  const seen: SeenLookup[] = [];
  const conns: Deno.Conn[] = [];
  const serving = (async () => {
    for await (const conn of listener) {
      conns.push(conn);
      (async () => {
        const decoder = new FrameDecoder();
        const buffer = new Uint8Array(65536);
        for (;;) {
          const n = await conn.read(buffer).catch(() => null);
          if (n === null) return;
          for (const frame of decoder.push(buffer.slice(0, n))) {
            const cmd = frame.command as unknown as Record<string, unknown>;
            let reply: Record<string, unknown> | undefined;
            if (cmd.type === "CONNECT") {
              reply = { type: "CONNECTED", serverVersion: "redirector", protocolVersion: 21 };
            } else if (cmd.type === "PING") reply = { type: "PONG" };
            else if (cmd.type === "PARTITIONED_METADATA") {
              reply = {
                type: "PARTITIONED_METADATA_RESPONSE",
                partitions: 0,
                requestId: cmd.requestId,
                response: "Success",
              };
            } else if (cmd.type === "LOOKUP") {
              seen.push({ topic: String(cmd.topic), authoritative: cmd.authoritative === true });
              reply = {
                type: "LOOKUP_RESPONSE",
                brokerServiceUrl: redirectTo(),
                response: "Redirect",
                requestId: cmd.requestId,
                authoritative,
              };
            }
            if (reply) await conn.write(encodeCommand(reply as unknown as Command)).catch(() => {});
          }
        }
      })();
    }
  })();
  return {
    url,
    seen,
    async close() {
      listener.close();
      for (const conn of conns) {
        try {
          conn.close();
        } catch { /* closed by the client */ }
      }
      await serving.catch(() => {});
    },
  };
}

Deno.test("lookup follows redirects and passes the authoritative flag on", async () => {
  const second = redirector(() => serviceUrl, false);
  const first = redirector(() => second.url, true);
  const client = new PulsarClient({ serviceUrl: first.url });
  try {
    const topic = `persistent://public/default/redirect-${crypto.randomUUID().slice(0, 8)}`;
    const consumer = await client.subscribe({ topic, subscription: "s" });
    const producer = await client.createProducer({ topic });
    await producer.send({ payload: "redirected" });
    assert.equal((await consumer.receive(10_000)).text(), "redirected");
    // The first hop was asked without authority, the second with the flag the first gave.
    assert.ok(first.seen.length >= 2);
    assert.ok(first.seen.every((l) => l.topic === topic && !l.authoritative));
    assert.ok(second.seen.length >= 2);
    assert.ok(second.seen.every((l) => l.authoritative), "authoritative carried to the next hop");
    // Producer and consumer ended up on the real broker.
    const urls = (await client.pool.connections()).map((c) => c.url);
    assert.ok(urls.includes(serviceUrl), `connections: ${urls}`);
  } finally {
    await client.close();
    await first.close();
    await second.close();
  }
});

Deno.test("a lookup that keeps redirecting gives up with a typed error", async () => {
  let loop: ReturnType<typeof redirector> | undefined = undefined;
  loop = redirector(() => loop!.url, false);
  const client = new PulsarClient({ serviceUrl: loop.url, operationTimeoutMs: 3000 });
  try {
    await assert.rejects(
      client.createProducer({ topic: "persistent://public/default/nowhere" }),
      (err: unknown) => (err as Error).name === "ConnectionError" && /redirected/.test(String(err)),
    );
  } finally {
    await client.close();
    await loop.close();
  }
});
