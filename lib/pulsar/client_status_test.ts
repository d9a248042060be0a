import assert from "node:assert/strict";
import { type ClientStatus, ClientStatusEvents } from "./client_status.ts";

const back = (topic: string): ClientStatus => ({
  type: "reconnected",
  topic,
  afterMs: 1,
  attempts: 1,
});

Deno.test("watch() yields the events emitted after it started, in order, and ends on close", async () => {
  const events = new ClientStatusEvents();
  events.emit(back("before"));
  const seen: string[] = [];
  const watching = (async () => {
    for await (const s of events.watch()) seen.push(s.topic);
  })();
  await Promise.resolve();
  events.emit(back("a"));
  events.emit(back("b"));
  await new Promise((r) => setTimeout(r, 0));
  events.emit(back("c"));
  events.close();
  await watching;
  assert.deepEqual(seen, ["a", "b", "c"]);
  // A closed stream yields nothing.
  for await (const s of events.watch()) assert.fail(`got ${s.topic} after close`);
});

Deno.test("a listener that throws does not keep others from the event", () => {
  const events = new ClientStatusEvents();
  const seen: string[] = [];
  events.on(() => {
    throw new Error("observer bug");
  });
  events.on((s) => seen.push(s.topic));
  events.emit(back("t"));
  assert.deepEqual(seen, ["t"]);
});
