import assert from "node:assert/strict";
import fc from "fast-check";
import { readCsv } from "./csv.ts";
import { isFailure, type SourceItem } from "./types.ts";

async function collect(text: string, options = {}, chunk = 5): Promise<SourceItem[]> {
  const bytes = new TextEncoder().encode(text);
  const parts: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += chunk) parts.push(bytes.slice(i, i + chunk));
  const items: SourceItem[] = [];
  for await (const item of readCsv(ReadableStream.from(parts), options)) items.push(item);
  return items;
}

Deno.test("readCsv types fields and keeps quoted delimiters, quotes and newlines", async () => {
  const items = await collect(
    'name,n,ok,note\r\n"Smith, J",1.5,true,"said ""hi""\nthen left"\nx,-2,false,\n',
  );
  assert.deepEqual(items, [
    { value: { name: "Smith, J", n: 1.5, ok: true, note: 'said "hi"\nthen left' }, line: 2 },
    { value: { name: "x", n: -2, ok: false, note: null }, line: 4 },
  ]);
});

Deno.test("readCsv keeps strings with --csv-raw and big integers as text", async () => {
  const raw = await collect("a,b\n007,true\n", { raw: true });
  assert.deepEqual(raw, [{ value: { a: "007", b: "true" }, line: 2 }]);
  const big = await collect("id\n12345678901234567890\n");
  assert.deepEqual(big, [{ value: { id: "12345678901234567890" }, line: 2 }]);
});

Deno.test("readCsv reports bad rows with their line numbers and reads on", async () => {
  const items = await collect('a,b\n1,2\n3\n4,x"y\n"5",6\n"7"z,8\n9,10\n"open,11\n');
  const failures = items.filter(isFailure).map((f) => [f.error.message, f.raw]);
  assert.deepEqual(failures, [
    ["line 3: CSV row has 1 fields, the header has 2", "3"],
    ["line 4: CSV field has a quote inside an unquoted value", '4,x"y'],
    ["line 6: CSV field has text after its closing quote", '"7"z,8'],
    ["line 8: CSV quoted field is never closed", '"open,11'],
  ]);
  const rows = items.filter((i) => !isFailure(i)).map((i) => (i as { value: unknown }).value);
  assert.deepEqual(rows, [{ a: 1, b: 2 }, { a: 5, b: 6 }, { a: 9, b: 10 }]);
});

Deno.test("readCsv reads TSV and rejects an invalid UTF-8 line by number", async () => {
  assert.deepEqual(await collect("a\tb\nx,y\tz\n", { delimiter: "\t" }), [
    { value: { a: "x,y", b: "z" }, line: 2 },
  ]);
  const bad = new Uint8Array([...new TextEncoder().encode("a\nok\n"), 0xff, 0x0a]);
  const reading = (async () => {
    for await (const _ of readCsv(ReadableStream.from([bad]))) { /* drain */ }
  })();
  await assert.rejects(reading, /line 3: invalid UTF-8/);
});

Deno.test("readCsv round-trips any table of strings however the bytes are chunked", async () => {
  const cell = fc.string({ unit: fc.constantFrom("a", "b", ",", '"', "\n", " ", "é", "1") });
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.array(cell, { minLength: 3, maxLength: 3 }), { maxLength: 8 }),
      fc.integer({ min: 1, max: 9 }),
      async (rows, chunk) => {
        const quote = (s: string) => `"${s.replaceAll('"', '""')}"`;
        const text = ["h1,h2,h3", ...rows.map((r) => r.map(quote).join(","))].join("\n");
        const items = await collect(text, { raw: true }, chunk);
        assert.deepEqual(
          items.map((i) => Object.values((i as { value: Record<string, string> }).value)),
          rows,
        );
      },
    ),
    { numRuns: 200 },
  );
});
