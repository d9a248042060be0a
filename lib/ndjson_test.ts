import assert from "node:assert/strict";
import { BrokenPipeError, type ByteSink, LineWriter } from "./ndjson.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const decoder = new TextDecoder();

/** A sink that records what it was given; `hold()` makes the next writes wait for `release()`. */
class Recorder implements ByteSink {
  writes: string[] = [];
  #gate: Promise<void> | undefined;
  #open: (() => void) | undefined;
  hold(): void {
    this.#gate = new Promise((resolve) => (this.#open = resolve));
  }
  release(): void {
    this.#gate = undefined;
    this.#open?.();
  }
  async write(bytes: Uint8Array): Promise<number> {
    this.writes.push(decoder.decode(bytes));
    await this.#gate;
    return bytes.length;
  }
}

Deno.test("LineWriter: a line that does not fill the buffer is written once its delay is up", async () => {
  const sink = new Recorder();
  const out = new LineWriter(sink, 64 * 1024, 10);
  await out.writeLine("a");
  await out.writeLine("b");
  assert.deepEqual(sink.writes, []);
  while (sink.writes.length === 0) await sleep(5); // no flush: the writer's own timer
  assert.deepEqual(sink.writes, ["a\nb\n"]);
  assert.equal(out.buffered, 0);
  await out.writeLine("c");
  await out.flush(); // an explicit flush writes at once and leaves no timer behind
  assert.deepEqual(sink.writes, ["a\nb\n", "c\n"]);
});

Deno.test("LineWriter: a steady trickle goes out while it lasts, never waiting for the buffer", async () => {
  const sink = new Recorder();
  const out = new LineWriter(sink, 64 * 1024, 20);
  for (let i = 0; i < 20; i++) {
    await out.writeLine(String(i));
    await sleep(5); // never idle: a line every 5 ms
  }
  const before = sink.writes.length;
  await out.flush();
  assert.ok(before > 0, "lines went out while lines kept coming");
  assert.equal(sink.writes.join(""), Array.from({ length: 20 }, (_, i) => `${i}\n`).join(""));
});

Deno.test("LineWriter: while a slow reader holds a write, the timer starts no second one", async () => {
  const sink = new Recorder();
  const out = new LineWriter(sink, 64 * 1024, 5);
  sink.hold();
  await out.writeLine("a");
  while (sink.writes.length === 0) await sleep(2);
  for (const line of ["b", "c", "d"]) {
    await out.writeLine(line);
    await sleep(15); // several delays pass
  }
  assert.deepEqual(sink.writes, ["a\n"], "one chunk in flight, the rest stays in the buffer");
  assert.equal(out.buffered, 6);
  sink.release();
  while (out.buffered > 0) await sleep(2);
  await out.flush();
  assert.deepEqual(sink.writes, ["a\n", "b\nc\nd\n"]);
});

Deno.test("LineWriter: a closed pipe met by the timer's write fails the next write", async () => {
  const out = new LineWriter(
    {
      write: () => Promise.reject(new Deno.errors.BrokenPipe("gone")),
    },
    64 * 1024,
    5,
  );
  await out.writeLine("a");
  await sleep(30);
  await assert.rejects(out.writeLine("b"), BrokenPipeError);
  await assert.rejects(out.flush(), BrokenPipeError);
});

Deno.test("LineWriter: with no delay bound, lines wait for the buffer or a flush", async () => {
  const sink = new Recorder();
  const out = new LineWriter(sink, 8, Infinity);
  await out.writeLine("a");
  await sleep(20);
  assert.deepEqual(sink.writes, []);
  await out.writeLine("bcdefgh"); // fills the 8 bytes
  assert.deepEqual(sink.writes, ["a\nbcdefgh\n"]);
});
