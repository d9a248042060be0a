import assert from "node:assert/strict";
import fc from "fast-check";
import { packBatch, ProtocolError, unpackBatch } from "./mod.ts";

const text = fc.string({ unit: "grapheme", maxLength: 20 });
const entry = fc.record({
  metadata: fc.record(
    {
      properties: fc.dictionary(text, text, { minKeys: 1, maxKeys: 3, noNullPrototype: true }),
      partitionKey: text,
      eventTime: fc.maxSafeNat(),
      orderingKey: fc.uint8Array({ maxLength: 8 }),
      sequenceId: fc.maxSafeNat(),
      nullValue: fc.boolean(),
    },
    { requiredKeys: [], noNullPrototype: true },
  ),
  payload: fc.uint8Array({ maxLength: 300 }),
}, { noNullPrototype: true });

Deno.test("batch: pack then unpack gives the messages back, sizes filled in", () => {
  fc.assert(
    fc.property(fc.array(entry, { maxLength: 20 }), (entries) => {
      const unpacked = unpackBatch(packBatch(entries), entries.length);
      assert.deepEqual(
        unpacked,
        entries.map((e) => ({
          metadata: { ...e.metadata, payloadSize: e.payload.length },
          payload: e.payload,
        })),
      );
    }),
    { numRuns: 300 },
  );
});

Deno.test("batch: a caller's payloadSize is replaced by the real payload length", () => {
  const bytes = packBatch([{ metadata: { payloadSize: 99 }, payload: new Uint8Array(2) }]);
  assert.equal(unpackBatch(bytes, 1)[0].metadata.payloadSize, 2);
});

Deno.test("batch: truncated or inconsistent batches are a ProtocolError", () => {
  const bytes = packBatch([
    { metadata: {}, payload: new Uint8Array([1, 2, 3]) },
    { metadata: {}, payload: new Uint8Array([4]) },
  ]);
  assert.throws(() => unpackBatch(bytes, 3), ProtocolError);
  for (let cut = 0; cut < bytes.length; cut++) {
    assert.throws(() => unpackBatch(bytes.subarray(0, cut), 2), ProtocolError, `cut at ${cut}`);
  }
  const lying = bytes.slice();
  lying[3] = 200; // metadata size beyond the buffer
  assert.throws(() => unpackBatch(lying, 1), ProtocolError);
  assert.throws(() => unpackBatch(bytes, -1), ProtocolError);
  assert.throws(() => unpackBatch(bytes, 1.5), ProtocolError);
  assert.deepEqual(unpackBatch(new Uint8Array(0), 0), []);
});

Deno.test("batch fuzz: random bytes unpack or fail with a ProtocolError", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 100 }), fc.nat({ max: 5 }), (bytes, n) => {
      try {
        assert.equal(unpackBatch(bytes, n).length, n);
      } catch (err) {
        if (!(err instanceof ProtocolError)) throw err;
      }
    }),
    { numRuns: 3000 },
  );
});
