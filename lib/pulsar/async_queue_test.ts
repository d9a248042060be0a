import assert from "node:assert/strict";
import fc from "fast-check";
import { AsyncQueue } from "./async_queue.ts";
import { ConsumerClosedError, TimeoutError } from "./errors.ts";

Deno.test("async queue: FIFO for any mix of pushes and polls", () => {
  fc.assert(
    fc.property(fc.array(fc.oneof(fc.integer(), fc.constant(null))), (ops) => {
      const queue = new AsyncQueue<number>();
      const model: number[] = [];
      for (const op of ops) {
        if (op === null) assert.equal(queue.poll(), model.shift());
        else {
          queue.push(op);
          model.push(op);
        }
        assert.equal(queue.size, model.length);
      }
      assert.deepEqual(queue.drain(), model);
    }),
  );
});

Deno.test("async queue: waiting readers get items in order", async () => {
  const queue = new AsyncQueue<string>();
  const first = queue.shift();
  const second = queue.shift();
  queue.push("a");
  queue.push("b");
  assert.deepEqual(await Promise.all([first, second]), ["a", "b"]);
});

Deno.test("async queue: shift times out with a TimeoutError and leaves no waiter", async () => {
  const queue = new AsyncQueue<number>();
  await assert.rejects(queue.shift(10), TimeoutError);
  queue.push(1);
  assert.equal(queue.size, 1, "the timed-out waiter did not swallow the item");
});

Deno.test("async queue: close fails waiting and later readers, after what is queued", async () => {
  const queue = new AsyncQueue<number>();
  const waiting = queue.shift();
  queue.close(new ConsumerClosedError("closed"));
  await assert.rejects(waiting, ConsumerClosedError);
  await assert.rejects(queue.shift(), ConsumerClosedError);
});
