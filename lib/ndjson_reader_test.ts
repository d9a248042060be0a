import assert from "node:assert/strict";
import { BadLine, MAX_NESTING, NdjsonReader, type ParseMode } from "./ndjson_reader.ts";

const encoder = new TextEncoder();

/** Every line the reader gives for `bytes` cut into `cuts`-sized chunks: [number, value|error]. */
async function readAll(
  bytes: Uint8Array,
  chunk = bytes.length,
  options: { maxLineBytes?: number; mode?: ParseMode } = {},
): Promise<[number, unknown][]> {
  const chunks: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += chunk) chunks.push(bytes.slice(i, i + chunk));
  const reader = new NdjsonReader(ReadableStream.from(chunks), options);
  const out: [number, unknown][] = [];
  for (let batch = await reader.next(); batch !== null; batch = await reader.next()) {
    assert.ok(batch.values.length > 0, "batches are never empty");
    batch.values.forEach((value, i) => {
      out.push([
        batch.numbers[i],
        value instanceof BadLine ? `bad: ${value.error.message}` : value,
      ]);
    });
  }
  return out;
}

function bytesOf(...parts: (string | number[])[]): Uint8Array {
  const arrays = parts.map((p) => typeof p === "string" ? encoder.encode(p) : Uint8Array.from(p));
  const out = new Uint8Array(arrays.reduce((n, a) => n + a.length, 0));
  let offset = 0;
  for (const a of arrays) {
    out.set(a, offset);
    offset += a.length;
  }
  return out;
}

// "é" is two bytes (c3 a9), "€" three (e2 82 ac), "𝄞" four: chunk cuts fall inside them.
const MIXED = bytesOf(
  [0xef, 0xbb, 0xbf],
  '{"a":"é"}\r\n',
  "\n",
  "  \t\n",
  '{"value":"€","id":"x"}\n',
  [0x7b, 0xff, 0x7d, 0x0a], // not UTF-8
  '{"a":"𝄞"}\n',
  "[1]\n",
  '{"$edgepipe":"ack","ids":["x"]}\n',
  '{"last":true}',
);
const EXPECTED: [number, unknown][] = [
  [1, { value: { a: "é" } }],
  [4, { value: "€", id: "x" }],
  [5, "bad: line 5: not valid UTF-8 (the dead letter keeps its bytes in base64)"],
  [6, { value: { a: "𝄞" } }],
  [7, "bad: line 7: expected a JSON object (an envelope), got an array"],
  [8, { $edgepipe: "ack", ids: ["x"] }],
  [9, { value: { last: true } }],
];

Deno.test("NdjsonReader: the same lines whatever the chunk size (cuts inside characters and line ends)", async () => {
  for (const chunk of [1, 2, 3, 5, 7, 16, MIXED.length]) {
    assert.deepEqual(await readAll(MIXED, chunk), EXPECTED, `chunks of ${chunk}`);
  }
});

Deno.test("NdjsonReader: a bad line keeps its raw bytes; the lines around it are read", async () => {
  const reader = new NdjsonReader(ReadableStream.from([bytesOf('{"a":1}\n', [0x41, 0xfc, 0x0a])]));
  const batch = (await reader.next())!;
  const bad = batch.values[1] as BadLine;
  assert.ok(bad instanceof BadLine);
  assert.deepEqual(bad.bytes, Uint8Array.of(0x41, 0xfc));
  assert.equal(bad.text, undefined);
  assert.deepEqual(batch.values[0], { value: { a: 1 } });
  const notJson = (await readAll(bytesOf("{nope\n")))[0];
  assert.match(String(notJson[1]), /^bad: line 1: not valid JSON/);
});

Deno.test("NdjsonReader: nesting deeper than MAX_NESTING is a bad line, not a stack overflow", async () => {
  const deep = (n: number) => `{"value":${"[".repeat(n)}${"]".repeat(n)}}\n`;
  const lines = await readAll(bytesOf(deep(100_000), deep(MAX_NESTING - 1), '{"s":"[[[["}\n'));
  assert.equal(lines[0][1], `bad: line 1: nested deeper than ${MAX_NESTING} levels`);
  assert.equal(lines[1][0], 2);
  assert.equal(typeof lines[1][1], "object"); // MAX_NESTING levels in all: accepted
  assert.deepEqual(lines[2], [3, { value: { s: "[[[[" } }]);
});

Deno.test("NdjsonReader: an over-long line is a bad line, skipped without holding it, and reading goes on", async () => {
  const long = "x".repeat(100);
  for (const chunk of [7, 64, 1000]) {
    const lines = await readAll(bytesOf(`{"a":1}\n"${long}"\n{"b":2}\n"${long}"`), chunk, {
      maxLineBytes: 50,
    });
    assert.deepEqual(lines, [
      [1, { value: { a: 1 } }],
      [2, "bad: line 2: line longer than 50 bytes (raise it with --max-line-bytes)"],
      [3, { value: { b: 2 } }],
      [4, "bad: line 4: line longer than 50 bytes (raise it with --max-line-bytes)"],
    ], `chunks of ${chunk}`);
  }
});

Deno.test("NdjsonReader: json mode takes any value, text mode every line as it is", async () => {
  const bytes = bytesOf('42\n"s"\n\nnull\n');
  assert.deepEqual(await readAll(bytes, 3, { mode: "json" }), [[1, 42], [2, "s"], [4, null]]);
  assert.deepEqual(await readAll(bytes, 3, { mode: "text" }), [
    [1, "42"],
    [2, '"s"'],
    [3, ""],
    [4, "null"],
  ]);
});

Deno.test("NdjsonReader: a BOM only at the start of the input is skipped", async () => {
  const lines = await readAll(bytesOf('{"a":1}\n', [0xef, 0xbb, 0xbf], '{"a":2}\n'));
  assert.equal(lines[0][0], 1);
  assert.match(String(lines[1][1]), /^bad: line 2: not valid JSON/);
});

Deno.test("NdjsonReader: reads a Deno.Reader-like source into one reused buffer", async () => {
  const data = bytesOf(...Array.from({ length: 1000 }, (_, i) => `{"i":${i}}\n`));
  let offset = 0;
  const source = {
    read(buffer: Uint8Array): Promise<number | null> {
      if (offset >= data.length) return Promise.resolve(null);
      const n = Math.min(buffer.length, data.length - offset, 333);
      buffer.set(data.subarray(offset, offset + n));
      offset += n;
      return Promise.resolve(n);
    },
  };
  const reader = new NdjsonReader(source, { chunkBytes: 4096 });
  const seen: number[] = [];
  for (let batch = await reader.next(); batch !== null; batch = await reader.next()) {
    for (const value of batch.values) seen.push((value as { value: { i: number } }).value.i);
  }
  assert.deepEqual(seen, Array.from({ length: 1000 }, (_, i) => i));
});
