/**
 * The end of the stream is said, not inferred: `consume -e` writes the `end` control record as
 * its last line when it reaches the end of the topic (and after `-c N` messages); `run`'s bounded
 * consume source yields it after its last event. A pipe without it is an upstream failure to the
 * stages behind (docs/envelope.md).
 */
import assert from "node:assert/strict";
import { type Envelope, isControl } from "../../lib/envelope.ts";
import { openConsumeSource } from "../../lib/pipeline/consume_source.ts";
import { pulsarUrls } from "../harness/pulsar.ts";
import { runEdgepipe } from "../harness/edgepipe.ts";

const integration = { sanitizeOps: false, sanitizeResources: false };
const { serviceUrl } = await pulsarUrls();
const env = { PULSAR_SERVICE_URL: serviceUrl, NO_COLOR: "1" };
const id = crypto.randomUUID().slice(0, 8);

async function seed(topic: string, count: number) {
  const lines = Array.from({ length: count }, (_, n) => JSON.stringify({ n })).join("\n") + "\n";
  const produced = await runEdgepipe(["produce", topic], { env, stdin: lines });
  assert.equal(produced.code, 0, produced.stderr);
}

const lines = (stdout: string) => stdout.trimEnd().split("\n").map((l) => JSON.parse(l));

Deno.test({
  name: "consume -e: hello first, every message, then the end record as the last line",
  ...integration,
  async fn() {
    const topic = `persistent://public/default/end-${id}-e`;
    await seed(topic, 5);
    // stdout is a pipe, so acks go downstream and control records are written; nobody reports.
    const run = await runEdgepipe(["consume", topic, "-s", "end", "-e", "--ack-timeout", "1s"], {
      env,
    });
    assert.equal(run.code, 0, run.stderr);
    const out = lines(run.stdout);
    assert.equal(out[0].$edgepipe, "hello");
    assert.deepEqual(out.slice(1, -1).map((e) => e.value.n), [0, 1, 2, 3, 4]);
    assert.deepEqual(out.at(-1), { $edgepipe: "end", source: "consume" });
    assert.equal(out.filter((l) => l.$edgepipe === "end").length, 1);
  },
});

Deno.test({
  name: "consume -c N: the end record follows the Nth message",
  ...integration,
  async fn() {
    const topic = `persistent://public/default/end-${id}-c`;
    await seed(topic, 5);
    const run = await runEdgepipe(
      ["consume", topic, "-s", "end", "-c", "2", "--ack-timeout", "1s"],
      { env },
    );
    assert.equal(run.code, 0, run.stderr);
    const out = lines(run.stdout);
    assert.deepEqual(out.slice(1, -1).map((e) => e.value.n), [0, 1]);
    assert.deepEqual(out.at(-1), { $edgepipe: "end", source: "consume" });
  },
});

Deno.test({
  name: "consume --ack on-write -e writes no control records, so no end record either",
  ...integration,
  async fn() {
    const topic = `persistent://public/default/end-${id}-w`;
    await seed(topic, 3);
    const run = await runEdgepipe(["consume", topic, "-s", "end", "-e", "--ack", "on-write"], {
      env,
    });
    assert.equal(run.code, 0, run.stderr);
    const out = lines(run.stdout);
    assert.deepEqual(out.map((e) => e.value?.n), [0, 1, 2]);
  },
});

Deno.test({
  name: "run's bounded consume source yields the end record after its last event",
  ...integration,
  async fn() {
    const topic = `persistent://public/default/end-${id}-run`;
    await seed(topic, 4);
    const source = await openConsumeSource({
      kind: "consume",
      topics: [topic],
      subscription: "run",
      serviceUrl,
      initialPosition: "earliest",
      exitAtEnd: true,
    }, { policy: { kind: "fail" }, log: () => {} });
    const items = [];
    try {
      for await (const item of source.items) items.push(item);
    } finally {
      await source.close();
    }
    assert.equal(items[0].$edgepipe, "hello");
    const events = items.filter((i) => !isControl(i)) as Envelope[];
    assert.deepEqual(events.map((e) => (e.value as { n: number }).n), [0, 1, 2, 3]);
    assert.deepEqual(items.at(-1), { $edgepipe: "end", source: "consume" });
  },
});
