import assert from "node:assert/strict";
import { BatchingSink, type ObjectStore } from "./batching_sink.ts";
import { PrefixFieldError, PrefixTemplate } from "./object_naming.ts";
import type { Envelope } from "../envelope.ts";
import { EdgepipeError } from "../errors.ts";

/** An in-memory store whose puts complete only when the test says so. */
class ManualStore implements ObjectStore {
  readonly description = "memory";
  readonly objects = new Map<string, Envelope[]>();
  readonly pending: { key: string; finish: (err?: Error) => void }[] = [];
  auto = true;

  put(key: string, bytes: Uint8Array): Promise<void> {
    const store = () => {
      const text = new TextDecoder().decode(bytes).trimEnd();
      this.objects.set(key, text === "" ? [] : text.split("\n").map((l) => JSON.parse(l)));
    };
    if (this.auto) return Promise.resolve(store());
    return new Promise((resolve, reject) => {
      this.pending.push({
        key,
        finish: (err) => err ? reject(err) : resolve(store()),
      });
    });
  }
}

const settled = async (promise: Promise<unknown>) => {
  let state = "pending";
  promise.then(() => (state = "resolved"), () => (state = "rejected"));
  await new Promise((r) => setTimeout(r, 0));
  return state;
};

Deno.test("batches roll at maxEvents and sends settle only once their object is stored", async () => {
  const store = new ManualStore();
  store.auto = false;
  const sink = new BatchingSink(store, {
    prefix: new PrefixTemplate("p/"),
    encoding: "ndjson",
    // Whole envelopes, so the test can see which event went where by its id.
    payload: { kind: "envelope" },
    maxEvents: 3,
    writerId: "w",
  });
  const sends = Array.from({ length: 7 }, (_, i) => sink.send({ id: `e${i}`, value: i }));
  await new Promise((r) => setTimeout(r, 10));
  // Two full batches are being stored; the seventh event waits in an open batch.
  assert.deepEqual(store.pending.map((p) => p.key), [
    "p/w-000000000.ndjson",
    "p/w-000000001.ndjson",
  ]);
  assert.equal(await settled(sends[0]), "pending");
  store.pending[1].finish();
  assert.equal(await settled(sends[3]), "resolved");
  assert.equal(await settled(sends[0]), "pending");
  store.pending[0].finish();
  assert.equal(await settled(sends[2]), "resolved");
  const flushed = sink.flush();
  await new Promise((r) => setTimeout(r, 10));
  store.pending[2].finish();
  await flushed;
  assert.equal(await settled(sends[6]), "resolved");
  const all = [...store.objects.values()].flat().map((e) => e.id).sort();
  assert.deepEqual(all, ["e0", "e1", "e2", "e3", "e4", "e5", "e6"]);
});

Deno.test("stored records are the delivered records; one that cannot be built rejects only itself", async () => {
  const store = new ManualStore();
  const sink = new BatchingSink(store, {
    prefix: new PrefixTemplate("o={value.o}/"),
    encoding: "ndjson",
    writerId: "w",
  });
  const good = sink.send({ id: "1", key: "k", value: { o: "a" }, score: { p: 0.5 } });
  const clash = sink.send({ id: "2", value: { o: "a", score: 1 }, score: { p: 0.5 } });
  await assert.rejects(clash, /'score'/);
  await sink.flush();
  await good;
  assert.deepEqual([...store.objects], [["o=a/w-000000000.ndjson", [{
    o: "a",
    score: { p: 0.5 },
  }]]]);
});

Deno.test("batches roll by bytes and by age", async () => {
  const store = new ManualStore();
  const sink = new BatchingSink(store, {
    prefix: new PrefixTemplate(""),
    encoding: "ndjson",
    maxBytes: 100,
    maxAgeMs: 30,
  });
  const big = "x".repeat(60);
  await Promise.all([sink.send({ value: big }), sink.send({ value: big })]);
  assert.equal(store.objects.size, 1, "two 70-byte lines pass 100 bytes and roll");
  const started = Date.now();
  await sink.send({ value: "late" });
  assert.ok(Date.now() - started >= 25, "a lone event is stored when its batch ages out");
  assert.equal(store.objects.size, 2);
  await sink.close();
});

Deno.test("events are batched per rendered prefix", async () => {
  const store = new ManualStore();
  const sink = new BatchingSink(store, {
    prefix: new PrefixTemplate("o={value.o}/"),
    encoding: "ndjson",
    payload: { kind: "envelope" },
    writerId: "w",
  });
  const sends = ["a", "b", "a", "c", "b"].map((o, i) => sink.send({ id: String(i), value: { o } }));
  await sink.flush();
  await Promise.all(sends);
  const byPrefix = new Map<string, string[]>();
  for (const [key, events] of store.objects) {
    byPrefix.set(key.slice(0, key.indexOf("/")), events.map((e) => e.id as string));
  }
  assert.deepEqual(Object.fromEntries(byPrefix), {
    "o=a": ["0", "2"],
    "o=b": ["1", "4"],
    "o=c": ["3"],
  });
});

Deno.test("a prefix field error rejects only that event", async () => {
  const store = new ManualStore();
  const sink = new BatchingSink(store, {
    prefix: new PrefixTemplate("{value.o}/"),
    encoding: "ndjson",
  });
  const good = sink.send({ value: { o: "x" } });
  await assert.rejects(sink.send({ value: {} }), PrefixFieldError);
  await sink.close();
  await good;
  assert.equal([...store.objects.values()].flat().length, 1);
});

Deno.test("a failed store rejects its events, fails later sends and is reported by flush", async () => {
  const store = new ManualStore();
  store.auto = false;
  const sink = new BatchingSink(store, {
    prefix: new PrefixTemplate(""),
    encoding: "ndjson",
    maxEvents: 2,
  });
  const first = [sink.send({ value: 1 }), sink.send({ value: 2 })];
  await new Promise((r) => setTimeout(r, 10));
  store.pending[0].finish(new EdgepipeError("disk on fire"));
  for (const send of first) await assert.rejects(send, /disk on fire/);
  await assert.rejects(sink.send({ value: 3 }), /disk on fire/);
  await assert.rejects(sink.flush(), /disk on fire/);
  assert.equal(store.objects.size, 0);
});

Deno.test("at most maxInFlight batches are stored at once", async () => {
  const store = new ManualStore();
  store.auto = false;
  const sink = new BatchingSink(store, {
    prefix: new PrefixTemplate(""),
    encoding: "ndjson",
    maxEvents: 1,
    maxInFlight: 2,
  });
  const sends = Array.from({ length: 5 }, (_, i) => sink.send({ value: i }));
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(store.pending.length, 2);
  store.pending[0].finish();
  await sends[0];
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(store.pending.length, 3);
  for (let i = 1; i < 5; i++) {
    await new Promise((r) => setTimeout(r, 10));
    store.pending[i].finish();
  }
  await Promise.all(sends);
  assert.equal(store.objects.size, 5);
});
