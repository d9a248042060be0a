import assert from "node:assert/strict";
import fc from "fast-check";
import { compress, CompressionError, type CompressionType, decompress } from "./compression.ts";
import golden from "./wire/testdata/golden_compression.json" with { type: "json" };
import { crc32c } from "./wire/crc32c.ts";

const TYPES: CompressionType[] = ["LZ4", "ZLIB", "ZSTD", "SNAPPY"];
const utf8 = (s: string) => new TextEncoder().encode(s);
const hex = (bytes: Uint8Array) =>
  Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
const unhex = (text: string) =>
  new Uint8Array((text.match(/../g) ?? []).map((h) => parseInt(h, 16)));

// The same recipes as testdata/GoldenCompression.java.
function inputs(): Record<string, Uint8Array> {
  const json =
    '{"topic":"persistent://public/default/payments","key":"user-42","value":{"amount":12.5}}';
  const random = new Uint8Array(4096);
  let x = 42;
  for (let i = 0; i < random.length; i++) {
    x = Number((BigInt(x) * 1103515245n + 12345n) & 0x7fffffffn);
    random[i] = (x >>> 16) & 0xff;
  }
  let mixed = "";
  for (let i = 0; i < 2100; i++) mixed += `event ${i} ключ värde ✓ ${i % 7}\n`;
  return {
    empty: new Uint8Array(0),
    one: utf8("a"),
    json: utf8(json),
    json_repeated: utf8(`${json}\n`.repeat(300)),
    random,
    run: new Uint8Array(100000).fill("x".charCodeAt(0)),
    mixed_utf8: utf8(mixed),
    byte_cycle: Uint8Array.from({ length: 70000 }, (_, i) => i & 0xff),
  };
}

type Golden = Record<string, { length: number; crc32c: number } & Record<CompressionType, string>>;
const fixtures = golden as unknown as Golden;
const INPUTS = inputs();

Deno.test("compression: inputs match the Java generator's", () => {
  assert.deepEqual(Object.keys(INPUTS), Object.keys(fixtures));
  for (const [name, input] of Object.entries(INPUTS)) {
    assert.equal(input.length, fixtures[name].length, name);
    assert.equal(crc32c(input), fixtures[name].crc32c, name);
  }
});

for (const type of TYPES) {
  Deno.test(`compression: ${type} decodes what the Java codec wrote, and round-trips`, () => {
    for (const [name, input] of Object.entries(INPUTS)) {
      const javaBytes = unhex(fixtures[name][type]);
      assert.deepEqual(decompress(type, javaBytes, input.length), input, `${type} ${name}`);
      const ours = compress(type, input);
      assert.deepEqual(decompress(type, ours, input.length), input, `${type} ${name} (ours)`);
    }
  });
}

Deno.test("compression: ours compresses about as well as Java's on compressible data", () => {
  for (const type of ["LZ4", "SNAPPY"] as const) {
    for (const name of ["json_repeated", "run", "mixed_utf8", "byte_cycle"]) {
      const ours = compress(type, INPUTS[name]).length;
      const java = fixtures[name][type].length / 2;
      assert.ok(ours <= java * 1.5 + 64, `${type} ${name}: ${ours} bytes vs Java's ${java}`);
    }
  }
});

Deno.test("compression: any bytes round-trip through every codec", () => {
  const data = fc.oneof(
    fc.uint8Array({ maxLength: 3000 }),
    // Repetitive data exercises matches, long lengths and overlapping copies.
    fc.tuple(fc.uint8Array({ minLength: 1, maxLength: 20 }), fc.nat({ max: 400 })).map(
      ([unit, times]) =>
        Uint8Array.from({ length: unit.length * times }, (_, i) => unit[i % unit.length]),
    ),
  );
  fc.assert(
    fc.property(data, fc.constantFrom(...TYPES), (input, type) => {
      assert.deepEqual(decompress(type, compress(type, input), input.length), input);
    }),
    { numRuns: 400 },
  );
});

Deno.test("compression: NONE passes bytes through", () => {
  const bytes = utf8("as is");
  assert.equal(compress("NONE", bytes), bytes);
  assert.equal(decompress("NONE", bytes, 0), bytes);
});

Deno.test("compression: wrong sizes, corrupt data and unknown types are CompressionErrors", () => {
  const input = INPUTS.mixed_utf8;
  for (const type of TYPES) {
    const packed = compress(type, input);
    for (const size of [input.length - 1, input.length + 1, -1, 1.5, 2 ** 40]) {
      assert.throws(() => decompress(type, packed, size), CompressionError, `${type} size ${size}`);
    }
    assert.throws(
      () => decompress(type, packed.subarray(0, packed.length >> 1), input.length),
      CompressionError,
    );
  }
  assert.throws(() => decompress("LZ4", new Uint8Array([0x1f, 0x61, 0x05, 0x00]), 20), /offset/);
  assert.throws(() => decompress("SNAPPY", new Uint8Array([10, 0x01, 0x05]), 10), CompressionError);
  assert.throws(() => decompress("ZLIB", utf8("not zlib"), 8), CompressionError);
  assert.throws(() => decompress("ZSTD", utf8("not zstd"), 8), CompressionError);
  assert.throws(() => compress("BROTLI" as CompressionType, input), CompressionError);
  assert.throws(() => decompress("BROTLI" as CompressionType, input, 1), CompressionError);
});

Deno.test("compression fuzz: mutated compressed data decodes or fails with CompressionError", () => {
  const input = INPUTS.mixed_utf8.subarray(0, 5000);
  const packed = Object.fromEntries(TYPES.map((t) => [t, compress(t, input)]));
  fc.assert(
    fc.property(
      fc.constantFrom(...TYPES),
      fc.array(fc.tuple(fc.nat(), fc.nat({ max: 255 })), { minLength: 1, maxLength: 4 }),
      fc.nat(),
      (type, edits, cut) => {
        const bytes = packed[type].slice(0, Math.max(1, packed[type].length - (cut % 8)));
        for (const [at, value] of edits) bytes[at % bytes.length] = value;
        try {
          assert.equal(decompress(type, bytes, input.length).length, input.length);
        } catch (err) {
          if (!(err instanceof CompressionError)) throw err;
        }
      },
    ),
    { numRuns: 2000 },
  );
});

// Java must read what we write: hand our output to the Java client's codecs.
const pulsarHome = Deno.env.get("PULSAR_HOME") ?? "/root/.cache/edgepipe/apache-pulsar-4.0.8";
const canRunJava = await (async () => {
  try {
    await Deno.stat(`${pulsarHome}/lib`);
    const { success } = await new Deno.Command("javac", { args: ["-version"], stderr: "null" })
      .output();
    return success;
  } catch {
    return false;
  }
})();

Deno.test({
  name: "compression: the Java client's codecs decode what we compress",
  ignore: !canRunJava,
  async fn() {
    const classes = await Deno.makeTempDir();
    try {
      const source = new URL("./wire/testdata/GoldenCompression.java", import.meta.url).pathname;
      const cp = `${pulsarHome}/lib/*`;
      const javac = await new Deno.Command("javac", {
        args: ["-nowarn", "-cp", cp, "-d", classes, source],
      }).output();
      assert.ok(javac.success, new TextDecoder().decode(javac.stderr));
      const lines: string[] = [];
      const expected: string[] = [];
      for (const type of TYPES) {
        for (const input of Object.values(INPUTS)) {
          lines.push(`${type} ${input.length} ${hex(compress(type, input))}`);
          expected.push(hex(input));
        }
      }
      const java = new Deno.Command("java", {
        args: ["-cp", `${classes}:${cp}`, "GoldenCompression", "decode"],
        stdin: "piped",
        stdout: "piped",
      }).spawn();
      // Read while writing: Java answers line by line and would block on a full stdout pipe.
      const output = java.output();
      const writer = java.stdin.getWriter();
      await writer.write(utf8(lines.join("\n") + "\n"));
      await writer.close();
      const { stdout } = await output;
      const decoded = new TextDecoder().decode(stdout).trimEnd().split("\n");
      assert.equal(decoded.length, expected.length);
      decoded.forEach((line, i) => assert.equal(line, expected[i], lines[i].slice(0, 40)));
    } finally {
      await Deno.remove(classes, { recursive: true });
    }
  },
});
