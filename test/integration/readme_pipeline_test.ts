/**
 * The README's first pipeline, as printed there, on the real broker: `consume | score | filter |
 * window | produce` (with `consume -e` so that it ends). The output topic, read with the official
 * Java client, holds one message per origin airport and hour with its window bounds, flight count
 * and mean delay score, computed here on their own from the scores `score` gives each flight.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { javaConsume } from "../harness/java_client.ts";
import { runEdgepipe } from "../harness/edgepipe.ts";
import { pulsarUrls } from "../harness/pulsar.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const MAIN = join(ROOT, "cli/main.ts");
const FLIGHTS = join(ROOT, "examples/data/flights-2001-03-12-morning.ndjson");
const HOUR = 3_600_000;
const broker = await pulsarUrls();
const env = { PULSAR_SERVICE_URL: broker.serviceUrl };

/** The first `sh` block of the README, with each substitution checked to have happened. */
async function readmePipeline(substitutions: [string, string][]): Promise<string> {
  const readme = await Deno.readTextFile(join(ROOT, "README.md"));
  let block = /```sh\n([\s\S]*?)```/.exec(readme)![1];
  for (const [from, to] of substitutions) {
    assert.ok(block.includes(from), `the README pipeline has ${from}`);
    block = block.replaceAll(from, to);
  }
  return block;
}

Deno.test({
  name: "the README's first pipeline publishes window results with their bounds and scores",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const id = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
    const flights = `persistent://public/default/readme-flights-${id}`;
    const alerts = `persistent://public/default/readme-alerts-${id}`;
    const state = await Deno.makeTempDir();
    try {
      const input = await Deno.readTextFile(FLIGHTS);
      const produced = await runEdgepipe(["produce", flights], { stdin: input, env });
      assert.equal(produced.code, 0, produced.stderr);

      const pipeline = await readmePipeline([
        ["persistent://public/default/flights", flights],
        ["persistent://public/default/delay-alerts", alerts],
        ["-s scorer", `-s readme-${id} -e`],
        ["state/window", join(state, "window")],
        ["edgepipe ", `deno run -A ${MAIN} `],
      ]);
      const run = await new Deno.Command("bash", {
        args: ["-c", `set -o pipefail\n${pipeline}`],
        cwd: ROOT,
        env,
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.ok(run.success, new TextDecoder().decode(run.stderr));

      // Every flight scored by the score command alone; the filter and windows are applied here.
      const scoredRun = await runEdgepipe(["score", "--model", join(ROOT, "models/flight-delay")], {
        stdin: input,
      });
      assert.equal(scoredRun.code, 0, scoredRun.stderr);
      const threshold = Number(/event\.score\.delayed > ([\d.]+)/.exec(pipeline)![1]);
      const expected = new Map<string, { origin: string; start: number; n: number; sum: number }>();
      for (const line of scoredRun.stdout.trim().split("\n")) {
        const e = JSON.parse(line);
        if (!(e.score.delayed > threshold)) continue;
        const start = Math.floor(e.eventTime / HOUR) * HOUR;
        const at = `${e.value.origin}@${start}`;
        const w = expected.get(at) ?? { origin: e.value.origin, start, n: 0, sum: 0 };
        w.n++;
        w.sum += e.score.delayed;
        expected.set(at, w);
      }
      assert.ok(expected.size > 5, `${expected.size} windows expected`);

      const messages = await javaConsume({ serviceUrl: broker.serviceUrl }, alerts, expected.size);
      assert.equal(messages.length, expected.size);
      const seen = new Set<string>();
      for (const message of messages) {
        const result = JSON.parse(message.content);
        const at = `${result.key}@${result.window.start}`;
        const w = expected.get(at);
        assert.ok(w, `unexpected window ${at}: ${message.content}`);
        assert.ok(!seen.has(at), `${at} published twice`);
        seen.add(at);
        assert.equal(message.key, w.origin);
        assert.equal(result.window.end, w.start + HOUR);
        assert.equal(message.eventTime, w.start + HOUR - 1);
        assert.equal(result.count, w.n);
        assert.ok(
          Math.abs(result.avg_score_delayed - w.sum / w.n) < 1e-12,
          `${at}: mean ${result.avg_score_delayed}, expected ${w.sum / w.n}`,
        );
        assert.equal(result.timing, "on_time");
      }

      // Every flight was acknowledged on the pipeline's subscription.
      const path = flights.replace("persistent://", "persistent/");
      const stats = await (await fetch(`${broker.adminUrl}/admin/v2/${path}/stats`)).json();
      assert.equal(stats.subscriptions[`readme-${id}`].msgBacklog, 0);
    } finally {
      await Deno.remove(state, { recursive: true });
    }
  },
});
