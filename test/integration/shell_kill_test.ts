/**
 * kill -9 at random moments: while 100,000 events flow through `consume | produce` (a real shell
 * pipe), one of the two is killed, the pair is started again on the same subscription, and
 * again; each kill is checked to fall mid-stream. At the end every input event is in the output
 * topic, whose size the broker confirms. Duplicates are counted, none may be missing.
 */
import assert from "node:assert/strict";
import { runEdgepipe } from "../harness/edgepipe.ts";
import { killPipe } from "../harness/kill_pipe.ts";
import { readPayloads, tally } from "../harness/output_audit.ts";
import { pulsarUrls } from "../harness/pulsar.ts";
import { backlogOf, publishedCount } from "../harness/topic_stats.ts";

const EVENTS = 100_000;
const KILLS = 6;

Deno.test({
  name: "kill -9 of consume or produce at random moments loses no event",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const { serviceUrl, adminUrl } = await pulsarUrls();
    const env = { PULSAR_SERVICE_URL: serviceUrl, NO_COLOR: "1" };
    const id = crypto.randomUUID().slice(0, 8);
    const source = `persistent://public/default/shell-kill-in-${id}`;
    const target = `persistent://public/default/shell-kill-out-${id}`;
    const input = Array.from({ length: EVENTS }, (_, n) => JSON.stringify({ n, k: `k${n % 31}` }))
      .join("\n") + "\n";
    // Batched, as most producers send: a redelivery after a kill is then whole batches.
    const seeded = await runEdgepipe(
      ["produce", source, "--input", "json", "--key-field", "k"],
      { env, stdin: input },
    );
    assert.equal(seeded.code, 0, seeded.stderr);

    const expected = Array.from({ length: EVENTS }, (_, n) => n);
    const numbers = async () =>
      (await readPayloads(target, env)).map((line) => JSON.parse(line).n as number);
    const kill = await killPipe({
      stages: [
        ["consume", source, "-s", "copy", "-e", "--ack-timeout", "10s"],
        // Batched sends, as a user runs it: a kill of produce leaves whole batches unconfirmed.
        ["produce", target],
      ],
      env,
      victim: (_round, random) => random() < 0.5 ? 0 : 1,
      kills: KILLS,
      progress: () => publishedCount(adminUrl, target),
      accounted: async () => tally(expected, await numbers()).distinct,
      total: EVENTS,
    });
    assert.equal(kill.midStreamKills, KILLS, "every kill must land mid-stream");
    assert.deepEqual(kill.last.codes, [0, 0], kill.last.stderr.join("\n"));

    const seen = await numbers();
    const published = await publishedCount(adminUrl, target);
    const output = tally(expected, seen);
    console.log(
      `    ${published} published, ${output.distinct} distinct, ${output.duplicates} ` +
        `duplicates, ${output.missing.length} missing; source backlog ${await backlogOf(
          adminUrl,
          source,
          "copy",
        )}`,
    );
    assert.equal(seen.length, published, "the broker counts what was read");
    assert.deepEqual(output.missing.slice(0, 10), [], `${output.missing.length} events missing`);
    assert.deepEqual(output.unexpected, []);
    assert.equal(output.distinct, EVENTS);
  },
});
