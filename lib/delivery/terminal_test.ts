import assert from "node:assert/strict";
import fc from "fast-check";
import type { Envelope, Item } from "../envelope.ts";
import { BrokenPipeError } from "../ndjson.ts";
import type { Sink } from "../sinks/types.ts";
import { AckServer } from "./ack_server.ts";
import { DeliveryError } from "./errors.ts";
import { deliverAll } from "./terminal.ts";

/** An in-memory sink whose sends settle after a per-event delay, or fail for chosen ids. */
class MemorySink implements Sink {
  readonly description = "memory";
  readonly delivered: string[] = [];
  inFlight = 0;
  maxInFlight = 0;
  constructor(
    readonly delayOf: (event: Envelope) => number = () => 0,
    readonly failIds: Set<string> = new Set(),
    readonly errorOf: () => Error = () => new Error("broker said no"),
  ) {}
  send(event: Envelope): Promise<void> {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    return new Promise((resolve, reject) => {
      setTimeout(() => {
        this.inFlight--;
        if (event.id && this.failIds.has(event.id)) reject(this.errorOf());
        else {
          this.delivered.push(String(event.id ?? JSON.stringify(event.value)));
          resolve();
        }
      }, this.delayOf(event));
    });
  }
  flush = () => Promise.resolve();
  close = () => Promise.resolve();
}

/**
 * Runs deliverAll against a real ack socket (or, `via: "local"`, reporting in-process as
 * `edgepipe run` does); returns the ids the source received, in order.
 * `onAck` runs inside the ack server, which catches and logs what its callback throws: errors are
 * collected there instead and rethrown here after the run, so an assertion in `onAck` fails the test.
 */
async function deliverWithAcks(
  body: Item[],
  sink: Sink,
  options: Parameters<typeof deliverAll>[2] = {},
  onAck: (id: string) => void = () => {},
  via: "socket" | "local" = "socket",
) {
  const acked: string[] = [];
  const callbackErrors: unknown[] = [];
  const server = await AckServer.listen({
    source: "test",
    onAck: (id) => {
      acked.push(id);
      try {
        onAck(id);
      } catch (error) {
        callbackErrors.push(error);
      }
    },
    onError: (error) => void callbackErrors.push(error),
  });
  let result: Awaited<ReturnType<typeof deliverAll>> | undefined;
  let error: unknown;
  const hello = server.hello();
  // Another name for the same socket is not this process's server: the terminal connects to it,
  // as a terminal stage in another process would.
  const link = via === "socket" ? `${await Deno.makeTempDir()}/ack.sock` : undefined;
  if (link) await Deno.symlink(hello.ack, link);
  try {
    result = await deliverAll([{ ...hello, ack: link ?? hello.ack }, ...body], sink, {
      log: () => {},
      ...options,
    });
  } catch (err) {
    error = err;
  }
  assert.equal(await server.waitForTerminal(5000), "finished");
  await server.close();
  if (link) await Deno.remove(link);
  if (callbackErrors.length === 1) throw callbackErrors[0];
  if (callbackErrors.length > 1) {
    throw new AggregateError(callbackErrors, `${callbackErrors.length} errors in ack callbacks`);
  }
  return { acked, result, error };
}

Deno.test("deliverAll reports every id in stream order, each only after all before it settled", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.tuple(fc.boolean(), fc.nat(5)), { minLength: 1, maxLength: 60 }),
      async (shape) => {
        // Each element is an event (with a delay) or an in-band ack record for a dropped event.
        const items: Item[] = [];
        const order: string[] = [];
        const delays = new Map<string, number>();
        shape.forEach(([isAck, delay], i) => {
          const id = `id-${i}`;
          order.push(id);
          if (isAck) items.push({ $edgepipe: "ack", ids: [id] });
          else {
            delays.set(id, delay);
            items.push({ id, value: i });
          }
        });
        const sink = new MemorySink((event) => delays.get(event.id!)!);
        // What the sink had delivered when the source received each id.
        const deliveredWhenAcked = new Map<string, Set<string>>();
        const { acked, result, error } = await deliverWithAcks(items, sink, {}, (id) => {
          deliveredWhenAcked.set(id, new Set(sink.delivered));
        });
        assert.equal(error, undefined);
        assert.deepEqual(acked, order);
        // The property itself: every event up to and including an acked id was delivered first.
        for (const [index, id] of order.entries()) {
          const delivered = deliveredWhenAcked.get(id)!;
          const early = order.slice(0, index + 1).filter((e) => delays.has(e) && !delivered.has(e));
          assert.deepEqual(
            early,
            [],
            `${id} reached the source before ${early.join()} was delivered`,
          );
        }
        assert.equal(result!.delivered, delays.size);
        assert.equal(result!.acknowledged, order.length);
      },
    ),
    { numRuns: 25 },
  );
});

Deno.test("an assertion inside the ack callback fails the run that made it", async () => {
  const sink = new MemorySink();
  await assert.rejects(
    deliverWithAcks([{ id: "a", value: 1 }], sink, {}, (id) => assert.equal(id, "not a")),
    assert.AssertionError,
  );
});

Deno.test("deliverAll under --on-error fail reports only the prefix before a failed send", async () => {
  const items: Item[] = Array.from({ length: 50 }, (_, i) => ({ id: `m${i}`, value: i }));
  // Later events settle first: only the strict prefix before m20 may be acknowledged.
  const sink = new MemorySink((event) => 50 - Number(event.value), new Set(["m20"]));
  const { acked, error } = await deliverWithAcks(items, sink);
  assert.ok(error instanceof DeliveryError, String(error));
  assert.equal(error.id, "m20");
  assert.match(error.message, /could not deliver event m20 to memory: broker said no/);
  assert.deepEqual(acked, items.slice(0, 20).map((item) => (item as Envelope).id));
});

Deno.test("deliverAll under --on-error skip acknowledges the skipped event and counts it", async () => {
  const items: Item[] = Array.from({ length: 10 }, (_, i) => ({ id: `m${i}`, value: i }));
  const logs: string[] = [];
  const sink = new MemorySink(() => 0, new Set(["m3", "m7"]));
  const { acked, result } = await deliverWithAcks(items, sink, {
    onError: { kind: "skip" },
    log: (line) => logs.push(line),
  });
  assert.deepEqual(acked, items.map((item) => (item as Envelope).id));
  assert.equal(result!.skipped, 2);
  assert.equal(result!.delivered, 8);
  assert.deepEqual(logs, [
    "skipped event m3: broker said no",
    "skipped event m7: broker said no",
  ]);
});

Deno.test("deliverAll dead-letters a rejected event durably before acknowledging it", async () => {
  const dir = await Deno.makeTempDir();
  const target = `${dir}/dead.ndjson`;
  try {
    const items: Item[] = Array.from({ length: 5 }, (_, i) => ({ id: `m${i}`, value: { n: i } }));
    const sink = new MemorySink(() => 0, new Set(["m2"]));
    const { acked, result } = await deliverWithAcks(items, sink, {
      stage: "produce",
      onError: { kind: "dead-letter", target },
    });
    assert.deepEqual(acked, ["m0", "m1", "m2", "m3", "m4"]);
    assert.equal(result!.deadLettered, 1);
    const lines = (await Deno.readTextFile(target)).trim().split("\n").map((l) => JSON.parse(l));
    assert.equal(lines.length, 1);
    assert.equal(lines[0].id, "m2");
    assert.deepEqual(lines[0].value, { n: 2 });
    assert.equal(lines[0].deadLetter.stage, "produce");
    assert.equal(lines[0].deadLetter.error, "broker said no");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("deliverAll bounds the sends in flight", async () => {
  const items: Item[] = Array.from({ length: 300 }, (_, i) => ({ id: `m${i}`, value: i }));
  const sink = new MemorySink(() => 1);
  const { acked } = await deliverWithAcks(items, sink, { maxInFlight: 16 });
  assert.equal(acked.length, 300);
  assert.ok(sink.maxInFlight <= 16, `max in flight ${sink.maxInFlight}`);
  assert.ok(sink.maxInFlight >= 2, "sends should overlap");
});

Deno.test("deliverAll nudges a sink that only settles on flush when the window is full", async () => {
  let pending: (() => void)[] = [];
  const delivered: unknown[] = [];
  const sink: Sink = {
    description: "batching",
    send: (event) =>
      new Promise((resolve) =>
        pending.push(() => {
          delivered.push(event.value);
          resolve();
        })
      ),
    flush: () => {
      const settle = pending;
      pending = [];
      settle.forEach((f) => f());
      return Promise.resolve();
    },
    close: () => Promise.resolve(),
  };
  const items: Item[] = Array.from({ length: 10 }, (_, i) => ({ id: `m${i}`, value: i }));
  const { acked } = await deliverWithAcks(items, sink, { maxInFlight: 4 });
  assert.equal(delivered.length, 10);
  assert.equal(acked.length, 10);
});

Deno.test("deliverAll stops reading on abort, settles what is in flight and reports it", async () => {
  const controller = new AbortController();
  const server = await AckServer.listen({ source: "test", onAck: (id) => void acked.push(id) });
  const acked: string[] = [];
  let produced = 0;
  async function* endless(): AsyncGenerator<Item> {
    yield server.hello();
    for (let i = 0;; i++) {
      produced++;
      if (i === 25) setTimeout(() => controller.abort(), 0);
      if (i >= 25) await new Promise(() => {}); // upstream went quiet: a blocked read on stdin
      yield { id: `m${i}`, value: i };
    }
  }
  const sink = new MemorySink(() => 2);
  const report = await deliverAll(endless(), sink, { signal: controller.signal });
  assert.equal(report.interrupted, true);
  assert.equal(await server.waitForTerminal(5000), "finished");
  await server.close();
  assert.equal(report.delivered, 25);
  assert.deepEqual(acked, Array.from({ length: 25 }, (_, i) => `m${i}`));
  assert.equal(produced, 26);
});

Deno.test("deliverAll stops on a broken pipe without reporting undelivered events", async () => {
  const items: Item[] = Array.from({ length: 10 }, (_, i) => ({ id: `m${i}`, value: i }));
  const sink = new MemorySink(
    () => 0,
    new Set(["m4", "m5", "m6", "m7", "m8", "m9"]),
    () => new BrokenPipeError("downstream closed the pipe"),
  );
  const { acked, error } = await deliverWithAcks(items, sink, { onError: { kind: "skip" } });
  assert.ok(error instanceof BrokenPipeError);
  assert.deepEqual(acked, ["m0", "m1", "m2", "m3"]);
});

Deno.test("deliverAll keeps in-flight work when the input fails, then rethrows the input error", async () => {
  async function* broken(): AsyncGenerator<Item> {
    yield server.hello();
    yield { id: "a", value: 1 };
    yield { id: "b", value: 2 };
    throw new Error("line 3: not valid JSON");
  }
  const acked: string[] = [];
  const server = await AckServer.listen({ source: "test", onAck: (id) => void acked.push(id) });
  const sink = new MemorySink(() => 5);
  await assert.rejects(deliverAll(broken(), sink), /line 3: not valid JSON/);
  assert.equal(await server.waitForTerminal(5000), "finished");
  await server.close();
  assert.deepEqual(acked, ["a", "b"]);
  assert.deepEqual(sink.delivered, ["a", "b"]);
});

Deno.test("deliverAll without a hello delivers events and reports nothing", async () => {
  const sink = new MemorySink();
  const report = await deliverAll([{ id: "x", value: 1 }, { $edgepipe: "ack", ids: ["y"] }], sink);
  assert.equal(report.delivered, 1);
  assert.equal(report.acknowledged, 0);
});

Deno.test("deliverAll reports each id to the source whose hello preceded it", async () => {
  const first: string[] = [];
  const second: string[] = [];
  const a = await AckServer.listen({ source: "a", onAck: (id) => void first.push(id) });
  const b = await AckServer.listen({ source: "b", onAck: (id) => void second.push(id) });
  const items: Item[] = [
    a.hello(),
    { id: "a1", value: 1 },
    { $edgepipe: "ack", ids: ["a2"] },
    b.hello(),
    { id: "b1", value: 2 },
    { $edgepipe: "ack", ids: ["b2"] },
  ];
  const report = await deliverAll(items, new MemorySink(() => 1));
  assert.equal(await a.waitForTerminal(5000), "finished");
  assert.equal(await b.waitForTerminal(5000), "finished");
  await a.close();
  await b.close();
  assert.deepEqual(first, ["a1", "a2"]);
  assert.deepEqual(second, ["b1", "b2"]);
  assert.equal(report.acknowledged, 4);
});

Deno.test("deliverAll reports to a source in the same process without its socket", async () => {
  const items: Item[] = Array.from({ length: 50 }, (_, i) => ({ id: `m${i}`, value: i }));
  const sink = new MemorySink((event) => Number(String(event.id).slice(1)) % 3);
  const acked: string[] = [];
  const server = await AckServer.listen({ source: "run", onAck: (id) => void acked.push(id) });
  // Without the socket file a terminal that connects cannot report anything.
  await Deno.remove(server.path);
  const warnings: string[] = [];
  const report = await deliverAll([server.hello(), ...items], sink, {
    log: (message) => warnings.push(message),
  });
  assert.equal(await server.waitForTerminal(1000), "finished");
  await server.close();
  assert.deepEqual(warnings, []);
  assert.equal(report.acknowledged, 50);
  assert.deepEqual(acked, items.map((item) => (item as Envelope).id));
});

Deno.test("deliverAll in-process reports the same ids in the same order as over the socket", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.tuple(fc.boolean(), fc.nat(4)), { minLength: 1, maxLength: 40 }),
      async (shape) => {
        const items: Item[] = shape.map(([ack, delay], i) =>
          ack ? { $edgepipe: "ack", ids: [`a${i}`] } : { id: `m${i}`, value: delay }
        );
        const delay = (event: Envelope) => event.value as number;
        const socket = await deliverWithAcks(items, new MemorySink(delay), { maxInFlight: 3 });
        const local = await deliverWithAcks(
          items,
          new MemorySink(delay),
          { maxInFlight: 3 },
          () => {},
          "local",
        );
        assert.deepEqual(local.acked, socket.acked);
        assert.equal(local.acked.length, shape.length);
      },
    ),
    { numRuns: 25 },
  );
});
