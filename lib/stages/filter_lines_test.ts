import assert from "node:assert/strict";
import fc from "fast-check";
import type { DeadLetter, DeadLetterSink } from "../dead_letter.ts";
import type { Item } from "../envelope.ts";
import { compileExpression } from "../expr/cel.ts";
import { LineWriter, parseItem, readLines } from "../ndjson.ts";
import { filter } from "./filter.ts";
import { filterLines } from "./filter_lines.ts";

const POOL = [
  '{"id":"a","value":{"delay":20}}',
  '{"id":"b","value":{"delay":3}}',
  '{"value":{"delay":30}}',
  '{"id":"c","value":{}}',
  '{"delay":40}',
  '{"$edgepipe":"barrier","n":1}',
  '{"id":"d","value":{"delay":"late"}}',
  "not json",
  "[1,2]",
  '{"id":"e", "value": {"delay": 16}}',
];

function memorySink(into: unknown[]): DeadLetterSink {
  return {
    write: (r: DeadLetter) =>
      Promise.resolve(void into.push({ ...r, deadLetter: { ...r.deadLetter, at: 0 } })),
    close: () => Promise.resolve(),
  };
}

Deno.test("property: the line loop emits what the filter stage emits", async () => {
  const expression = compileExpression("event.value.delay > 15");
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.constantFrom(...POOL), { maxLength: 30 }),
      fc.integer({ min: 1, max: 4 }),
      async (lines, maxAckBatch) => {
        const bytes = new TextEncoder().encode(lines.map((l) => l + "\n").join(""));
        const deadA: unknown[] = [];
        const chunks: Uint8Array[] = [];
        const out = new LineWriter({
          write: (b) => Promise.resolve(chunks.push(b.slice()) && b.length),
        });
        await filterLines(ReadableStream.from([bytes]), out, expression, {
          onError: { kind: "dead-letter", target: "memory" },
          deadLetters: memorySink(deadA),
          maxAckBatch,
        });
        await out.flush();
        const fromLines = new TextDecoder().decode(...[concat(chunks)]).split("\n").filter((l) => l)
          .map((l) => JSON.parse(l));

        const deadB: unknown[] = [];
        const items: Item[] = [];
        const sink = memorySink(deadB);
        async function* parsed(): AsyncGenerator<Item> {
          for await (const line of readLines(ReadableStream.from([bytes]))) {
            try {
              yield parseItem(line);
            } catch (err) {
              await sink.write({
                value: null,
                deadLetter: {
                  stage: "filter",
                  error: (err as Error).message,
                  line: line.number,
                  raw: line.text,
                  at: 0,
                },
              });
            }
          }
        }
        const stage = filter(expression, {
          onError: { kind: "dead-letter", target: "memory" },
          deadLetters: sink,
          maxAckBatch,
        });
        for await (const item of stage(parsed())) items.push(item);
        assert.deepEqual(fromLines, items);
        assert.equal(deadA.length, deadB.length);
      },
    ),
    { numRuns: 200 },
  );
});

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let o = 0;
  for (const c of chunks) (out.set(c, o), o += c.length);
  return out;
}

Deno.test("the line loop passes kept lines through byte for byte and rejects bad UTF-8", async () => {
  const expression = compileExpression("event.value.delay > 15");
  const chunks: Uint8Array[] = [];
  const out = new LineWriter({ write: (b) => Promise.resolve(chunks.push(b.slice()) && b.length) });
  const line = '{"id":"e", "value": {"delay": 16}}';
  await filterLines(
    ReadableStream.from([new TextEncoder().encode(line + "\r\n")]),
    out,
    expression,
  );
  await out.flush();
  assert.equal(new TextDecoder().decode(concat(chunks)), line + "\n");
  await assert.rejects(
    () => filterLines(ReadableStream.from([Uint8Array.of(0x7b, 0xff, 0x0a)]), out, expression),
    /line 1: not valid UTF-8/,
  );
});
