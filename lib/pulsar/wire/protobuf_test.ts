import assert from "node:assert/strict";
import fc from "fast-check";
import { ProtocolError } from "./errors.ts";
import { ProtoReader, ProtoWriter } from "./protobuf.ts";

// Reference varint encoder over bigint, straight from the protobuf spec.
function referenceVarint(value: bigint): number[] {
  let v = BigInt.asUintN(64, value);
  const out: number[] = [];
  do {
    const low = Number(v & 0x7fn);
    v >>= 7n;
    out.push(v > 0n ? low | 0x80 : low);
  } while (v > 0n);
  return out;
}

const int64 = fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });
const safeInt = fc.integer({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER });

Deno.test("protobuf: known varint encodings", () => {
  const w = new ProtoWriter();
  const cases: [number, number[]][] = [
    [0, [0]],
    [1, [1]],
    [127, [0x7f]],
    [128, [0x80, 0x01]],
    [300, [0xac, 0x02]],
    [2 ** 32, [0x80, 0x80, 0x80, 0x80, 0x10]],
    [-1, [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]],
  ];
  for (const [value, bytes] of cases) {
    w.reset();
    w.varint(value);
    assert.deepEqual([...w.finish()], bytes, `encoding ${value}`);
  }
});

Deno.test("protobuf: Long.MAX_VALUE and Long.MIN_VALUE round-trip exactly as bigints", () => {
  const w = new ProtoWriter();
  for (const value of [2n ** 63n - 1n, -(2n ** 63n), 2n ** 53n, -(2n ** 53n) - 1n]) {
    w.reset();
    w.bigVarint(value);
    assert.deepEqual([...w.finish()], referenceVarint(value));
    assert.equal(new ProtoReader(w.finish()).long(), value);
  }
});

Deno.test("protobuf: safe integers encode like the reference and read back as numbers", () => {
  fc.assert(
    fc.property(safeInt, (value) => {
      const w = new ProtoWriter(1); // tiny, so that growth is exercised too
      w.varint(value);
      const bytes = w.finish();
      assert.deepEqual([...bytes], referenceVarint(BigInt(value)));
      assert.equal(new ProtoReader(bytes).varint(), value);
      assert.equal(new ProtoReader(bytes).long(), value);
    }),
    { numRuns: 2000 },
  );
});

Deno.test("protobuf: every int64 round-trips through long(); numbers exactly when safe", () => {
  fc.assert(
    fc.property(int64, (value) => {
      const w = new ProtoWriter(4);
      w.bigVarint(value);
      const bytes = w.finish();
      assert.deepEqual([...bytes], referenceVarint(value));
      const back = new ProtoReader(bytes).long();
      const safe = value >= BigInt(Number.MIN_SAFE_INTEGER) &&
        value <= BigInt(Number.MAX_SAFE_INTEGER);
      assert.equal(typeof back, safe ? "number" : "bigint");
      assert.equal(BigInt(back), value);
    }),
    { numRuns: 2000 },
  );
});

Deno.test("protobuf: strings, bytes, doubles and nested lengths round-trip", () => {
  fc.assert(
    fc.property(
      fc.string({ unit: "grapheme", maxLength: 200 }),
      fc.uint8Array({ maxLength: 300 }),
      fc.double(),
      (text, bytes, double) => {
        const w = new ProtoWriter(2);
        w.stringField(1, text);
        const start = w.beginLength(2);
        w.bytesField(3, bytes);
        w.endLength(start);
        w.doubleField(4, double);
        const r = new ProtoReader(w.finish());
        assert.equal(r.varint(), (1 << 3) | 2);
        assert.equal(r.string(), text);
        assert.equal(r.varint(), (2 << 3) | 2);
        const nestedLength = r.length();
        const nestedEnd = r.pos + nestedLength;
        assert.equal(r.varint(), (3 << 3) | 2);
        assert.deepEqual(r.bytesView(), bytes);
        assert.equal(r.pos, nestedEnd);
        assert.equal(r.varint(), (4 << 3) | 1);
        assert.ok(Object.is(r.double(), double));
        assert.equal(r.pos, r.end);
      },
    ),
  );
});

Deno.test("protobuf: skip() passes over every wire type and rejects groups", () => {
  const w = new ProtoWriter();
  w.uint64Field(1, 2 ** 40);
  w.doubleField(2, 1.5);
  w.bytesField(3, new Uint8Array(200));
  w.tag(4, 5);
  w.u32(7);
  const r = new ProtoReader(w.finish());
  for (const wireType of [0, 1, 2, 5]) {
    assert.equal(r.varint() & 7, wireType);
    r.skip(wireType);
  }
  assert.equal(r.pos, r.end);
  assert.throws(() => new ProtoReader(new Uint8Array([0x0b])).skip(3), ProtocolError);
});

Deno.test("protobuf: truncated and overlong input is a ProtocolError", () => {
  assert.throws(() => new ProtoReader(new Uint8Array([0x80])).varint(), ProtocolError);
  assert.throws(
    () => new ProtoReader(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x8f])).varint(),
    ProtocolError,
  );
  assert.throws(() => new ProtoReader(new Uint8Array(11).fill(0xff)).long(), ProtocolError);
  assert.throws(() => new ProtoReader(new Uint8Array([5, 1, 2])).bytesView(), ProtocolError);
  assert.throws(() => new ProtoReader(new Uint8Array([1])).double(), ProtocolError);
  assert.throws(() => new ProtoReader(new Uint8Array([2, 0xc3, 0x28])).string(), ProtocolError);
  // `end` bounds reads even when the buffer goes on.
  assert.throws(
    () => new ProtoReader(new Uint8Array([3, 1, 2, 3]), 0, 2).bytesView(),
    ProtocolError,
  );
});

Deno.test("protobuf: the writer refuses values it cannot encode exactly", () => {
  const w = new ProtoWriter();
  assert.throws(() => w.varint(2 ** 64), ProtocolError);
  assert.throws(() => w.varint(1.5), ProtocolError);
  assert.throws(() => w.varint(NaN), ProtocolError);
  assert.throws(() => w.bigVarint(2n ** 64n), ProtocolError);
  assert.throws(() => w.bigVarint(-(2n ** 63n) - 1n), ProtocolError);
});

Deno.test("protobuf: trim() drops a buffer grown past the limit and keeps a small one", () => {
  const w = new ProtoWriter(16);
  w.raw(new Uint8Array(100));
  const grown = w.buf;
  w.trim(1000);
  assert.equal(w.buf, grown);
  w.trim(64);
  assert.notEqual(w.buf, grown);
  assert.equal(w.pos, 0);
  w.uint64Field(1, 300);
  assert.deepEqual([...w.finish()], [8, 0xac, 0x02]);
});
