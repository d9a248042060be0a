import assert from "node:assert/strict";
import fc from "fast-check";
import { readJsonArray } from "./json_array.ts";
import type { SourceItem } from "./types.ts";

async function collect(text: string, chunk = 7): Promise<SourceItem[]> {
  const bytes = new TextEncoder().encode(text);
  const parts: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += chunk) parts.push(bytes.slice(i, i + chunk));
  const items: SourceItem[] = [];
  for await (const item of readJsonArray(ReadableStream.from(parts))) items.push(item);
  return items;
}

Deno.test("readJsonArray yields the same values as JSON.parse, for any chunking", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.jsonValue(), { maxLength: 10 }),
      fc.integer({ min: 1, max: 13 }),
      fc.boolean(),
      async (values, chunk, pretty) => {
        const text = JSON.stringify(values, null, pretty ? 2 : undefined);
        const items = await collect(text, chunk);
        // JSON.parse(JSON.stringify(x)) normalises -0 and the like, as the reader does.
        assert.deepEqual(items.map((i) => (i as { value: unknown }).value), JSON.parse(text));
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("readJsonArray numbers each element by the line it starts on", async () => {
  const items = await collect('[\n  {"a": "x\\n]"},\n  2,\n  {"b":\n [1, 2]}\n]');
  assert.deepEqual(items, [
    { value: { a: "x\n]" }, line: 2 },
    { value: 2, line: 3 },
    { value: { b: [1, 2] }, line: 4 },
  ]);
});

Deno.test("readJsonArray reports a bad element and reads on; rejects a non-array file", async () => {
  const items = await collect('[{"a":1}, {"a":nope}, {"a":3}]');
  assert.equal(items.length, 3);
  assert.match((items[1] as { error: Error }).error.message, /^line 1: not valid JSON/);
  assert.deepEqual((items[2] as { value: unknown }).value, { a: 3 });
  await assert.rejects(collect('{"a":1}'), /line 1: expected a JSON array \('\['\), found '\{'/);
  await assert.rejects(collect('[{"a":1},\n{"a":2}'), /line 2: file ends inside the JSON array/);
  await assert.rejects(collect("[1]\n]"), /line 2: unexpected '\]' after the end/);
});
