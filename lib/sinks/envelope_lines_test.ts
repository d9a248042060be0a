import assert from "node:assert/strict";
import fc from "fast-check";
import type { Envelope } from "../envelope.ts";
import { BrokenPipeError } from "../ndjson.ts";
import { RawJson } from "../sources/raw_json.ts";
import { EnvelopeLineSink } from "./envelope_lines.ts";

const encoder = new TextEncoder();

function collecting(bufferBytes?: number) {
  const chunks: Uint8Array[] = [];
  const sink = new EnvelopeLineSink({
    bufferBytes,
    output: { write: (bytes) => (chunks.push(bytes.slice()), Promise.resolve(bytes.length)) },
  });
  const text = () => new TextDecoder().decode(new Uint8Array(chunks.flatMap((c) => [...c])));
  return { sink, text, chunks };
}

/** An envelope as consume builds it, the value either parsed or kept as its JSON text. */
const envelopes = fc.record({
  topic: fc.constantFrom("persistent://public/default/t", 'odd "topic" é\n'),
  partition: fc.option(fc.nat(), { nil: undefined }),
  id: fc.base64String({ minLength: 4, maxLength: 24 }),
  key: fc.option(fc.string(), { nil: null }),
  publishTime: fc.nat(),
  eventTime: fc.option(fc.nat(), { nil: undefined }),
  properties: fc.option(fc.dictionary(fc.string(), fc.string()), { nil: undefined }),
  redeliveryCount: fc.nat(),
  value: fc.jsonValue(),
}, { requiredKeys: ["topic", "id", "key", "publishTime", "redeliveryCount", "value"] });

Deno.test("EnvelopeLineSink writes each envelope as JSON.stringify does, raw JSON spliced", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.tuple(envelopes, fc.boolean()), { maxLength: 30 }),
      fc.integer({ min: 16, max: 4096 }),
      async (cases, bufferBytes) => {
        const { sink, text } = collecting(bufferBytes);
        const expected: string[] = [];
        const sends: Promise<void>[] = [];
        for (const [envelope, raw] of cases) {
          // The reference line: the platform's serialiser over the parsed value.
          expected.push(JSON.stringify(envelope) + "\n");
          const event = { ...envelope } as Envelope;
          if (raw) event.value = new RawJson(encoder.encode(JSON.stringify(envelope.value)));
          sends.push(sink.send(event));
        }
        await sink.flush();
        await Promise.all(sends);
        assert.equal(text(), expected.join(""));
      },
    ),
    { numRuns: 200 },
  );
});

Deno.test("EnvelopeLineSink leaves out undefined fields and writes non-finite numbers as null", async () => {
  const { sink, text } = collecting();
  const event = { id: "a", key: undefined, n: NaN, m: Infinity, value: { x: undefined } };
  await sink.send(event as unknown as Envelope);
  assert.equal(text(), JSON.stringify(event) + "\n");
  assert.equal(text(), '{"id":"a","n":null,"m":null,"value":{}}\n');
});

Deno.test("EnvelopeLineSink grows for a line larger than its buffer and batches small ones", async () => {
  const { sink, text, chunks } = collecting(64);
  const big = "x".repeat(10_000);
  const raw = new RawJson(encoder.encode(JSON.stringify({ big })));
  await Promise.all([sink.send({ id: "1", value: raw }), sink.send({ id: "2", value: 2 })]);
  assert.equal(text(), `{"id":"1","value":{"big":"${big}"}}\n{"id":"2","value":2}\n`);
  const small = collecting(1 << 20);
  await Promise.all([1, 2, 3].map((n) => small.sink.send({ value: n })));
  assert.equal(small.chunks.length, 1, "three small lines in one write");
  assert.ok(chunks.length >= 1);
});

Deno.test("EnvelopeLineSink: a closed reader is a BrokenPipeError, for this send and later ones", async () => {
  const sink = new EnvelopeLineSink({
    output: { write: () => Promise.reject(new Deno.errors.BrokenPipe("gone")) },
  });
  await assert.rejects(sink.send({ value: 1 }), BrokenPipeError);
  await assert.rejects(sink.send({ value: 2 }), BrokenPipeError);
});

Deno.test("EnvelopeLineSink rejects an event JSON cannot hold, and writes the others", async () => {
  const { sink, text } = collecting();
  await assert.rejects(
    sink.send({ id: "bad", value: { n: 1n } } as unknown as Envelope),
    TypeError,
  );
  await sink.send({ id: "good", value: 1 });
  assert.equal(text(), '{"id":"good","value":1}\n');
});
