import assert from "node:assert/strict";
import fc from "fast-check";
import { crc32c } from "./crc32c.ts";

// A bit-at-a-time CRC32C straight from the definition, to check the table-driven one against.
function crc32cBitwise(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return ~crc >>> 0;
}

Deno.test("crc32c: standard check value of '123456789'", () => {
  assert.equal(crc32c(new TextEncoder().encode("123456789")), 0xe3069283);
});

Deno.test("crc32c: RFC 3720 (iSCSI) test vectors", () => {
  assert.equal(crc32c(new Uint8Array(32)), 0x8a9136aa);
  assert.equal(crc32c(new Uint8Array(32).fill(0xff)), 0x62a8ab43);
  assert.equal(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i)), 0x46dd794e);
  assert.equal(crc32c(Uint8Array.from({ length: 32 }, (_, i) => 31 - i)), 0x113fdb5c);
  // deno-fmt-ignore
  const readPdu = [
    0x01, 0xc0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0x14, 0, 0, 0, 0, 0, 0x04, 0, 0, 0, 0, 0x14, 0, 0, 0, 0x18,
    0x28, 0, 0, 0, 0, 0, 0, 0, 0x02, 0, 0, 0, 0, 0, 0, 0,
  ];
  assert.equal(crc32c(Uint8Array.from(readPdu)), 0xd9963a56);
});

Deno.test("crc32c: empty input is 0", () => {
  assert.equal(crc32c(new Uint8Array(0)), 0);
});

Deno.test("crc32c: slice-by-8 agrees with the bitwise definition on any input", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
      assert.equal(crc32c(bytes), crc32cBitwise(bytes));
    }),
    { numRuns: 500 },
  );
});

Deno.test("crc32c: continuing over a split equals one pass; ranges stay in bounds", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), fc.nat(), fc.nat(), (bytes, a, b) => {
      const i = a % (bytes.length + 1);
      const j = i + (b % (bytes.length - i + 1));
      const whole = crc32c(bytes.subarray(i, j));
      assert.equal(crc32c(bytes, 0, i, j), whole);
      const mid = i + ((j - i) >> 1);
      assert.equal(crc32c(bytes, crc32c(bytes, 0, i, mid), mid, j), whole);
    }),
  );
});

Deno.test("crc32c: the word loop agrees with the bitwise definition at every offset and length", () => {
  // Long enough for the 16-byte word loop, at every alignment of the underlying buffer, in
  // views that start and end anywhere, continued from any previous value.
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 64, maxLength: 700 }),
      fc.nat(7),
      fc.nat(),
      fc.nat(),
      (data, shift, a, b) => {
        const buffer = new Uint8Array(data.length + 8);
        buffer.set(data, shift);
        const bytes = buffer.subarray(shift, shift + data.length);
        assert.equal(crc32c(bytes), crc32cBitwise(data));
        const i = a % (bytes.length + 1);
        const j = i + (b % (bytes.length - i + 1));
        assert.equal(crc32c(bytes, 0, i, j), crc32cBitwise(data.subarray(i, j)));
        assert.equal(crc32c(bytes, crc32c(bytes, 0, 0, i), i), crc32cBitwise(data));
      },
    ),
    { numRuns: 500 },
  );
});
