/**
 * `consume --type failover --announce-partitions`: two instances on one subscription of a
 * 6-partition topic each announce the partitions the broker made them active for. Their last
 * announcements split the 6 partitions between them, and each instance's events after its last
 * announcement come from its announced partitions only.
 */
import assert from "node:assert/strict";
import { PulsarAdmin } from "../../lib/pulsar/mod.ts";
import { pulsarUrls } from "../harness/pulsar.ts";
import { waitFor } from "../harness/process.ts";
import { runEdgepipe, startEdgepipe } from "../harness/edgepipe.ts";
import { topicStats } from "../harness/topic_stats.ts";

const TOTAL = 600;

function failoverConsumer(serviceUrl: string, topic: string) {
  const proc = startEdgepipe([
    "consume",
    topic,
    "-s",
    "fo",
    "--type",
    "failover",
    "--ack",
    "on-write",
    "--announce-partitions",
    "--service-url",
    serviceUrl,
  ]);
  const items: Record<string, unknown>[] = [];
  const reading = (async () => {
    let rest = "";
    for await (const chunk of proc.child.stdout.pipeThrough(new TextDecoderStream())) {
      const parts = (rest + chunk).split("\n");
      rest = parts.pop()!;
      items.push(...parts.map((l) => JSON.parse(l)));
    }
  })();
  return { proc, items, reading };
}

async function consumersOnEvery(adminUrl: string, topic: string, n: number): Promise<boolean> {
  for (let p = 0; p < 6; p++) {
    const stats = await topicStats(adminUrl, `${topic}-partition-${p}`);
    const subs = (stats?.subscriptions ?? {}) as Record<string, { consumers: unknown[] }>;
    if ((subs.fo?.consumers.length ?? 0) !== n) return false;
  }
  return true;
}

Deno.test({
  name: "failover: two consumes announce disjoint partitions that cover the topic",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const { serviceUrl, adminUrl } = await pulsarUrls();
    const topic = `persistent://public/default/failover-${crypto.randomUUID()}`;
    await new PulsarAdmin({ adminUrl }).createTopic(topic, 6);
    const consumers: ReturnType<typeof failoverConsumer>[] = [];
    try {
      for (let i = 1; i <= 2; i++) {
        consumers.push(failoverConsumer(serviceUrl, topic));
        await waitFor(
          () => consumersOnEvery(adminUrl, topic, i),
          60_000,
          () => Promise.resolve(new Error(`consumer ${i} did not subscribe to every partition`)),
        );
      }
      const input = Array.from(
        { length: TOTAL },
        (_, i) => JSON.stringify({ key: `key-${i}`, value: i }) + "\n",
      ).join("");
      const produced = await runEdgepipe(["produce", topic, "--service-url", serviceUrl], {
        stdin: input,
      });
      assert.equal(produced.code, 0, produced.stderr);
      const events = () =>
        consumers.reduce((n, c) => n + c.items.filter((i) => !i.$edgepipe).length, 0);
      await waitFor(
        () => Promise.resolve(events() >= TOTAL),
        60_000,
        () => Promise.resolve(new Error(`received ${events()} of ${TOTAL}`)),
      );
    } finally {
      for (const c of consumers) {
        c.proc.child.kill("SIGTERM");
        await c.proc.exited;
        await c.reading;
        await c.proc.stderr;
      }
    }
    const lastSets = consumers.map((c) => {
      const records = c.items.filter((i) => i.$edgepipe === "partitions");
      assert.ok(records.length > 0, "a partitions record");
      const last = records.at(-1) as { partitions: { partition: number }[] };
      const after = c.items.slice(c.items.lastIndexOf(last) + 1) as { partition: number }[];
      const mine = new Set(last.partitions.map((p) => p.partition));
      for (const e of after) {
        assert.ok(mine.has(e.partition), `event of ${e.partition} after ${[...mine]}`);
      }
      return mine;
    });
    const [a, b] = lastSets;
    assert.ok(a.size > 0 && b.size > 0, `both active somewhere: ${[...a]} / ${[...b]}`);
    assert.deepEqual([...a].filter((p) => b.has(p)), [], "no partition at both");
    assert.deepEqual([...a, ...b].sort(), [0, 1, 2, 3, 4, 5]);
  },
});
