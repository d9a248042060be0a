import assert from "node:assert/strict";
import { bytes, FakeBroker } from "./consumer_test_util.ts";
import { compress } from "./compression.ts";
import { MessageDecodeError } from "./message_decode_error.ts";
import { DeadLetterError } from "./consumer_errors.ts";
import type { Producer } from "./producer.ts";

Deno.test("a payload that cannot be decompressed arrives as raw bytes with a decodeError", async () => {
  const broker = new FakeBroker();
  const consumer = await broker.subscribe();
  const garbage = Uint8Array.from([0xff, 0x00, 0x13, 0x37, 0xfe]);
  broker.push({ entry: 1 }, { compression: "LZ4", uncompressedSize: 40 }, garbage);
  broker.push({ entry: 2 }, {}, bytes("fine"));
  try {
    const bad = await consumer.receive(1000);
    assert.ok(bad.decodeError instanceof MessageDecodeError, "the message carries the error");
    assert.equal(bad.decodeError.kind, "decompress");
    assert.ok(bad.decodeError.cause, "the codec's error is the cause");
    assert.match(bad.decodeError.message, /1:1/);
    assert.deepEqual(bad.payload, garbage, "payload is the bytes as received");
    assert.throws(() => bad.text(), MessageDecodeError, "undecodable bytes are not text");
    const good = await consumer.receive(1000);
    assert.equal(good.text(), "fine", "the receive queue stays open");
    assert.equal(good.decodeError, undefined);
    consumer.ack(bad);
    await consumer.flushAcks();
    assert.deepEqual(broker.acks().flatMap((a) => a.messageId as unknown[]), [
      { ledgerId: 1, entryId: 1 },
    ]);
  } finally {
    await consumer.close();
  }
});

Deno.test("a compressed batch that cannot be decompressed is one message for the whole entry", async () => {
  const broker = new FakeBroker();
  const consumer = await broker.subscribe();
  const packed = compress("ZLIB", bytes("x".repeat(50)));
  const broken = packed.slice(0, packed.length - 4);
  broker.push(
    { entry: 3 },
    { compression: "ZLIB", uncompressedSize: 50, numMessagesInBatch: 4 },
    broken,
  );
  try {
    const bad = await consumer.receive(1000);
    assert.equal(bad.decodeError?.kind, "decompress");
    assert.equal(bad.id.batchIndex, -1, "the id names the entry");
    assert.deepEqual(bad.payload, broken);
  } finally {
    await consumer.close();
  }
});

Deno.test("an end-to-end encrypted message carries a decodeError, never plain data", async () => {
  const broker = new FakeBroker();
  const consumer = await broker.subscribe();
  const ciphertext = Uint8Array.from([9, 8, 7, 6, 5]);
  broker.push({ entry: 4 }, {
    encryptionKeys: [{ key: "app-key", value: Uint8Array.from([1, 2, 3]) }],
    encryptionAlgo: "RSA",
    encryptionParam: Uint8Array.from([4, 4, 4]),
    // Compressed before encryption: must not be decompressed either.
    compression: "LZ4",
    uncompressedSize: 100,
  }, ciphertext);
  try {
    const msg = await consumer.receive(1000);
    assert.equal(msg.decodeError?.kind, "encrypted");
    assert.match(msg.decodeError!.message, /app-key/);
    assert.deepEqual(msg.payload, ciphertext);
    assert.throws(() => msg.json(), MessageDecodeError);
  } finally {
    await consumer.close();
  }
});

/** A dead-letter target that always fails; counts attempts and stops a spin after 200. */
function failingDeadLetters(broker: FakeBroker, how: "create" | "send") {
  const counts = { creates: 0, awaits: 0, sends: 0 };
  const never = new Promise<never>(() => {});
  broker.createProducer = () => {
    counts.creates++;
    if (how === "create") {
      // A thenable, so that a retry loop reusing one rejected promise is seen too.
      return {
        then(onOk: (p: Producer) => unknown, onErr: (e: unknown) => unknown) {
          if (++counts.awaits > 200) return never;
          return Promise.reject(new Error("not authorized")).then(onOk, onErr);
        },
      } as unknown as Promise<Producer>;
    }
    return Promise.resolve({
      send: () => (++counts.sends > 200 ? never : Promise.reject(new Error("rejected at once"))),
      close: () => Promise.resolve(),
    } as unknown as Producer);
  };
  return counts;
}

for (const how of ["create", "send"] as const) {
  Deno.test(`a dead-letter ${how} failure backs off, gives up and surfaces a typed error`, async () => {
    const broker = new FakeBroker();
    const counts = failingDeadLetters(broker, how);
    const consumer = await broker.subscribe({
      nackRedeliveryDelayMs: 1,
      deadLetter: { maxRedeliverCount: 1, deadLetterTopic: "dlq", maxSendAttempts: 4 },
    });
    try {
      broker.push({ entry: 9, redeliveryCount: 1 }, {}, bytes("poison"));
      const msg = await consumer.receive(1000);
      consumer.nack(msg);
      const error = await consumer.receive(5000).then(
        () => assert.fail("a message instead of the give-up"),
        (e) => e,
      );
      assert.ok(error instanceof DeadLetterError, `expected DeadLetterError, got ${error}`);
      assert.match(error.message, /dlq/);
      assert.match(error.message, /4 attempts/);
      assert.ok(error.cause instanceof Error);
      const attempts = how === "create" ? counts.awaits : counts.sends;
      assert.equal(attempts, 4, "bounded retries, no spin");
      if (how === "create") {
        assert.equal(counts.creates, 4, "each attempt creates the producer anew");
      }
      assert.deepEqual(broker.acks(), [], "the message is not acknowledged");
    } finally {
      await consumer.close();
    }
  });
}

Deno.test("acking a batched message by its human id with no batch state acks only that message", async () => {
  const broker = new FakeBroker();
  const consumer = await broker.subscribe();
  try {
    consumer.ack("1:5:-1:1");
    await consumer.flushAcks();
    assert.deepEqual(broker.acks(), [], "the whole entry must not be acknowledged");
    broker.push({ entry: 5 }, { batch: [bytes("a"), bytes("b"), bytes("c")] });
    const first = await consumer.receive(1000);
    const second = await consumer.receive(1000);
    assert.deepEqual(
      [first.text(), second.text()],
      ["a", "c"],
      "the acked message is not redelivered",
    );
    consumer.ack(first);
    await consumer.flushAcks();
    assert.deepEqual(broker.acks(), [], "c is still unacknowledged");
    consumer.ack(second.id.toHuman());
    await consumer.flushAcks();
    assert.deepEqual(broker.acks().flatMap((a) => a.messageId as unknown[]), [
      { ledgerId: 1, entryId: 5 },
    ]);
  } finally {
    await consumer.close();
  }
});

Deno.test("a message nacked by its id string is dead-lettered with its payload", async () => {
  const broker = new FakeBroker();
  const sent: unknown[] = [];
  broker.createProducer = () =>
    Promise.resolve({
      send: (m: unknown) => {
        sent.push(m);
        return Promise.resolve();
      },
      close: () => Promise.resolve(),
    } as unknown as Producer);
  const consumer = await broker.subscribe({
    ackTimeoutMs: 60_000,
    nackRedeliveryDelayMs: 1,
    deadLetter: { maxRedeliverCount: 2, deadLetterTopic: "dlq" },
  });
  try {
    broker.push({ entry: 3, redeliveryCount: 2 }, { partitionKey: "k" }, bytes("poison"));
    const msg = await consumer.receive(1000);
    consumer.nack(msg.id.toString());
    for (let i = 0; i < 100 && broker.acks().length === 0; i++) {
      await new Promise((r) => setTimeout(r, 5));
      await consumer.flushAcks();
    }
    assert.equal(sent.length, 1);
    const copy = sent[0] as {
      payload: Uint8Array;
      key: string;
      properties: Record<string, string>;
    };
    assert.equal(new TextDecoder().decode(copy.payload), "poison");
    assert.equal(copy.key, "k");
    assert.equal(copy.properties.ORIGIN_MESSAGE_ID, "1:3:-1:-1");
    assert.deepEqual(broker.acks().flatMap((a) => a.messageId as unknown[]), [
      { ledgerId: 1, entryId: 3 },
    ], "acknowledged once dead-lettered");
  } finally {
    await consumer.close();
  }
});
