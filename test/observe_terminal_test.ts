/**
 * `--metrics` of `score`, `sink` and `route`, scraped while they run and parsed with the
 * Prometheus project's Python client, against the events this test sent: counters, the
 * histograms' counts and sums, and the final `--stats` line.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { freePort, scrape } from "./harness/prometheus.ts";

const MAIN = new URL("../cli/main.ts", import.meta.url).pathname;
const ROOT = new URL("..", import.meta.url).pathname;
const FIXTURE = join(ROOT, "models/flight-delay/fixture.ndjson");
const FLIGHTS = (await Deno.readTextFile(FIXTURE)).trim().split("\n").slice(0, 300)
  .map((l) => JSON.stringify(JSON.parse(l).event));

/**
 * Runs `args` with `--metrics` and `--stats`, writes the flights to stdin and, while stdin stays
 * open, waits until `ready(metrics)`; then closes stdin and returns the last scrape and the run.
 */
async function observed(
  args: string[],
  ready: (m: Record<string, number>) => boolean,
): Promise<{ metrics: Record<string, number>; stdout: string; stats: string }> {
  const port = freePort();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args, "--metrics", String(port), "--stats"],
    cwd: ROOT,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(FLIGHTS.join("\n") + "\n"));
  let metrics: Record<string, number> = {};
  for (let tries = 0; tries < 300 && !ready(metrics); tries++) {
    await new Promise((r) => setTimeout(r, 100));
    metrics = await scrape(port).catch(() => ({}));
  }
  await writer.close();
  const out = await child.output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, stderr);
  assert.ok(ready(metrics), JSON.stringify(metrics));
  return {
    metrics,
    stdout: new TextDecoder().decode(out.stdout),
    stats: stderr.trim().split("\n").at(-1)!,
  };
}

const statCount = (line: string, name: string) =>
  Number(new RegExp(`\\b${name}=(\\d+)`).exec(line)?.[1]);

Deno.test("score --metrics: events, and each model run's rows and duration as histograms", async () => {
  const n = FLIGHTS.length;
  const { metrics, stdout, stats } = await observed(
    ["score", "--model", "models/flight-delay", "--batch", "64"],
    (m) => m.edgepipe_events_out_total === n,
  );
  assert.equal(stdout.trim().split("\n").length, n);
  assert.equal(metrics.edgepipe_events_in_total, n);
  // Every flight is one model row: the rows histogram sums to them, each run at most 64 rows.
  assert.equal(metrics.edgepipe_score_batch_rows_sum, n);
  assert.ok(metrics.edgepipe_score_batch_rows_count >= Math.ceil(n / 64));
  assert.equal(
    metrics["edgepipe_score_batch_rows_bucket{le=64}"],
    metrics.edgepipe_score_batch_rows_count,
  );
  assert.equal(metrics.edgepipe_score_batch_seconds_count, metrics.edgepipe_score_batch_rows_count);
  assert.ok(metrics.edgepipe_score_batch_seconds_sum > 0);
  assert.deepEqual([statCount(stats, "in"), statCount(stats, "out")], [n, n], stats);
});

for (const command of ["sink", "route"] as const) {
  Deno.test(`${command} --metrics: events in and delivered, the delivery-time histogram`, async () => {
    const dir = await Deno.makeTempDir();
    try {
      const args = command === "sink"
        ? ["sink", "file", dir, "--format", "ndjson", "--max-events", "50"]
        : [
          "route",
          "--to",
          `event.key == "ATL"=file:${dir}/atl/?format=ndjson`,
          "--default",
          `file:${dir}/rest/?format=ndjson`,
        ];
      const n = FLIGHTS.length;
      // Files roll at 50 events (sink) or at close: wait for what is stored before closing.
      const { metrics, stats } = await observed(args, (m) => m.edgepipe_events_in_total === n);
      assert.equal(metrics.edgepipe_events_in_total, n);
      assert.ok(metrics.edgepipe_events_out_total <= n);
      assert.equal(metrics.edgepipe_delivery_seconds_count, metrics.edgepipe_events_out_total);
      assert.equal(metrics.edgepipe_errors_total, 0);
      // Everything is delivered by the end: the files hold every event, the stats line says so.
      let stored = 0;
      for await (const e of Deno.readDir(dir)) {
        const sub = e.isDirectory ? join(dir, e.name) : dir;
        for await (const f of Deno.readDir(sub)) {
          if (f.isFile) {
            stored += (await Deno.readTextFile(join(sub, f.name))).trim().split("\n").length;
          }
        }
        if (!e.isDirectory) break;
      }
      assert.equal(stored, n);
      assert.deepEqual([statCount(stats, "in"), statCount(stats, "out")], [n, n], stats);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}
