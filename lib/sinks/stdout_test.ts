import assert from "node:assert/strict";
import { BrokenPipeError, type ByteSink } from "../ndjson.ts";
import { StdoutSink } from "./stdout.ts";

/** Collects bytes, writing at most `chunk` bytes per call like a pipe under pressure. */
function memoryOutput(chunk = Infinity) {
  const parts: Uint8Array[] = [];
  const output: ByteSink = {
    write(bytes) {
      const n = Math.min(bytes.length, chunk);
      parts.push(bytes.slice(0, n));
      return Promise.resolve(n);
    },
  };
  const text = () => parts.map((p) => new TextDecoder().decode(p)).join("");
  return { output, text, writes: () => parts.length };
}

Deno.test("StdoutSink resolves each send only after its line is written", async () => {
  const { output, text } = memoryOutput(7);
  const sink = new StdoutSink({ output });
  const sends = Array.from({ length: 100 }, (_, i) => sink.send({ id: `m${i}`, value: i }));
  assert.equal(text(), "", "nothing is written synchronously");
  await Promise.all(sends);
  const lines = text().trimEnd().split("\n").map((line) => JSON.parse(line));
  // Nothing was added to the events, so each line is the value as it is.
  assert.deepEqual(lines, Array.from({ length: 100 }, (_, i) => i));
});

Deno.test("StdoutSink gathers a burst into few writes and honours a format", async () => {
  const { output, text, writes } = memoryOutput();
  const sink = new StdoutSink({ output, format: (e) => `${e.key}=${e.value}` });
  await Promise.all(Array.from({ length: 1000 }, (_, i) => sink.send({ key: "k", value: i })));
  assert.ok(writes() <= 2, `${writes()} writes`);
  assert.equal(text().split("\n")[999], "k=999");
});

Deno.test("StdoutSink turns a closed pipe into BrokenPipeError for this and later sends", async () => {
  let calls = 0;
  const sink = new StdoutSink({
    output: {
      write: () => {
        calls++;
        return Promise.reject(new Deno.errors.BrokenPipe("Broken pipe (os error 32)"));
      },
    },
  });
  await assert.rejects(sink.send({ value: 1 }), BrokenPipeError);
  await assert.rejects(sink.send({ value: 2 }), BrokenPipeError);
  await assert.rejects(sink.flush(), BrokenPipeError);
  assert.equal(calls, 1);
});

Deno.test("StdoutSink with an empty separator writes formatted text as it is", async () => {
  const { output, text } = memoryOutput();
  const sink = new StdoutSink({ output, format: (e) => `<${e.value}>`, separator: "" });
  await Promise.all([sink.send({ value: 1 }), sink.send({ value: 2 })]);
  assert.equal(text(), "<1><2>");
});

Deno.test("StdoutSink writes the delivered record by default, the envelope when asked", async () => {
  const event = { id: "m", key: "k", value: { a: 1 }, score: { p: 0.5 } };
  const record = memoryOutput();
  await new StdoutSink({ output: record.output }).send(event);
  assert.deepEqual(JSON.parse(record.text()), { a: 1, score: { p: 0.5 } });
  const whole = memoryOutput();
  await new StdoutSink({ output: whole.output, payload: { kind: "envelope" } }).send(event);
  assert.deepEqual(JSON.parse(whole.text()), event);
  const clash = memoryOutput();
  await assert.rejects(
    new StdoutSink({ output: clash.output }).send({ value: { score: 1 }, score: 2 }),
    /'score'/,
  );
});
