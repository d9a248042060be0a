import assert from "node:assert/strict";
import { deliverAll } from "./terminal.ts";
import { DeliveryError } from "./errors.ts";
import type { Envelope, Item } from "../envelope.ts";
import type { Sink } from "../sinks/types.ts";

function memorySink(joins = true) {
  const log: string[] = [];
  const sink: Sink = {
    description: "memory",
    send: (event: Envelope) => (log.push(`send ${event.value}`), Promise.resolve()),
    flush: () => Promise.resolve(),
    close: () => Promise.resolve(),
  };
  if (joins) sink.joinTransaction = (txn) => (log.push(`join ${txn}`), Promise.resolve());
  return { sink, log };
}

const stream: Item[] = [
  { $edgepipe: "txn", txn: "0:1" },
  { value: 1 },
  { value: 2 },
  { $edgepipe: "txn", txn: "0:2" },
  { value: 3 },
];

Deno.test("deliverAll joins each announced transaction before the events after it", async () => {
  const { sink, log } = memorySink();
  const report = await deliverAll(stream, sink, { requireTransaction: true });
  assert.equal(report.delivered, 3);
  assert.deepEqual(log, ["join 0:1", "send 1", "send 2", "join 0:2", "send 3"]);
});

Deno.test("deliverAll: a sink that cannot join a transaction stops at the txn record", async () => {
  const { sink, log } = memorySink(false);
  await assert.rejects(deliverAll(stream, sink), DeliveryError);
  assert.deepEqual(log, [], "nothing is delivered outside the transaction");
});

Deno.test("deliverAll with requireTransaction refuses an event outside a transaction", async () => {
  const { sink, log } = memorySink();
  await assert.rejects(
    deliverAll([{ value: 0 }, ...stream], sink, { requireTransaction: true }),
    /outside a transaction/,
  );
  assert.deepEqual(log, []);
  // Without the flag the same stream is delivered (at-least-once for the event before).
  const plain = memorySink();
  assert.equal((await deliverAll([{ value: 0 }, ...stream], plain.sink)).delivered, 4);
});
