import assert from "node:assert/strict";
import fc from "fast-check";
import { MessageId } from "./message_id.ts";
import { InvalidArgumentError } from "./errors.ts";

Deno.test("message id: the envelope example decodes to ledger 7 entry 0", () => {
  const id = MessageId.parse("CAcQAA==");
  assert.equal(id.ledgerId, 7n);
  assert.equal(id.entryId, 0n);
  assert.equal(id.partition, -1);
  assert.equal(id.toString(), "CAcQAA==");
});

Deno.test("message id: any id survives toString/parse", () => {
  fc.assert(
    fc.property(
      fc.bigInt({ min: -1n, max: (1n << 63n) - 1n }),
      fc.bigInt({ min: -1n, max: (1n << 63n) - 1n }),
      fc.integer({ min: -1, max: 10_000 }),
      fc.integer({ min: -1, max: 10_000 }),
      fc.integer({ min: 0, max: 10_000 }),
      (ledger, entry, partition, batchIndex, batchSize) => {
        const id = new MessageId(ledger, entry, partition, batchIndex, batchSize);
        const back = MessageId.parse(id.toString());
        assert.deepEqual(
          [back.ledgerId, back.entryId, back.partition, back.batchIndex, back.batchSize],
          [ledger, entry, partition, batchIndex, batchSize],
        );
      },
    ),
  );
});

Deno.test("message id: earliest encodes -1 as a 10-byte varint like Java", () => {
  const bytes = MessageId.earliest.toBytes();
  // tag, 10 bytes of -1, tag, 10 bytes of -1
  assert.equal(bytes.length, 22);
  assert.equal(MessageId.parse(MessageId.earliest.toString()).ledgerId, -1n);
});

Deno.test("message id: ordering by ledger, entry, batch index", () => {
  const ids = [
    new MessageId(2n, 0n),
    new MessageId(1n, 5n, -1, 3),
    new MessageId(1n, 5n, -1, 0),
    new MessageId(1n, 4n),
  ];
  const sorted = [...ids].sort(MessageId.compare).map((id) => id.toHuman());
  assert.deepEqual(sorted, ["1:4:-1:-1", "1:5:-1:0", "1:5:-1:3", "2:0:-1:-1"]);
  assert.ok(MessageId.compare(MessageId.earliest, new MessageId(0n, 0n)) < 0);
  assert.ok(MessageId.compare(MessageId.latest, new MessageId(1n << 40n, 0n)) > 0);
});

Deno.test("message id: human form and keywords parse", () => {
  assert.equal(MessageId.parse("12:34:1:2").toHuman(), "12:34:1:2");
  assert.equal(MessageId.parse("earliest"), MessageId.earliest);
});

Deno.test("message id: garbage is a typed error", () => {
  for (const bad of ["", "!!!", "CA==", btoa("\x08\xff"), btoa("\x0b")]) {
    assert.throws(() => MessageId.parse(bad), InvalidArgumentError, bad);
  }
});
