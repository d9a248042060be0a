/**
 * Key-based batching keeps Key_Shared ownership: two `edgepipe consume --type key_shared` on one
 * subscription never both receive a key, whether the messages come from `edgepipe produce`
 * (`--batching key`, its default, and `key-grouped`) or from the Java client's KEY_BASED batcher.
 * With edgepipe's old batching a batch mixed keys and carried none itself, so the broker gave
 * every batch to one consumer, keys and all.
 */
import assert from "node:assert/strict";
import { ensureDistribution, pulsarUrls } from "../harness/pulsar.ts";
import { run as runCommand, waitFor } from "../harness/process.ts";
import { runEdgepipe, startEdgepipe } from "../harness/edgepipe.ts";
import { topicStats } from "../harness/topic_stats.ts";

const integration = { sanitizeOps: false, sanitizeResources: false };
const SOURCE = new URL("../fixtures/java/KeyBasedProducer.java", import.meta.url).pathname;
const TOTAL = 400;
const KEYS = 40;

let compiled: Promise<string> | undefined;

/** Compiles KeyBasedProducer.java against the distribution's jars once; returns the classpath. */
function classpath(): Promise<string> {
  return compiled ??= (async () => {
    const jars = `${await ensureDistribution()}/lib/*`;
    const classes = await Deno.makeTempDir({ prefix: "key-batch-" });
    const javac = await runCommand("javac", ["-nowarn", "-cp", jars, "-d", classes, SOURCE]);
    if (!javac.ok) throw new Error(`javac failed:\n${javac.output}`);
    return `${classes}:${jars}`;
  })();
}

/** A running `consume --type key_shared` whose `%k %s` lines are collected as they come. */
function keySharedConsumer(serviceUrl: string, topic: string) {
  const proc = startEdgepipe([
    "consume",
    topic,
    "-s",
    "ks",
    "--type",
    "key_shared",
    "--ack",
    "on-write",
    "-f",
    "%k %s\\n",
    "--service-url",
    serviceUrl,
  ]);
  const lines: string[] = [];
  const reading = (async () => {
    let rest = "";
    for await (const chunk of proc.child.stdout.pipeThrough(new TextDecoderStream())) {
      const parts = (rest + chunk).split("\n");
      rest = parts.pop()!;
      lines.push(...parts);
    }
  })();
  return { proc, lines, reading };
}

/** Entries the topic's ledgers hold (the broker's internal stats): batches, not messages. */
async function entryCount(adminUrl: string, topic: string): Promise<number> {
  const local = topic.replace("persistent://", "");
  const response = await fetch(`${adminUrl}/admin/v2/persistent/${local}/internalStats`);
  if (!response.ok) throw new Error(`internal stats of ${topic}: ${response.status}`);
  return Number((await response.json()).numberOfEntries);
}

async function consumerCount(adminUrl: string, topic: string): Promise<number> {
  const stats = await topicStats(adminUrl, topic);
  const subs = (stats?.subscriptions ?? {}) as Record<string, { consumers: unknown[] }>;
  return subs.ks?.consumers.length ?? 0;
}

/** Subscribes two consumers, runs `produce`, and returns the `[key, payload]` pairs of each. */
async function splitOverTwo(
  topic: string,
  produce: () => Promise<void>,
): Promise<[string, number][][]> {
  const { serviceUrl, adminUrl } = await pulsarUrls();
  const consumers: ReturnType<typeof keySharedConsumer>[] = [];
  try {
    for (let i = 1; i <= 2; i++) {
      consumers.push(keySharedConsumer(serviceUrl, topic));
      await waitFor(
        async () => await consumerCount(adminUrl, topic) === i,
        60_000,
        () => Promise.resolve(new Error(`consumer ${i} did not subscribe`)),
      );
    }
    await produce();
    await waitFor(
      () => Promise.resolve(consumers.reduce((n, c) => n + c.lines.length, 0) >= TOTAL),
      60_000,
      () =>
        Promise.resolve(
          new Error(`received ${consumers.map((c) => c.lines.length).join(" + ")} of ${TOTAL}`),
        ),
    );
    return consumers.map((c) =>
      c.lines.map((line) => {
        const [key, value] = line.split(" ");
        return [key, Number(value)] as [string, number];
      })
    );
  } finally {
    for (const c of consumers) {
      c.proc.child.kill("SIGTERM");
      await c.proc.exited;
      await c.reading;
      await c.proc.stderr;
    }
  }
}

function assertDisjoint(got: [string, number][][]): void {
  assert.equal(got.flat().length, TOTAL, "every message once");
  const keysOf = got.map((list) => new Set(list.map(([key]) => key)));
  const both = [...keysOf[0]].filter((key) => keysOf[1].has(key));
  assert.deepEqual(both, [], `keys at both consumers (${keysOf[0].size} and ${keysOf[1].size})`);
  assert.equal(keysOf[0].size + keysOf[1].size, KEYS);
  assert.ok(keysOf[0].size > 0 && keysOf[1].size > 0, "keys spread over both consumers");
  for (const list of got) {
    const byKey = new Map<string, number[]>();
    for (const [key, value] of list) byKey.set(key, [...(byKey.get(key) ?? []), value]);
    for (const [key, values] of byKey) {
      assert.deepEqual(values, [...values].sort((a, b) => a - b), `order of ${key}`);
    }
  }
}

/** 400 envelopes of 40 keys: in runs of `run` consecutive messages of one key. */
function keyedInput(run: number): string {
  return Array.from(
    { length: TOTAL },
    (_, i) => JSON.stringify({ key: `key-${Math.floor(i / run) % KEYS}`, value: `${i}` }) + "\n",
  ).join("");
}

for (
  const [batching, run, minEntries] of [
    // Runs of 5: an entry per run at least (80), and batches did form.
    ["key", 5, TOTAL / 5],
    // Keys interleaved: an entry per key at least.
    ["key-grouped", 1, KEYS],
  ] as const
) {
  Deno.test({
    name: `edgepipe produce --batching ${batching}: Key_Shared consumers share no key`,
    ...integration,
    async fn() {
      const { serviceUrl, adminUrl } = await pulsarUrls();
      const topic = `persistent://public/default/key-batch-${batching}-${crypto.randomUUID()}`;
      const args = ["produce", topic, "--service-url", serviceUrl];
      // `key` is the default: say nothing for it.
      if (batching !== "key") args.push("--batching", batching);
      const got = await splitOverTwo(topic, async () => {
        const out = await runEdgepipe(args, { stdin: keyedInput(run) });
        assert.equal(out.code, 0, out.stderr);
      });
      assertDisjoint(got);
      const entries = await entryCount(adminUrl, topic);
      assert.ok(entries >= minEntries && entries < TOTAL, `${entries} entries, ${TOTAL} messages`);
    },
  });
}

Deno.test({
  name: "the Java client's KEY_BASED batches: Key_Shared consumers share no key",
  ...integration,
  async fn() {
    const { serviceUrl } = await pulsarUrls();
    const topic = `persistent://public/default/key-batch-java-${crypto.randomUUID()}`;
    const got = await splitOverTwo(topic, async () => {
      const out = await runCommand("java", [
        "-Xmx256m",
        "-cp",
        await classpath(),
        "KeyBasedProducer",
        serviceUrl,
        topic,
        String(TOTAL),
        String(KEYS),
      ]);
      assert.ok(out.ok, out.output.slice(-3000));
    });
    assertDisjoint(got);
  },
});
