import assert from "node:assert/strict";
import type { Envelope, Item } from "../envelope.ts";
import type { Sink } from "../sinks/types.ts";
import type { Stage } from "../stages/types.ts";
import { OutputBarrierError, OutputBarriers } from "./output_barrier.ts";

/** A sink whose sends settle only when the test releases them (flush releases nothing). */
class HeldSink implements Sink {
  readonly description = "held";
  readonly held: (() => void)[] = [];
  readonly sent: Envelope[] = [];
  send(event: Envelope): Promise<void> {
    this.sent.push(event);
    return new Promise((resolve) => this.held.push(resolve));
  }
  flush(): Promise<void> {
    return Promise.resolve();
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

const tick = () => new Promise((r) => setTimeout(r, 5));

Deno.test("a checkpoint's sync waits until everything emitted before it has been delivered", async () => {
  const barriers = new OutputBarriers();
  const { stage, flushOutput, syncOutput } = barriers.forWindow();
  let synced: Promise<void> | undefined;
  // Emits two results, then snapshots a checkpoint inside the same next() call, like a window.
  const windowLike: Stage = async function* (input) {
    let n = 0;
    for await (const item of input) {
      yield item;
      if (++n === 2) {
        await flushOutput();
        synced = syncOutput();
      }
    }
  };
  const sink = new HeldSink();
  const events: Item[] = [1, 2, 3, 4].map((i) => ({ id: `e${i}`, value: i }));
  const { items, sink: counted } = barriers.atSink(
    stage(windowLike)(ReadableStream.from(events)),
    sink,
  );
  const delivered: Promise<void>[] = [];
  const pulling = (async () => {
    for await (const item of items) delivered.push(counted.send(item as Envelope));
  })();
  await pulling;
  assert.equal(sink.sent.length, 4, "the barrier itself never reaches the sink");
  let done = false;
  synced!.then(() => (done = true));
  await tick();
  assert.equal(done, false, "nothing delivered yet");
  sink.held[1]();
  await tick();
  assert.equal(done, false, "the first result is still undelivered");
  sink.held[0]();
  await tick();
  assert.equal(done, true, "both results before the checkpoint are delivered");
  sink.held[2]();
  sink.held[3]();
  await Promise.all(delivered);
});

Deno.test("a sync still waiting when the delivery stops early is rejected, not left hanging", async () => {
  const barriers = new OutputBarriers();
  const { stage, flushOutput, syncOutput } = barriers.forWindow();
  let synced: Promise<void> | undefined;
  const windowLike: Stage = async function* (input) {
    for await (const item of input) {
      yield item;
      await flushOutput();
      synced = syncOutput();
    }
  };
  const sink = new HeldSink();
  const events: Item[] = [{ id: "a", value: 1 }, { id: "b", value: 2 }];
  const { items, sink: counted } = barriers.atSink(
    stage(windowLike)(ReadableStream.from(events)),
    sink,
  );
  for await (const item of items) {
    if ((item as Envelope).id === "b") break; // as the delivery loop does when a send fails
    void counted.send(item as Envelope);
  }
  await assert.rejects(synced!, OutputBarrierError);
});
