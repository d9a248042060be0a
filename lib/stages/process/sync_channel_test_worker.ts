/// <reference lib="deno.worker" />
// The far side of sync_channel_test.ts: answers each request with its text reversed.
import { type ChannelBuffers, serveChannel } from "./sync_channel.ts";

self.onmessage = (e: MessageEvent<ChannelBuffers>) => {
  self.postMessage("ready");
  serveChannel(e.data, (request) => {
    const text = (request as { text: string }).text;
    if (text === "fail") throw new Error("asked to fail");
    return [...text].reverse().join("");
  });
};
