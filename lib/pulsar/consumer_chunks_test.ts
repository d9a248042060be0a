import assert from "node:assert/strict";
import { bytes, FakeBroker } from "./consumer_test_util.ts";
import { compress } from "./compression.ts";
import type { MessageMetadata } from "./wire/mod.ts";

/** Metadata of chunk `chunkId` of `numChunks`, as a Java producer with chunking writes it. */
function chunkMeta(
  uuid: string,
  chunkId: number,
  numChunks: number,
  totalSize: number,
): Partial<MessageMetadata> {
  return {
    uuid,
    chunkId,
    numChunksFromMsg: numChunks,
    totalChunkMsgSize: totalSize,
    partitionKey: "k",
    properties: { origin: "java" },
  };
}

Deno.test("chunks interleaved with other messages are reassembled; the ack covers every chunk", async () => {
  const broker = new FakeBroker();
  const consumer = await broker.subscribe({ receiverQueueSize: 4 });
  try {
    const whole = bytes("0123456789".repeat(30));
    const packed = compress("LZ4", whole);
    const parts = [packed.subarray(0, 100), packed.subarray(100, 200), packed.subarray(200)];
    const meta = (i: number) => ({
      ...chunkMeta("p-0", i, 3, packed.length),
      compression: "LZ4" as const,
      uncompressedSize: whole.length,
    });
    broker.push({ entry: 10 }, meta(0), parts[0]);
    broker.push({ entry: 11 }, {}, bytes("between"));
    broker.push({ entry: 12 }, meta(1), parts[1]);
    broker.push({ entry: 13 }, meta(2), parts[2]);
    const first = await consumer.receive(1000);
    assert.equal(first.text(), "between");
    const msg = await consumer.receive(1000);
    assert.equal(msg.decodeError, undefined);
    assert.deepEqual(msg.payload, whole, "decompressed after reassembly, byte-identical");
    assert.equal(msg.key, "k");
    assert.deepEqual(msg.properties, { origin: "java" });
    assert.equal(msg.id.entryId, 13n, "the id is the last chunk's");
    assert.equal(consumer.queued, 0);
    consumer.ack(msg.id.toString());
    await consumer.flushAcks();
    assert.deepEqual(
      broker.acks().flatMap((a) => a.messageId as { entryId: number }[]).map((m) => m.entryId),
      [
        10,
        12,
        13,
      ],
    );
    // Permits: 4 entries came and 2 messages were delivered: exactly 4 permits went back.
    const flows = broker.sent.filter((c) => c.type === "FLOW").map((c) => c.messagePermits);
    assert.equal(flows[0], 4, "the initial grant");
    assert.equal(flows.slice(1).reduce((a, b) => Number(a) + Number(b), 0), 4);
  } finally {
    await consumer.close();
  }
});

Deno.test("a chunk without its predecessors and an expired message surface as chunk errors", async () => {
  const broker = new FakeBroker();
  const consumer = await broker.subscribe({
    expireIncompleteChunkedMessageMs: 20,
    receiverQueueSize: 2,
  });
  try {
    broker.push({ entry: 20 }, chunkMeta("p-5", 1, 3, 30), bytes("x".repeat(10)));
    const orphan = await consumer.receive(1000);
    assert.equal(orphan.decodeError?.kind, "chunk");
    assert.match(orphan.decodeError!.message, /chunk 2 of 3 arrived without the chunks before it/);
    assert.deepEqual(orphan.payload, bytes("x".repeat(10)), "the bytes as received");

    broker.push({ entry: 21 }, chunkMeta("p-6", 0, 2, 8), bytes("half"));
    const expired = await consumer.receive(2000);
    assert.equal(expired.decodeError?.kind, "chunk");
    assert.match(expired.decodeError!.message, /not complete within 20 ms \(1 of 2 chunks\)/);
    assert.deepEqual(expired.payload, bytes("half"));
    consumer.ack(expired);
    await consumer.flushAcks();
    assert.deepEqual(broker.acks().flatMap((a) => a.messageId as unknown[]), [
      { ledgerId: 1, entryId: 21 },
    ]);
    // Two entries came, two permits went back: a message that failed late takes none.
    const flows = broker.sent.filter((c) => c.type === "FLOW").map((c) => Number(c.messagePermits));
    assert.deepEqual(flows.slice(1).reduce((a, b) => a + b, 0), 2);
  } finally {
    await consumer.close();
  }
});

Deno.test("past the limit of pending chunked messages the oldest is handed on as an error", async () => {
  const broker = new FakeBroker();
  const consumer = await broker.subscribe({ maxPendingChunkedMessages: 2 });
  try {
    for (let i = 0; i < 3; i++) {
      broker.push({ entry: 30 + i }, chunkMeta(`p-${i}`, 0, 2, 2), bytes("a"));
    }
    const dropped = await consumer.receive(1000);
    assert.equal(dropped.decodeError?.kind, "chunk");
    assert.match(dropped.decodeError!.message, /p-0.*over 2 incomplete chunked messages/);
    broker.push({ entry: 40 }, chunkMeta("p-2", 1, 2, 2), bytes("b"));
    const done = await consumer.receive(1000);
    assert.equal(done.text(), "ab", "the others are still assembled");
  } finally {
    await consumer.close();
  }
});

Deno.test("a nacked chunked message on a Shared subscription is redelivered chunk by chunk", async () => {
  const broker = new FakeBroker();
  const consumer = await broker.subscribe({ subscriptionType: "Shared", nackRedeliveryDelayMs: 1 });
  try {
    broker.push({ entry: 50 }, chunkMeta("p-9", 0, 2, 4), bytes("ab"));
    broker.push({ entry: 52 }, chunkMeta("p-9", 1, 2, 4), bytes("cd"));
    const msg = await consumer.receive(1000);
    assert.equal(msg.text(), "abcd");
    consumer.nack(msg);
    for (let i = 0; i < 100 && !broker.sent.some((c) => c.type.startsWith("REDELIVER")); i++) {
      await new Promise((r) => setTimeout(r, 5));
    }
    const redeliver = broker.sent.find((c) => c.type === "REDELIVER_UNACKNOWLEDGED_MESSAGES");
    assert.deepEqual(redeliver?.messageIds, [
      { ledgerId: 1, entryId: 50 },
      { ledgerId: 1, entryId: 52 },
    ]);
  } finally {
    await consumer.close();
  }
});
