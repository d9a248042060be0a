import assert from "node:assert/strict";
import fc from "fast-check";
import { Message, MessageId } from "../pulsar/mod.ts";
import {
  decodePayload,
  encodeMessageId,
  messageEnvelope,
  PayloadError,
  splitPartition,
} from "./message_envelope.ts";
import { RawJson } from "./raw_json.ts";

const bytes = (text: string) => new TextEncoder().encode(text);

Deno.test("messageEnvelope carries everything a later stage needs, id parseable back", () => {
  const id = new MessageId(12n, 34n, 2, 5, 10);
  const msg = new Message("persistent://public/default/flights-partition-2", id, bytes('{"d":1}'), {
    key: "SFO",
    publishTime: 1700,
    eventTime: 1600,
    properties: { a: "b" },
    redeliveryCount: 1,
  });
  const envelope = messageEnvelope(msg, "json");
  assert.deepEqual(envelope, {
    topic: "persistent://public/default/flights",
    partition: 2,
    id: id.toString(),
    key: "SFO",
    publishTime: 1700,
    eventTime: 1600,
    properties: { a: "b" },
    redeliveryCount: 1,
    value: { d: 1 },
  });
  assert.ok(MessageId.parse(envelope.id!).equals(id));
  const bare = messageEnvelope(
    new Message("persistent://public/default/t", new MessageId(1n, 2n), bytes("x"), {
      publishTime: 3,
    }),
    "json",
  );
  assert.deepEqual(Object.keys(bare), [
    "topic",
    "id",
    "key",
    "publishTime",
    "redeliveryCount",
    "value",
  ]);
  assert.equal(bare.key, null);
});

Deno.test("decodePayload: JSON when it parses, text otherwise, base64 for any bytes", () => {
  assert.deepEqual(decodePayload(bytes(" [1, 2] "), "json"), [1, 2]);
  assert.equal(decodePayload(bytes("12"), "json"), 12);
  assert.equal(decodePayload(bytes("12 monkeys"), "json"), "12 monkeys");
  assert.equal(decodePayload(bytes("hello"), "json"), "hello");
  assert.equal(decodePayload(bytes("{not json"), "json"), "{not json");
  assert.equal(decodePayload(bytes("12"), "string"), "12");
  assert.equal(decodePayload(new Uint8Array([0xff, 0]), "base64"), "/wA=");
  assert.throws(() => decodePayload(new Uint8Array([0xff]), "json"), PayloadError);
  assert.throws(
    () => decodePayload(new Uint8Array([0xc3]), "string"),
    /not valid UTF-8 \(read it with --payload base64\)/,
  );
});

Deno.test("splitPartition separates the partition suffix", () => {
  assert.deepEqual(splitPartition("persistent://t/n/x-partition-11"), {
    topic: "persistent://t/n/x",
    partition: 11,
  });
  assert.deepEqual(splitPartition("persistent://t/n/x-partition-"), {
    topic: "persistent://t/n/x-partition-",
    partition: -1,
  });
});

Deno.test("encodeMessageId writes exactly what MessageId.toString writes", () => {
  const int64 = fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });
  const small = fc.bigInt({ min: 0n, max: 1n << 40n });
  fc.assert(
    fc.property(
      fc.oneof(int64, small),
      fc.oneof(int64, small),
      fc.integer({ min: -1, max: 100_000 }),
      fc.array(
        fc.tuple(
          fc.integer({ min: -1, max: 2 ** 31 - 1 }),
          fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        ),
        { minLength: 1, maxLength: 8 },
      ),
      (ledger, entry, partition, batch) => {
        // Several messages of one entry in a row: the per-entry prefix is reused.
        for (const [batchIndex, batchSize] of batch) {
          const id = new MessageId(ledger, entry, partition, batchIndex, batchSize);
          assert.equal(encodeMessageId(id), id.toString());
        }
      },
    ),
    { numRuns: 2000 },
  );
  for (const id of [MessageId.earliest, MessageId.latest, new MessageId(0n, 0n)]) {
    assert.equal(encodeMessageId(id), id.toString());
  }
});

Deno.test("messageEnvelope names each partition of each topic, also after switching topics", () => {
  const payload = bytes("1");
  const names = [
    "persistent://p/n/a-partition-0",
    "persistent://p/n/b",
    "persistent://p/n/a-partition-3",
  ];
  const seen = [0, 1, 2, 0, 2, 1].map((i) =>
    messageEnvelope(
      new Message(names[i], new MessageId(1n, 2n), payload, { publishTime: 0 }),
      "json",
    )
  ).map((e) => [e.topic, e.partition]);
  assert.deepEqual(seen, [
    ["persistent://p/n/a", 0],
    ["persistent://p/n/b", undefined],
    ["persistent://p/n/a", 3],
    ["persistent://p/n/a", 0],
    ["persistent://p/n/a", 3],
    ["persistent://p/n/b", undefined],
  ]);
});

Deno.test("messageEnvelope keepJsonText: canonical JSON stays its bytes, the line is the same", () => {
  const id = new MessageId(7n, 8n, -1);
  for (
    const [payload, kept] of [['{"a":1,"b":"x"}', true], ['{"a": 1}', false], ["plain", false]]
  ) {
    const msg = new Message("persistent://public/default/t", id, bytes(payload as string), {
      publishTime: 1,
    });
    const fast = messageEnvelope(msg, "json", undefined, true);
    assert.equal(fast.value instanceof RawJson, kept, payload as string);
    assert.equal(JSON.stringify(fast), JSON.stringify(messageEnvelope(msg, "json")));
    // Only json decoding keeps text: string and base64 are unchanged.
    assert.equal(messageEnvelope(msg, "string", undefined, true).value, payload);
  }
});
