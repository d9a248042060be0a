/**
 * `consume -e --guarantee exactly-once` at the end of the topic after a killed predecessor: the
 * dead run's open transaction holds the acks of the topic's first messages, this run reads and
 * commits everything after them, and when the broker times the dead transaction out and delivers
 * those first messages again, this run must take them, commit them and end (it waited forever
 * before: the end test asked for a message after the last one received, which was now one of the
 * old ones, and the broker had nothing more to send). The output holds every event once, read by
 * the Java client, and the subscription's backlog is 0.
 */
import assert from "node:assert/strict";
import { pulsarUrls } from "../harness/pulsar.ts";
import { runEdgepipe } from "../harness/edgepipe.ts";
import { startShellPipe } from "../harness/shell_pipe.ts";
import { javaReadPayloads, readPayloads, tally } from "../harness/output_audit.ts";
import { backlogOf } from "../harness/topic_stats.ts";
import { PulsarClient } from "../../lib/pulsar/mod.ts";

const { serviceUrl, adminUrl } = await pulsarUrls();
const env = { PULSAR_SERVICE_URL: serviceUrl, NO_COLOR: "1" };

Deno.test({
  name: "exactly-once: -e ends after a dead run's transaction returns the topic's first messages",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const id = crypto.randomUUID().slice(0, 8);
    const source = `persistent://public/default/eo-end-in-${id}`;
    const target = `persistent://public/default/eo-end-out-${id}`;
    const events = 300;
    const held = 100;
    const client = new PulsarClient({ serviceUrl });
    let pipeStarted = 0;
    try {
      // The subscription exists before the input, so that its backlog counts every message.
      const dead = await client.subscribe({
        topic: source,
        subscription: "eo",
        subscriptionType: "Exclusive",
      });
      const seeded = await runEdgepipe(
        ["produce", source, "--input", "json", "--batch-max-messages", "10"],
        {
          env,
          stdin: Array.from({ length: events }, (_, n) => JSON.stringify({ n })).join("\n") + "\n",
        },
      );
      assert.equal(seeded.code, 0, seeded.stderr);
      // The dead predecessor: the first entries acknowledged in a transaction it never ends.
      const txns = await client.transactions();
      const txn = await txns.newTransaction({ timeoutMs: 10_000 });
      const acks = [];
      for (let i = 0; i < held; i++) {
        acks.push(dead.ackInTransaction(await dead.receive(10_000), txn));
      }
      await Promise.all(acks);
      await dead.close();
      pipeStarted = Date.now();
    } finally {
      await client.close();
    }

    const pipe = await startShellPipe([
      [
        "consume",
        source,
        "-s",
        "eo",
        "-e",
        "--guarantee",
        "exactly-once",
        "--txn-interval",
        "200ms",
        "--txn-timeout",
        "5s",
      ],
      ["produce", target, "--guarantee", "exactly-once"],
    ], { env });
    // The held messages come back about 10 s after the transaction opened; the whole run needs
    // well under a minute. Past it, consume is stuck at the end.
    let timer: ReturnType<typeof setTimeout> | undefined;
    const stuck = new Promise<"stuck">((resolve) => {
      timer = setTimeout(() => resolve("stuck"), 60_000);
    });
    const ended = await Promise.race([pipe.done, stuck]);
    clearTimeout(timer);
    if (ended === "stuck") {
      const { stderr } = await pipe.abort();
      assert.fail(`consume did not end within 60 s; its stderr: ${stderr[0].slice(-600)}`);
    }
    assert.deepEqual(ended.codes, [0, 0], ended.stderr.join("\n"));
    // The scenario happened: the run waited for the dead transaction's messages.
    assert.match(ended.stderr[0], /held by a transaction that has not ended/);
    assert.ok(Date.now() - pipeStarted >= 5_000, "the run cannot end before the held ones came");

    const numbers = (await javaReadPayloads(serviceUrl, target, events)).map((p) =>
      (JSON.parse(p) as { n: number }).n
    );
    const seen = tally(Array.from({ length: events }, (_, n) => n), numbers);
    assert.deepEqual(seen, { distinct: events, duplicates: 0, missing: [], unexpected: [] });
    // edgepipe's reader sees no more than these (nothing twice past the first `events`).
    assert.equal((await readPayloads(target, env)).length, events);
    assert.equal(await backlogOf(adminUrl, source, "eo"), 0);
  },
});
