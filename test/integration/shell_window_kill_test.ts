/**
 * `consume | window --checkpoint-dir D | produce` as three processes against the real broker: the
 * terminal (produce) is killed with SIGKILL at random moments after windows were emitted, the
 * whole pipe is started again (same subscription, same checkpoint directory) until the input is
 * drained. Every window result, computed here independently from the input, must be in the output
 * topic with the right count; the source subscription must end with no backlog.
 *
 * `WINDOW_ACK_RELAY=off` runs the same test with the old pass-through hello, where a kill after a
 * checkpoint loses results (the test is expected to fail then).
 */
import assert from "node:assert/strict";
import { runEdgepipe } from "../harness/edgepipe.ts";
import { pulsarUrls } from "../harness/pulsar.ts";
import { startShellPipe } from "../harness/shell_pipe.ts";
import { publishedCount, topicStats } from "../harness/topic_stats.ts";

const EVENTS = Number(Deno.env.get("EDGEPIPE_WINDOW_KILL_EVENTS") ?? 30_000);
const KEYS = 7;
const STEP_MS = 20; // event n happens at T0 + n * STEP_MS
const WINDOW_MS = 1000;
const T0 = Date.UTC(2026, 0, 1);
const KILLS = 4;

const statsOf = async (adminUrl: string, topic: string) =>
  // deno-lint-ignore no-explicit-any
  (await topicStats(adminUrl, topic)) as any;

Deno.test({
  name: "consume | window | produce: kill -9 of produce after checkpoints loses no window result",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const { serviceUrl, adminUrl } = await pulsarUrls();
    const env = { PULSAR_SERVICE_URL: serviceUrl, NO_COLOR: "1" };
    const run = crypto.randomUUID().slice(0, 8);
    const source = `persistent://public/default/shell-window-in-${run}`;
    const target = `persistent://public/default/shell-window-out-${run}`;
    const checkpoints = await Deno.makeTempDir({ prefix: "edgepipe-window-kill-" });

    // The input, and the expected results computed here: count per (key, window start).
    const expected = new Map<string, number>();
    const lines: string[] = [];
    for (let n = 0; n < EVENTS; n++) {
      const k = `k${n % KEYS}`;
      const t = T0 + n * STEP_MS;
      lines.push(JSON.stringify({ n, k, t }));
      const at = `${k}|${t - (t % WINDOW_MS)}`;
      expected.set(at, (expected.get(at) ?? 0) + 1);
    }
    const seeded = await runEdgepipe(
      ["produce", source, "--input", "json", "--key-field", "k", "--time-field", "t"],
      { env, stdin: lines.join("\n") + "\n" },
    );
    assert.equal(seeded.code, 0, seeded.stderr);
    // The subscription exists before the first pipe, at the start of the topic.
    const relayMode = Deno.env.get("WINDOW_ACK_RELAY") ?? "auto";

    let seed = Number(Deno.env.get("KILL_SEED") ?? Date.now() % 100_000);
    console.log(`    KILL_SEED=${seed}`);
    const random = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);

    const published = () => publishedCount(adminUrl, target);

    const runPipe = async (kill: boolean) => {
      const pipe = await startShellPipe(
        [
          ["consume", source, "-s", "windows", "-e", "--ack-timeout", "10s"],
          [
            "window",
            "--key",
            "key",
            "--tumbling",
            `${WINDOW_MS}ms`,
            "--checkpoint-dir",
            checkpoints,
            "--checkpoint-interval",
            "200ms",
            "--ack-relay",
            relayMode,
          ],
          // Unbatched sends with a small window: the terminal lags behind the window stage, so
          // checkpoints are taken while emitted results are still on their way.
          ["produce", target, "--max-in-flight", "20", "--batch-max-messages", "1"],
        ],
        { env },
      );
      let finished = false;
      pipe.done.finally(() => (finished = true));
      let note = "no kill";
      if (kill) {
        // After some results reached the output topic, at a random moment.
        const before = await published();
        while ((await published()) < before + 20 && !finished) {
          await new Promise((r) => setTimeout(r, 20));
        }
        const after = Math.floor(random() * 400);
        await new Promise((r) => setTimeout(r, after));
        if (finished) note = "the pipe finished before the kill";
        else {
          Deno.kill(await pipe.pid(2), "SIGKILL");
          note = `killed produce ${after} ms after ${(await published()) - before} new results`;
        }
      } else {
        // consume -e does not end on a subscription without backlog: once the source is drained
        // and the output has stopped growing, stop it the way a user would (SIGTERM: it closes
        // its output and waits for the pipe to report everything).
        let last = -1;
        let quietSince = Date.now();
        while (!finished) {
          await new Promise((r) => setTimeout(r, 250));
          const now = await published();
          if (now !== last) (last = now, quietSince = Date.now());
          const backlog = (await statsOf(adminUrl, source)).subscriptions.windows?.msgBacklog;
          if (backlog === 0 && Date.now() - quietSince > 3000 && !finished) {
            Deno.kill(await pipe.pid(0), "SIGTERM");
            note = "consume stopped with SIGTERM once drained";
            break;
          }
        }
      }
      const { codes, stderr } = await pipe.done;
      return { codes, note, stderr };
    };

    for (let round = 0; round < KILLS; round++) {
      const { codes, note } = await runPipe(true);
      console.log(`    round ${round}: ${note}, exit codes ${codes}`);
      assert.ok(codes.slice(0, 2).every((c) => c !== 137), `only produce was killed: ${codes}`);
    }
    const last = await runPipe(false);
    console.log(`    last run: ${last.note}, exit codes ${last.codes}`);
    assert.ok([0, 143].includes(last.codes[0]), last.stderr.join("\n"));
    assert.deepEqual(last.codes.slice(1), [0, 0], last.stderr.join("\n"));
    await new Promise((r) => setTimeout(r, 500)); // acks reach the broker's stats
    const backlog = (await statsOf(adminUrl, source)).subscriptions.windows.msgBacklog;

    const read = await runEdgepipe(["consume", target, "-e"], { env });
    assert.equal(read.code, 0, read.stderr);
    const seen = new Map<string, number[]>();
    let results = 0;
    let passedOn = 0;
    for (const line of read.stdout.trimEnd().split("\n")) {
      const result = JSON.parse(line);
      if (result.$edgepipe === "end") continue; // consume -e says the topic's end
      if (typeof result.value?.count !== "number") {
        // An input event in the results: must not happen (late events are dropped by default,
        // redeliveries recognised).
        if (passedOn++ === 0) console.log(`    first passed-on event: ${line.slice(0, 300)}`);
        continue;
      }
      const at = `${result.key}|${result.eventTime + 1 - WINDOW_MS}`;
      if (!seen.has(at)) seen.set(at, []);
      seen.get(at)!.push(result.value.count);
      results++;
    }
    const missing = [...expected.keys()].filter((at) => !seen.has(at));
    const wrong = [...seen].filter(([at, counts]) =>
      counts.some((count) => count !== expected.get(at))
    );
    console.log(
      `    ${EVENTS} events, ${expected.size} windows expected; output ${results} results, ` +
        `${seen.size} distinct, ${results - seen.size} duplicates, ${missing.length} missing, ` +
        `${wrong.length} with a wrong count; ${passedOn} late input events passed on; ` +
        `source backlog ${backlog}`,
    );
    assert.deepEqual(missing.slice(0, 10), [], `${missing.length} window results missing`);
    assert.deepEqual(wrong.slice(0, 10), [], `${wrong.length} windows with a wrong count`);
    assert.equal(seen.size, expected.size);
    assert.equal(passedOn, 0, "nothing but window results in the output topic");
    assert.equal(backlog, 0);
    await Deno.remove(checkpoints, { recursive: true });
  },
});
