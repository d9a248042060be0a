/**
 * `--on-error dead-letter=<target>` behaves the same in every stage command: a file, a directory
 * of rolling files or a Pulsar topic receives the rejected event with its error and stage, and
 * the good events keep flowing.
 */
import assert from "node:assert/strict";
import { PulsarClient } from "../../lib/pulsar/mod.ts";
import { pulsarUrls } from "../harness/pulsar.ts";
import { runEdgepipe } from "../harness/edgepipe.ts";

const integration = { sanitizeOps: false, sanitizeResources: false };

const input = [
  { id: "good", value: { delay: 30 } },
  { id: "bad", value: { other: 1 } },
].map((event) => JSON.stringify(event)).join("\n") + "\n";

function edgepipe(args: string[], env: Record<string, string> = {}) {
  return runEdgepipe(args, { stdin: input, env });
}

const stages: [string, string[]][] = [
  ["filter", ["filter", "event.value.delay > 10"]],
  ["map", ["map", "{'late': event.value.delay > 10}"]],
];

for (const [stage, args] of stages) {
  Deno.test({
    name: `${stage} --on-error dead-letter=<topic> puts the failing event on the topic`,
    ...integration,
    async fn() {
      const urls = await pulsarUrls();
      const topic = `persistent://public/default/dlq-${stage}-${crypto.randomUUID()}`;
      const client = new PulsarClient({ serviceUrl: urls.serviceUrl });
      try {
        const consumer = await client.subscribe({
          topic,
          subscription: "check",
          initialPosition: "earliest",
        });
        const result = await edgepipe([...args, `--on-error=dead-letter=${topic}`], {
          PULSAR_SERVICE_URL: urls.serviceUrl,
        });
        assert.equal(result.code, 0, result.stderr);
        const passed = result.stdout.trim().split("\n").map((line) => JSON.parse(line));
        const events = passed.filter((item) => !("$edgepipe" in item));
        assert.deepEqual(events.map((event) => event.id), ["good"]);
        const acked = passed.filter((item) => item.$edgepipe === "ack").flatMap((a) => a.ids);
        assert.deepEqual(acked, ["bad"]);

        const message = await consumer.receive();
        const record = message.json() as {
          id: string;
          deadLetter: { stage: string; error: string };
        };
        assert.equal(record.id, "bad");
        assert.equal(record.deadLetter.stage, stage);
        assert.match(record.deadLetter.error, /delay/);
      } finally {
        await client.close();
      }
    },
  });
}

Deno.test("filter --on-error dead-letter=file:<dir> writes the failing event under the directory", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const result = await edgepipe([
      "filter",
      "event.value.delay > 10",
      `--on-error=dead-letter=file:${dir}/?format=ndjson`,
    ]);
    assert.equal(result.code, 0, result.stderr);
    const records: { id: string; deadLetter: { stage: string } }[] = [];
    for await (const entry of Deno.readDir(dir)) {
      if (!entry.isFile) continue;
      const text = await Deno.readTextFile(`${dir}/${entry.name}`);
      for (const line of text.trim().split("\n")) records.push(JSON.parse(line));
    }
    assert.deepEqual(records.map((r) => [r.id, r.deadLetter.stage]), [["bad", "filter"]]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
