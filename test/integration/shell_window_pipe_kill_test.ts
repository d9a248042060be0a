/**
 * `consume -e | filter | window --checkpoint-dir D | produce` as four processes on the real
 * broker, with kill -9 of random stages (each stage at least three times, each kill checked to
 * land mid-stream: the stage was alive and the source still had a backlog), the pipe started
 * again after each kill with the same subscription and checkpoint directory, and finally run to
 * its end. Then:
 * - every window is published with its reference value (counted here, from the generated input);
 * - no window is ever published with another value (a partial result marked final);
 * - duplicates are whole results only (counted and reported);
 * - nothing but window results reaches the results topic (no raw or late input event);
 * - the source subscription's backlog is 0;
 * - four reruns of the finished pipe publish nothing new.
 */
import assert from "node:assert/strict";
import { runEdgepipe } from "../harness/edgepipe.ts";
import { pulsarUrls } from "../harness/pulsar.ts";
import { startShellPipe } from "../harness/shell_pipe.ts";
import { publishedCount, topicStats } from "../harness/topic_stats.ts";

const EVENTS = Number(Deno.env.get("EDGEPIPE_PIPE_KILL_EVENTS") ?? 50_000);
const KEYS = 7;
const STEP_MS = 25; // event n happens at T0 + n * STEP_MS
// 1,250 windows per key, 8,750 in all: enough results that the terminal (unbatched sends) is
// the slowest stage, and its backpressure holds consume in the middle of the topic.
const WINDOW_MS = 1000;
const T0 = Date.UTC(2026, 0, 1);
const KILLS_PER_STAGE = 3; // 12 kills
const RERUNS = Number(Deno.env.get("EDGEPIPE_PIPE_KILL_RERUNS") ?? 4);
const STAGE_NAMES = ["consume", "filter", "window", "produce"];

Deno.test({
  name: "consume -e | filter | window | produce: 12 kills of random stages, every window right",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const { serviceUrl, adminUrl } = await pulsarUrls();
    const env = { PULSAR_SERVICE_URL: serviceUrl, NO_COLOR: "1" };
    const run = crypto.randomUUID().slice(0, 8);
    const source = `persistent://public/default/pipe-kill-in-${run}`;
    const target = `persistent://public/default/pipe-kill-out-${run}`;
    const checkpoints = await Deno.makeTempDir({ prefix: "edgepipe-pipe-kill-" });
    // deno-lint-ignore no-explicit-any
    const stats = async (topic: string) => (await topicStats(adminUrl, topic)) as any;
    const published = () => publishedCount(adminUrl, target);
    const backlog = async () => (await stats(source)).subscriptions.windows?.msgBacklog as number;

    // The input, and the reference: count per (key, window start) of the events the filter keeps.
    const expected = new Map<string, number>();
    const lines: string[] = [];
    for (let n = 0; n < EVENTS; n++) {
      const k = `k${n % KEYS}`;
      const t = T0 + n * STEP_MS;
      lines.push(JSON.stringify({ n, k, t }));
      if (n % 10 === 3) continue; // filtered out below
      const at = `${k}|${t - (t % WINDOW_MS)}`;
      expected.set(at, (expected.get(at) ?? 0) + 1);
    }
    const seeded = await runEdgepipe(
      ["produce", source, "--input", "json", "--key-field", "k", "--time-field", "t"],
      { env, stdin: lines.join("\n") + "\n" },
    );
    assert.equal(seeded.code, 0, seeded.stderr);

    let seed = Number(Deno.env.get("KILL_SEED") ?? Date.now() % 100_000);
    console.log(`    KILL_SEED=${seed}`);
    const random = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
    const victims = STAGE_NAMES.flatMap((_, i) => Array(KILLS_PER_STAGE).fill(i) as number[]);
    for (let i = victims.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [victims[i], victims[j]] = [victims[j], victims[i]];
    }

    const stages = [
      // A small bound on unreported messages keeps consume close behind what the terminal
      // delivered, so the stream lasts long enough for every kill to land in it.
      [
        "consume",
        source,
        "-s",
        "windows",
        "-e",
        "--ack-timeout",
        "10s",
        "--max-unreported",
        "2000",
      ],
      ["filter", "int(event.value.n) % 10 != 3"],
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
      ],
      // Unbatched sends with a small window: the terminal lags behind the window stage, so
      // checkpoints are taken while emitted results are still on their way.
      ["produce", target, "--max-in-flight", "20", "--batch-max-messages", "1"],
    ];
    const runPipe = async (victim?: number) => {
      const pipe = await startShellPipe(stages, { env });
      let finished = false;
      pipe.done.finally(() => (finished = true));
      let note = "ran to its end";
      let landed = victim === undefined;
      if (victim !== undefined) {
        // Some progress first (results published in this run), then a random moment.
        const start = await published();
        while (!finished && (await published()) < start + 50) {
          await new Promise((r) => setTimeout(r, 20));
        }
        await new Promise((r) => setTimeout(r, Math.floor(random() * 400)));
        const left = await backlog();
        if (!finished && left > 0) {
          Deno.kill(await pipe.pid(victim), "SIGKILL");
          note = `killed ${STAGE_NAMES[victim]} with ${left} messages left in the backlog`;
          landed = true;
        } else note = `${STAGE_NAMES[victim]} not killed: the pipe had finished`;
      }
      const { codes, stderr } = await pipe.done;
      if (victim !== undefined) landed &&= codes[victim] === 137;
      return { codes, note, stderr, landed };
    };

    for (const victim of victims) {
      const { codes, note, landed, stderr } = await runPipe(victim);
      console.log(`    ${note}; exit codes ${codes}`);
      assert.ok(landed, `the kill of ${STAGE_NAMES[victim]} landed mid-stream: ${stderr.join("")}`);
    }
    const last = await runPipe();
    console.log(`    last run ${last.note}; exit codes ${last.codes}`);
    assert.deepEqual(last.codes, [0, 0, 0, 0], last.stderr.join("\n"));
    const afterEnd = await published();
    for (let i = 0; i < RERUNS; i++) {
      const again = await runPipe();
      assert.deepEqual(again.codes, [0, 0, 0, 0], again.stderr.join("\n"));
      assert.equal(await published(), afterEnd, `rerun ${i + 1} published nothing new`);
    }
    await new Promise((r) => setTimeout(r, 500)); // acks reach the broker's stats
    const left = await backlog();

    const read = await runEdgepipe(["consume", target, "-e"], { env });
    assert.equal(read.code, 0, read.stderr);
    const seen = new Map<string, number[]>();
    let results = 0;
    let other = 0;
    for (const line of read.stdout.trimEnd().split("\n")) {
      // produce publishes a result as its record (docs/envelope.md): the key, the window's
      // bounds, the aggregates and the timing; the message key and event time (end - 1) agree.
      const message = JSON.parse(line);
      if (message.$edgepipe === "end") continue;
      const v = message.value;
      const isResult = typeof v?.count === "number" && typeof v?.window?.start === "number" &&
        v.window.end === v.window.start + WINDOW_MS && typeof v.key === "string" &&
        Object.keys(v).sort().join() === "count,key,timing,window" && message.key === v.key &&
        message.eventTime === v.window.end - 1;
      if (!isResult) {
        if (other++ === 0) console.log(`    first non-result: ${line.slice(0, 300)}`);
        continue;
      }
      const at = `${v.key}|${v.window.start}`;
      if (!seen.has(at)) seen.set(at, []);
      seen.get(at)!.push(v.count);
      results++;
    }
    const missing = [...expected.keys()].filter((at) => !seen.has(at));
    const wrong = [...seen].filter(([at, counts]) => counts.some((c) => c !== expected.get(at)));
    console.log(
      `    ${EVENTS} events, ${expected.size} windows; published ${results} results, ` +
        `${seen.size} distinct, ${results - seen.size} duplicates (whole results), ` +
        `${missing.length} missing, ${wrong.length} ever published with a wrong count, ` +
        `${other} other messages; source backlog ${left}`,
    );
    assert.deepEqual(missing.slice(0, 10), [], `${missing.length} windows missing`);
    assert.deepEqual(wrong.slice(0, 10), [], `${wrong.length} windows with a wrong count`);
    assert.equal(other, 0, "nothing but window results in the results topic");
    assert.equal(seen.size, expected.size);
    assert.equal(left, 0);
    await Deno.remove(checkpoints, { recursive: true });
  },
});
