import assert from "node:assert/strict";
import type { Envelope, Item } from "../envelope.ts";
import type { Sink } from "../sinks/types.ts";
import { AckRelay } from "./ack_relay.ts";
import { AckServer } from "./ack_server.ts";
import { deliverAll } from "./terminal.ts";

Deno.test("AckRelay routes its own result ids to onDelivered and relays every other id", async () => {
  const atSource: string[] = [];
  const source = await AckServer.listen({
    source: "consume",
    onAck: (id) => void atSource.push(id),
  });
  const delivered: string[] = [];
  const relayed: string[] = [];
  const relay = await AckRelay.open(source.hello(), {
    stage: "window",
    ownPrefix: "w:abc:",
    onDelivered: (id) => void delivered.push(id),
    onRelayed: (id) => void relayed.push(id),
  });
  const hello = relay.hello();
  assert.equal(hello.source, "window");
  assert.notEqual(hello.ack, source.hello().ack);

  // A real terminal: results, a passed-through event and an in-band ack, through deliverAll.
  const sent: unknown[] = [];
  const sink: Sink = {
    description: "memory",
    send: (event: Envelope) => (sent.push(event.id), Promise.resolve()),
    flush: () => Promise.resolve(),
    close: () => Promise.resolve(),
  };
  const items: Item[] = [
    hello,
    { id: "w:abc:r1:0", key: "x", value: { count: 2 } },
    { id: "CAcQAA==", value: 1, late: true },
    { $edgepipe: "ack", ids: ["CAcQAQ==", "CAcQAg=="] },
    { id: "w:abc:r1:1", key: "y", value: { count: 1 } },
    { id: "w:other:r0:0", value: "a result of another window upstream" },
  ];
  const report = await deliverAll(items, sink, { log: () => {} });
  assert.equal(report.acknowledged, 6);
  // The source hears from its "terminal" (the relay) only when the relay closes.
  assert.equal(await relay.close(2000), "finished");
  assert.equal(await source.waitForTerminal(2000), "finished");
  await source.close();
  assert.deepEqual(delivered, ["w:abc:r1:0", "w:abc:r1:1"]);
  assert.deepEqual(atSource, ["CAcQAA==", "CAcQAQ==", "CAcQAg==", "w:other:r0:0"]);
  assert.deepEqual(relayed, atSource);
  assert.equal(relay.delivered, 2);
  assert.equal(relay.relayed, 4);
});

Deno.test("AckRelay closes the source connection even when no terminal ever connects", async () => {
  const source = await AckServer.listen({ source: "consume", onAck: () => {} });
  const relay = await AckRelay.open(source.hello(), {
    stage: "window",
    ownPrefix: "w:x:",
    onDelivered: () => {},
  });
  assert.equal(await relay.close(50, 0), "never-connected");
  assert.equal(relay.everConnected, false);
  // The relay connected to the source as its terminal and has now disconnected: finished.
  assert.equal(await source.waitForTerminal(2000), "finished");
  await source.close();
});
