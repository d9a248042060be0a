import assert from "node:assert/strict";
import { channelBuffers, ChannelCaller } from "./sync_channel.ts";

Deno.test("sync channel: answers, errors, and messages many times the chunk size", async () => {
  // A 64-byte chunk: every message below travels in several chunks, both ways.
  const buffers = channelBuffers(64);
  const worker = new Worker(new URL("./sync_channel_test_worker.ts", import.meta.url), {
    type: "module",
  });
  try {
    const ready = new Promise((resolve) => worker.onmessage = resolve);
    worker.postMessage(buffers);
    await ready;
    const caller = new ChannelCaller(buffers, 10_000);
    assert.deepEqual(caller.call({ text: "abc" }), { ok: "cba" });
    const long = Array.from({ length: 5000 }, (_, i) => String.fromCharCode(97 + (i * 7) % 26))
      .join("") + "é漢";
    assert.deepEqual(caller.call({ text: long }), { ok: [...long].reverse().join("") });
    assert.deepEqual(caller.call({ text: "fail" }), { error: "Error: asked to fail" });
    assert.deepEqual(caller.call({ text: "" }), { ok: "" });
  } finally {
    worker.terminate();
  }
});
