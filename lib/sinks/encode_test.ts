import assert from "node:assert/strict";
import { gunzipSync, zstdDecompressSync } from "node:zlib";
import { parquetReadObjects } from "hyparquet";
import fc from "fast-check";
import { ENCODINGS, newBatchEncoder, parseEncoding } from "./encode.ts";
import type { Envelope } from "../envelope.ts";
import { UsageError } from "../errors.ts";

const events: Envelope[] = [
  { id: "a", key: "SFO", topic: "t", partition: 1, eventTime: 1700000000000, value: { n: 1 } },
  { id: "b", value: "plain text", score: { delayed: 0.9 } },
  { value: null, properties: { source: "web" } },
];

function lines(bytes: Uint8Array): Envelope[] {
  return new TextDecoder().decode(bytes).trimEnd().split("\n").map((line) => JSON.parse(line));
}

Deno.test("NDJSON encodings round-trip through independent decompressors", async () => {
  for (
    const [encoding, decompress] of [
      ["ndjson", (b: Uint8Array) => b],
      ["ndjson.gz", (b: Uint8Array) => new Uint8Array(gunzipSync(b))],
      ["ndjson.zst", (b: Uint8Array) => new Uint8Array(zstdDecompressSync(b))],
    ] as const
  ) {
    const encoder = newBatchEncoder(encoding);
    for (const event of events) encoder.add(event);
    assert.equal(encoder.count, 3);
    assert.deepEqual(lines(decompress(await encoder.finish())), events, encoding);
  }
});

Deno.test("Parquet batches of envelopes read back with hyparquet, column by column", async () => {
  const encoder = newBatchEncoder("parquet", { kind: "envelope" });
  for (const event of events) encoder.add(event);
  const bytes = await encoder.finish();
  const rows = await parquetReadObjects({ file: bytes.buffer as ArrayBuffer });
  assert.equal(rows.length, 3);
  assert.equal(rows[0].id, "a");
  assert.equal(rows[0].key, "SFO");
  assert.equal(rows[0].partition, 1);
  assert.equal(Number(rows[0].eventTime), 1700000000000);
  assert.deepEqual(JSON.parse(rows[0].value as string), { n: 1 });
  assert.equal(JSON.parse(rows[1].value as string), "plain text");
  assert.deepEqual(rows[1].extra, { score: { delayed: 0.9 } });
  assert.equal(JSON.parse(rows[2].value as string), null);
  assert.equal(rows[2].id, null);
});

Deno.test("Parquet batches of records: one typed column per field, JSON where types mix", async () => {
  const encoder = newBatchEncoder("parquet");
  const records = [
    { origin: "SFO", delay: 12, late: false, score: { delayed: 0.25 } },
    { origin: "JFK", delay: null, mixed: 1, score: { delayed: 0.75 } },
    { origin: "LAX", mixed: "one" },
    "not an object",
  ];
  for (const record of records) encoder.add(record);
  const bytes = await encoder.finish();
  const rows = await parquetReadObjects({ file: bytes.buffer as ArrayBuffer });
  assert.deepEqual(rows, [
    {
      origin: "SFO",
      delay: 12,
      late: false,
      score: { delayed: 0.25 },
      mixed: null,
      value: null,
    },
    { origin: "JFK", delay: null, late: null, score: { delayed: 0.75 }, mixed: 1, value: null },
    { origin: "LAX", delay: null, late: null, score: null, mixed: "one", value: null },
    {
      origin: null,
      delay: null,
      late: null,
      score: null,
      mixed: null,
      value: "not an object",
    },
  ]);
});

Deno.test("NDJSON gzip round-trips arbitrary JSON values", async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(fc.jsonValue(), { maxLength: 20 }), async (values) => {
      const encoder = newBatchEncoder("ndjson.gz");
      const input = values.map((value, i) => ({ id: String(i), value }));
      for (const event of input) encoder.add(event);
      const out = input.length === 0
        ? []
        : lines(new Uint8Array(gunzipSync(await encoder.finish())));
      assert.deepEqual(out, JSON.parse(JSON.stringify(input)));
    }),
    { numRuns: 50 },
  );
});

Deno.test("parseEncoding accepts the names and aliases, rejects others", () => {
  for (const encoding of ENCODINGS) assert.equal(parseEncoding(encoding), encoding);
  assert.equal(parseEncoding("gzip"), "ndjson.gz");
  assert.equal(parseEncoding("zstd"), "ndjson.zst");
  assert.throws(() => parseEncoding("csv"), UsageError);
});
