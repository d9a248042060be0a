import assert from "node:assert/strict";
import fc from "fast-check";
import golden from "./wire/testdata/golden_routing.json" with { type: "json" };
import { javaStringHash, murmur3_32Hash, partitionFor, signSafeMod } from "./routing.ts";

// Computed by the Java client's JavaStringHash, Murmur3Hash32 and MathUtils.signSafeMod
// (testdata/GoldenRouting.java); keys are stored as UTF-16 code units.
const cases = golden.map((c) => ({ ...c, key: String.fromCharCode(...c.keyUnits) }));

Deno.test("routing: hashes equal the Java client's, non-ASCII and lone surrogates included", () => {
  assert.ok(cases.length >= 15);
  for (const c of cases) {
    assert.equal(
      javaStringHash(c.key),
      c.javaStringHash,
      `JavaStringHash of ${JSON.stringify(c.key)}`,
    );
    assert.equal(
      murmur3_32Hash(c.key),
      c.murmur3_32Hash,
      `Murmur3_32Hash of ${JSON.stringify(c.key)}`,
    );
  }
});

Deno.test("routing: partitions equal the Java client's choice", () => {
  for (const c of cases) {
    for (const [n, [byJava, byMurmur]] of Object.entries(c.partitions)) {
      assert.equal(partitionFor(c.key, Number(n)), byJava, `${c.key} over ${n}`);
      assert.equal(
        partitionFor(c.key, Number(n), "Murmur3_32Hash"),
        byMurmur,
        `${c.key} over ${n}`,
      );
    }
  }
});

Deno.test("routing: JavaStringHash follows String.hashCode's definition", () => {
  fc.assert(
    fc.property(fc.string({ unit: "binary", maxLength: 20 }), (key) => {
      // s[0]*31^(n-1) + ... + s[n-1], in 32-bit two's complement, masked to 31 bits.
      let h = 0n;
      for (let i = 0; i < key.length; i++) h = (h * 31n + BigInt(key.charCodeAt(i))) % (1n << 32n);
      assert.equal(javaStringHash(key), Number(h & 0x7fffffffn));
    }),
  );
});

Deno.test("routing: hashes are non-negative ints and partitions lie in range", () => {
  fc.assert(
    fc.property(fc.string({ unit: "binary" }), fc.integer({ min: 1, max: 10000 }), (key, n) => {
      for (const hash of [javaStringHash(key), murmur3_32Hash(key)]) {
        assert.ok(Number.isInteger(hash) && hash >= 0 && hash <= 0x7fffffff);
      }
      const p = partitionFor(key, n, "Murmur3_32Hash");
      assert.ok(p >= 0 && p < n);
      assert.equal(
        murmur3_32Hash(new TextEncoder().encode(key.toWellFormed())),
        murmur3_32Hash(key.toWellFormed()),
      );
    }),
  );
});

Deno.test("routing: signSafeMod is Java's, and rejects nonsense", () => {
  assert.equal(signSafeMod(-7, 3), 2);
  assert.equal(signSafeMod(7, 3), 1);
  assert.ok(Object.is(signSafeMod(-6, 3), 0));
  assert.equal(signSafeMod(-(2 ** 31), 7), ((-(2 ** 31) % 7) + 7) % 7);
  assert.throws(() => signSafeMod(1, 0), RangeError);
  assert.throws(() => signSafeMod(1, -2), RangeError);
  assert.throws(() => signSafeMod(1.5, 2), RangeError);
  assert.throws(() => partitionFor("k", 0), RangeError);
});
