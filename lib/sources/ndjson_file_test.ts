import assert from "node:assert/strict";
import { readNdjsonFile } from "./ndjson_file.ts";
import type { SourceItem } from "./types.ts";

Deno.test("readNdjsonFile keeps envelopes, wraps plain values, leaves out control records", async () => {
  const text = [
    '{"$edgepipe":"hello","v":1,"ack":"/tmp/x","source":"consume"}',
    '{"key":"k","value":{"a":1}}',
    "",
    '{"a":2}',
    "3",
    "{oops",
  ].join("\n");
  const controls: number[] = [];
  const items: SourceItem[] = [];
  const source = ReadableStream.from([new TextEncoder().encode(text)]);
  for await (const item of readNdjsonFile(source, { onControl: (l) => controls.push(l) })) {
    items.push(item);
  }
  assert.deepEqual(controls, [1]);
  assert.deepEqual(items.slice(0, 3), [
    { value: { key: "k", value: { a: 1 } }, line: 2, envelope: true },
    { value: { a: 2 }, line: 4, envelope: false },
    { value: 3, line: 5, envelope: false },
  ]);
  const failure = items[3] as { error: Error; raw: string };
  assert.match(failure.error.message, /^line 6: not valid JSON/);
  assert.equal(failure.raw, "{oops");
});

Deno.test("readNdjsonFile gives a line over the size limit as a failure naming it", async () => {
  const source = ReadableStream.from([
    new TextEncoder().encode('{"a":1}\n' + "x".repeat(100) + '\n{"b":2}\n'),
  ]);
  const items = [];
  for await (const item of readNdjsonFile(source, { maxLineBytes: 50 })) items.push(item);
  assert.equal(items.length, 3);
  assert.match((items[1] as { error: Error }).error.message, /^line 2: line longer than 50 bytes/);
  assert.deepEqual(items[2], { value: { b: 2 }, line: 3, envelope: false });
});
