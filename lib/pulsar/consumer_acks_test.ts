import assert from "node:assert/strict";
import { AckTracker } from "./consumer_acks.ts";
import { MessageId, type MessageIdWire } from "./message_id.ts";

function tracker(
  options: { batchIndexAck?: boolean; maxEarlyEntries?: number; maxTrackedEntries?: number } = {},
) {
  const sent: { type: string; ids: MessageIdWire[] }[] = [];
  const acks = new AckTracker({
    batchIndexAck: options.batchIndexAck ?? false,
    connected: () => true,
    send: (type, ids) => void sent.push({ type, ids }),
    ...(options.maxEarlyEntries ? { maxEarlyEntries: options.maxEarlyEntries } : {}),
    ...(options.maxTrackedEntries ? { maxTrackedEntries: options.maxTrackedEntries } : {}),
  });
  return { acks, sent };
}

Deno.test("ack bookkeeping stays bounded: early human-id acks, partial batches, chunks", () => {
  const { acks, sent } = tracker({ maxEarlyEntries: 100 });
  for (let entry = 0; entry < 10_000; entry++) acks.ack(MessageId.parse(`7:${entry}:-1:0`));
  assert.equal(acks.earlyEntries, 100, "early acks are capped (the oldest is redelivered)");
  for (let entry = 0; entry < 500; entry++) {
    const batch = acks.entryArrived(new MessageId(8n, BigInt(entry)), 2);
    acks.bind(new MessageId(8n, BigInt(entry), -1, 0, 2), batch);
    acks.ack(new MessageId(8n, BigInt(entry), -1, 0, 2));
    acks.chunked(new MessageId(9n, BigInt(entry)), [new MessageId(9n, BigInt(entry))]);
  }
  assert.equal(acks.partialEntries, 500);
  assert.equal(acks.chunkedMessages, 500);
  acks.ackCumulative(new MessageId(9n, 1000n));
  assert.equal(acks.partialEntries, 0, "a cumulative ack past them forgets partial batches");
  assert.equal(acks.chunkedMessages, 0);
  assert.equal(acks.earlyEntries, 0);
  assert.deepEqual(sent.at(-1), { type: "Cumulative", ids: [{ ledgerId: 9, entryId: 1000 }] });
});

Deno.test("a partly acked batch with batch-index acks sends the ack set of what is left", () => {
  const { acks, sent } = tracker({ batchIndexAck: true });
  const batch = acks.entryArrived(new MessageId(3n, 4n), 3);
  const ids = [0, 1, 2].map((i) => new MessageId(3n, 4n, -1, i, 3));
  for (const id of ids) acks.bind(id, batch);
  acks.ack(ids[1]);
  acks.flush();
  // java.util.BitSet words, a set bit = still unacknowledged: indexes 0 and 2 → 0b101.
  assert.deepEqual(sent, [{ type: "Individual", ids: [{ ledgerId: 3, entryId: 4, ackSet: [5] }] }]);
  acks.ack(ids[0]);
  acks.ack(ids[2]);
  acks.flush();
  assert.deepEqual(sent.slice(1), [{ type: "Individual", ids: [{ ledgerId: 3, entryId: 4 }] }]);
  assert.equal(acks.partialEntries, 0);
});

Deno.test("a consumer that never acks keeps bounded entry state; handed-out ids still ack", () => {
  const { acks, sent } = tracker({ maxTrackedEntries: 100 });
  const handedOut: MessageId[][] = [];
  const chunked: MessageId[] = [];
  for (let entry = 0; entry < 10_000; entry++) {
    const batch = acks.entryArrived(new MessageId(5n, BigInt(entry)), 2);
    const ids = [0, 1].map((i) => new MessageId(5n, BigInt(entry), -1, i, 2));
    for (const id of ids) acks.bind(id, batch);
    handedOut.push(ids);
    const last = new MessageId(6n, BigInt(2 * entry + 1));
    acks.chunked(last, [new MessageId(6n, BigInt(2 * entry)), last]);
    chunked.push(last);
  }
  assert.ok(acks.partialEntries <= 100, `${acks.partialEntries} batch states kept`);
  assert.ok(acks.chunkedMessages <= 100, `${acks.chunkedMessages} chunked messages kept`);
  // The oldest entry's state was forgotten by key, not by the ids handed out for it.
  for (const id of handedOut[0]) acks.ack(id);
  acks.ack(chunked[0]);
  acks.flush();
  assert.deepEqual(sent.flatMap((s) => s.ids), [
    { ledgerId: 5, entryId: 0 },
    { ledgerId: 6, entryId: 0 },
    { ledgerId: 6, entryId: 1 },
  ]);
});

Deno.test("take (acks in a transaction): a batch entry whole with its last message, nothing buffered", () => {
  for (const batchIndexAck of [false, true]) {
    const { acks, sent } = tracker({ batchIndexAck });
    const batch = acks.entryArrived(new MessageId(5n, 6n), 2);
    const first = new MessageId(5n, 6n, -1, 0, 2);
    const second = new MessageId(5n, 6n, -1, 1, 2);
    acks.bind(first, batch);
    acks.bind(second, batch);
    assert.deepEqual(acks.take(first), [], "part of a batch: no ack set in a transaction");
    assert.deepEqual(acks.take(second), [{ ledgerId: 5, entryId: 6 }]);
    assert.deepEqual(acks.take(second), [], "a second ack of the same message adds nothing");
    assert.deepEqual(acks.take(new MessageId(5n, 7n)), [{ ledgerId: 5, entryId: 7 }]);
    acks.chunked(new MessageId(5n, 9n), [new MessageId(5n, 8n), new MessageId(5n, 9n)]);
    assert.deepEqual(acks.take(new MessageId(5n, 9n)), [
      { ledgerId: 5, entryId: 8 },
      { ledgerId: 5, entryId: 9 },
    ]);
    acks.flush();
    assert.deepEqual(sent, [], "taken acks are not also buffered for a plain ACK");
  }
});
