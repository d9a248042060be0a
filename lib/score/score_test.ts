import assert from "node:assert/strict";
import { join } from "node:path";
import { ackRecord, type Envelope, isControl, type Item } from "../envelope.ts";
import { FileDeadLetterSink } from "../dead_letter.ts";
import { FeatureError } from "./errors.ts";
import { loadModel } from "./load_model.ts";
import { score, scoreBatches } from "./score.ts";

const modelsDir = new URL("../../models/", import.meta.url).pathname;
const flight = await loadModel(join(modelsDir, "flight-delay"));
const quake = await loadModel(join(modelsDir, "earthquake-magnitude"));

interface FixtureLine {
  event: Envelope;
  expected: { probabilities?: number[]; label?: number; value?: number };
}
async function fixture(model: string): Promise<FixtureLine[]> {
  const text = await Deno.readTextFile(join(modelsDir, model, "fixture.ndjson"));
  return text.trim().split("\n").map((line) => JSON.parse(line));
}

async function* from<T>(items: T[]): AsyncGenerator<T> {
  for (const item of items) yield item;
}

async function collect(stream: AsyncIterable<Item>): Promise<Item[]> {
  const out: Item[] = [];
  for await (const item of stream) out.push(item);
  return out;
}

type Scored = Envelope & { score: Record<string, number | string> };

Deno.test("flight-delay: probabilities equal scikit-learn's on 1,000 held-out flights", async () => {
  const lines = await fixture("flight-delay");
  assert.equal(lines.length, 1000);
  const out = await collect(score(from(lines.map((l) => l.event)), { model: flight }));
  assert.equal(out.length, 1000);
  let worst = 0;
  for (const [i, item] of out.entries()) {
    const { score: s, id } = item as Scored;
    assert.equal(id, lines[i].event.id, "order kept");
    const [onTime, delayed] = lines[i].expected.probabilities!;
    worst = Math.max(
      worst,
      Math.abs(s.on_time as number - onTime),
      Math.abs(s.delayed as number - delayed),
    );
    assert.equal(s.label, ["on_time", "delayed"][lines[i].expected.label!]);
  }
  assert.ok(worst < 1e-5, `max gap ${worst}`);
});

Deno.test("earthquake-magnitude: predictions equal scikit-learn's on the held-out events", async () => {
  const lines = await fixture("earthquake-magnitude");
  const out = await collect(
    score(from(lines.map((l) => l.event)), { model: quake, batchSize: 64 }),
  );
  let worst = 0;
  for (const [i, item] of out.entries()) {
    worst = Math.max(
      worst,
      Math.abs((item as Scored).score.magnitude as number - lines[i].expected.value!),
    );
  }
  assert.equal(out.length, lines.length);
  assert.ok(worst < 1e-5, `max gap ${worst}`);
});

Deno.test("events and control records come out in input order, under the chosen field", async () => {
  const events = (await fixture("flight-delay")).map((l) => l.event).slice(0, 500);
  const input: Item[] = [{ $edgepipe: "hello", v: 1, ack: "/tmp/x.sock", source: "t" }];
  for (const [i, event] of events.entries()) {
    input.push(event);
    if (i % 37 === 0) input.push(ackRecord([`upstream-${i}`]));
  }
  const out = await collect(
    score(from(input), { model: flight, batchSize: 16, maxInFlight: 2, as: "delay" }),
  );
  assert.equal(out.length, input.length);
  for (const [i, item] of out.entries()) {
    if (isControl(input[i])) assert.deepEqual(item, input[i]);
    else {
      assert.equal((item as Envelope).id, (input[i] as Envelope).id);
      assert.equal(
        typeof ((item as Record<string, Record<string, number>>).delay.delayed),
        "number",
      );
      assert.equal("score" in item, false);
    }
  }
});

Deno.test("a partial batch is flushed after maxDelayMs while the source is idle", async () => {
  const events = (await fixture("flight-delay")).map((l) => l.event).slice(0, 3);
  let release!: () => void;
  const idle = new Promise<void>((resolve) => release = resolve);
  async function* slowSource() {
    yield* events;
    await idle; // the source stays quiet until the scored events have come out
  }
  const seen: Item[] = [];
  for await (const item of score(slowSource(), { model: flight, batchSize: 256, maxDelayMs: 5 })) {
    seen.push(item);
    if (seen.length === 3) release();
  }
  assert.deepEqual(seen.map((e) => (e as Envelope).id), events.map((e) => e.id));
});

Deno.test("a consumer that stops pulling stops the source (bounded batches in flight)", async () => {
  const event = (await fixture("flight-delay"))[0].event;
  let pulled = 0;
  async function* endless() {
    while (true) {
      pulled++;
      yield { ...event, id: `e${pulled}` };
    }
  }
  const stream = score(endless(), { model: flight, batchSize: 32, maxInFlight: 2 });
  const first = await stream.next();
  assert.equal((first.value as Envelope).id, "e1");
  await new Promise((resolve) => setTimeout(resolve, 200));
  const pausedAt = pulled;
  // The open batch, the sealed ones and the one being emitted: never the whole endless source.
  assert.ok(pausedAt <= 32 * 4 + 1, `pulled ${pausedAt} events while the consumer waited`);
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal(pulled, pausedAt, "reading stays paused");
  await stream.return?.(undefined);
});

function withBadOnes(events: Envelope[]): Envelope[] {
  const input = [...events];
  input.splice(2, 0, {
    ...events[0],
    id: "bad-type",
    value: { ...events[0].value as object, distance: "abc" },
  });
  input.splice(5, 0, { ...events[0], id: "bad-origin", eventTime: Number.NaN });
  input.splice(7, 0, { value: { origin: "SFO" }, eventTime: 0 }); // no id, no distance
  return input;
}

Deno.test("skip: bad events are reported, acknowledged in place, and the rest flow", async () => {
  const events = (await fixture("flight-delay")).map((l) => l.event).slice(0, 8);
  const warnings: string[] = [];
  const out = await collect(score(from(withBadOnes(events)), {
    model: flight,
    batchSize: 4,
    onError: { kind: "skip" },
    warn: (m) => warnings.push(m),
  }));
  assert.deepEqual(
    out.map((i) => isControl(i) ? `ack:${(i as { ids: string[] }).ids}` : (i as Envelope).id),
    [
      events[0].id,
      events[1].id,
      "ack:bad-type",
      events[2].id,
      events[3].id,
      "ack:bad-origin",
      events[4].id,
      events[5].id,
      events[6].id,
      events[7].id,
    ],
  );
  assert.equal(warnings.length, 3);
  assert.match(
    warnings[0],
    /event 'bad-type': feature 'distance' \(value.distance\): expected a number/,
  );
  assert.match(
    warnings[1],
    /event 'bad-origin': feature 'hour' \(eventTime\): hourOfDay needs a timestamp/,
  );
  assert.match(warnings[2], /event #8: feature 'distance'.*missing/);
});

Deno.test("dead-letter: bad events go to the sink with their error, then are acknowledged", async () => {
  const events = (await fixture("flight-delay")).map((l) => l.event).slice(0, 8);
  const path = await Deno.makeTempFile({ suffix: ".ndjson" });
  const sink = new FileDeadLetterSink(path);
  const out = await collect(score(from(withBadOnes(events)), {
    model: flight,
    onError: { kind: "dead-letter", target: path },
    deadLetters: sink,
  }));
  await sink.close();
  const letters = (await Deno.readTextFile(path)).trim().split("\n").map((l) => JSON.parse(l));
  await Deno.remove(path);
  assert.equal(out.filter((i) => !isControl(i)).length, 8);
  assert.deepEqual(out.filter(isControl), [ackRecord(["bad-type"]), ackRecord(["bad-origin"])]);
  assert.deepEqual(letters.map((l) => [l.id, l.deadLetter.stage]), [
    ["bad-type", "score"],
    ["bad-origin", "score"],
    [undefined, "score"],
  ]);
  assert.equal(letters[0].value.distance, "abc", "the event is kept whole");
  assert.match(letters[0].deadLetter.error, /feature 'distance'/);
});

Deno.test("fail: events before the bad one are emitted, then the error names it", async () => {
  const events = (await fixture("flight-delay")).map((l) => l.event).slice(0, 8);
  const seen: string[] = [];
  await assert.rejects(
    async () => {
      for await (const item of score(from(withBadOnes(events)), { model: flight, batchSize: 1 })) {
        seen.push((item as Envelope).id!);
      }
    },
    (err: unknown) => {
      assert.ok(err instanceof FeatureError);
      assert.match(err.message, /^event 'bad-type': feature 'distance'/);
      return true;
    },
  );
  assert.deepEqual(seen, [events[0].id, events[1].id]);
});

Deno.test("skipped events and reused buffers leave no stray one-hot columns behind", async () => {
  const lines = await fixture("flight-delay");
  const input: Envelope[] = [];
  for (const [i, line] of lines.entries()) {
    // Fails at distance after setting its hour and weekday columns in the row the next event gets.
    if (i % 7 === 3) {
      input.push({ ...line.event, id: `bad-${i}`, eventTime: 3_600_000 * (i % 24) + 1, value: {} });
    }
    input.push(line.event);
  }
  const out = await collect(score(from(input), {
    model: flight,
    batchSize: 16,
    maxInFlight: 2,
    onError: { kind: "skip" },
    warn: () => {},
  }));
  const scored = out.filter((i) => !isControl(i)) as Scored[];
  assert.equal(scored.length, lines.length);
  let worst = 0;
  for (const [i, { score: s }] of scored.entries()) {
    const [onTime, delayed] = lines[i].expected.probabilities!;
    worst = Math.max(worst, Math.abs(s.on_time as number - onTime));
    worst = Math.max(worst, Math.abs(s.delayed as number - delayed));
  }
  assert.ok(worst < 1e-5, `max gap ${worst}`);
});

Deno.test("chunks of items in, batches out: the same items in the same order as one by one", async () => {
  const events = (await fixture("flight-delay")).map((l) => l.event).slice(0, 300);
  const items: Item[] = [];
  for (const [i, event] of events.entries()) {
    items.push(event);
    if (i % 41 === 0) items.push(ackRecord([`upstream-${i}`]));
  }
  const input = withBadOnes(items as Envelope[]);
  const options = {
    model: flight,
    batchSize: 32,
    maxInFlight: 2,
    onError: { kind: "skip" } as const,
    warn: () => {},
  };
  const oneByOne = await collect(score(from(input), options));
  async function* chunks(): AsyncGenerator<Item | Item[]> {
    for (let i = 0, size = 1; i < input.length; i += size, size = (size * 3) % 97 + 1) {
      if (size === 1) yield input[i];
      else yield input.slice(i, i + size);
    }
  }
  const out: Item[] = [];
  for await (const batch of scoreBatches(chunks(), options)) out.push(...batch);
  assert.deepEqual(out, oneByOne);
  assert.equal(out.filter((i) => !isControl(i)).length, 300);
});
