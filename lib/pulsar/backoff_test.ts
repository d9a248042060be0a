import assert from "node:assert/strict";
import { Backoff, sleep } from "./backoff.ts";

Deno.test("backoff doubles up to the cap and resets", () => {
  const backoff = new Backoff({ initialMs: 10, maxMs: 100, jitter: 0 });
  assert.deepEqual(Array.from({ length: 6 }, () => backoff.next()), [10, 20, 40, 80, 100, 100]);
  backoff.reset();
  assert.equal(backoff.next(), 10);
});

Deno.test("backoff jitter stays within its fraction and never passes the cap", () => {
  const backoff = new Backoff({ initialMs: 100, maxMs: 150, jitter: 0.5 });
  const first = backoff.next();
  assert.ok(first >= 100 && first <= 150, `${first}`);
  for (let i = 0; i < 100; i++) assert.ok(backoff.next() <= 150);
});

Deno.test("sleep ends early when aborted", async () => {
  const controller = new AbortController();
  const sleeping = sleep(10_000, controller.signal).then(() => "woke");
  controller.abort();
  // The abort wakes it at once: before any timer, even one of 0 ms, can fire.
  const first = await Promise.race([
    sleeping,
    new Promise((resolve) => setTimeout(() => resolve("still asleep"), 0)),
  ]);
  assert.equal(first, "woke");
});
