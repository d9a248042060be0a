/**
 * `edgepipe run` with `metrics:` and `stats:` in the pipeline file (and `--metrics` on the command
 * line): one endpoint with every stage's counters, each sample labelled with its stage, scraped
 * while the pipeline runs and parsed with the Prometheus project's own Python client. The expected
 * counts come from the input itself (the filter's true count is computed here).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { freePort, type LabelledSample, scrapeLabelled } from "./harness/prometheus.ts";

const MAIN = new URL("../cli/main.ts", import.meta.url).pathname;
const FLIGHTS = new URL("../examples/data/flights-2001-03-12-morning.ndjson", import.meta.url)
  .pathname;
const MODEL = new URL("../models/flight-delay", import.meta.url).pathname;

/** The value of `name` for `stage`, or undefined when the scrape has no such sample. */
function valueOf(samples: LabelledSample[], name: string, stage: string): number | undefined {
  return samples.find((s) => s.name === name && s.labels.stage === stage)?.value;
}

/** Starts `run` on `pipeline` with `args`; `${METRICS_PORT}` in the file is `port`. */
async function runWithMetrics(
  pipeline: string,
  args: string[],
  input: string[],
  port = freePort(),
) {
  const dir = await Deno.makeTempDir({ prefix: "edgepipe-run-metrics-" });
  const file = join(dir, "p.yaml");
  await Deno.writeTextFile(file, pipeline);
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, "run", file, ...args],
    env: { METRICS_PORT: String(port) },
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(input.join("\n") + "\n"));
  return { port, child, writer };
}

Deno.test("run: metrics: and stats: in the file give every stage's counts, labelled by stage", async () => {
  const lines = (await Deno.readTextFile(FLIGHTS)).trim().split("\n").slice(0, 600);
  const events = lines.map((l) => JSON.parse(l));
  // The filter's true count, from the input: delay > 15 minutes.
  const kept = events.filter((e) => e.value.delay > 15).length;
  assert.ok(kept > 10 && kept < events.length - 10, `a filter that keeps some: ${kept}`);
  const pipeline = [
    "source: { stdin: {} }",
    "stages:",
    "  - filter: event.value.delay > 15.0",
    `  - score: { model: '${MODEL}', batchSize: 32 }`,
    "sink: stdout",
    "metrics: ${METRICS_PORT}",
    "stats: true",
    "",
  ].join("\n");
  const { port, child, writer } = await runWithMetrics(pipeline, [], lines);
  // While stdin stays open, the sink's count must reach the events the filter keeps.
  let samples: LabelledSample[] = [];
  for (let tries = 0; tries < 150; tries++) {
    await new Promise((r) => setTimeout(r, 200));
    samples = await scrapeLabelled(port).catch(() => []);
    // Drops are acknowledged in batches: the filter's count can trail the sink's.
    if (
      valueOf(samples, "edgepipe_events_out_total", "3:sink") === kept &&
      valueOf(samples, "edgepipe_acks_total", "1:filter") === events.length - kept
    ) break;
  }
  const at = (name: string, stage: string) => valueOf(samples, name, stage);
  const detail = JSON.stringify(samples.filter((s) => !s.name.includes("_bucket")));
  assert.equal(at("edgepipe_events_out_total", "0:stdin"), events.length, detail);
  assert.equal(at("edgepipe_events_in_total", "1:filter"), events.length, detail);
  assert.equal(at("edgepipe_events_out_total", "1:filter"), kept, detail);
  assert.equal(at("edgepipe_acks_total", "1:filter"), events.length - kept, detail);
  assert.equal(at("edgepipe_events_in_total", "2:score"), kept, detail);
  assert.equal(at("edgepipe_events_out_total", "2:score"), kept, detail);
  // Every kept event is one model row; each run is one observation of both histograms.
  assert.equal(at("edgepipe_score_batch_rows_sum", "2:score"), kept, detail);
  assert.equal(
    at("edgepipe_score_batch_seconds_count", "2:score"),
    at("edgepipe_score_batch_rows_count", "2:score"),
  );
  assert.equal(at("edgepipe_events_in_total", "3:sink"), kept, detail);
  assert.equal(at("edgepipe_events_out_total", "3:sink"), kept, detail);
  assert.equal(at("edgepipe_delivery_seconds_count", "3:sink"), kept, detail);
  assert.ok(at("edgepipe_event_time_lag_seconds", "0:stdin")! > 0, detail);
  // Every sample says which command and stage it belongs to.
  for (const s of samples) {
    assert.equal(s.labels.command, "run", JSON.stringify(s));
    assert.match(s.labels.stage, /^[0-3]:(stdin|filter|score|sink)$/, JSON.stringify(s));
  }
  await writer.close();
  const out = await child.output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, stderr);
  const results = new TextDecoder().decode(out.stdout).trim().split("\n");
  assert.equal(results.length, kept);
  // The final stats line of each stage has the final counts.
  const last = (label: string) =>
    stderr.trim().split("\n").findLast((l) => l.startsWith(`edgepipe run ${label}: `)) ?? "";
  const count = (line: string, name: string) =>
    Number(new RegExp(`\\b${name}=(\\d+)`).exec(line)?.[1]);
  assert.equal(count(last("0:stdin"), "out"), events.length, stderr);
  assert.deepEqual(
    ["in", "out", "acks"].map((n) => count(last("1:filter"), n)),
    [events.length, kept, events.length - kept],
    stderr,
  );
  assert.deepEqual(["in", "out"].map((n) => count(last("2:score"), n)), [kept, kept], stderr);
  assert.deepEqual(["in", "out"].map((n) => count(last("3:sink"), n)), [kept, kept], stderr);
});

Deno.test("run --metrics on the command line: map and a count window, read while running", async () => {
  const events = Array.from({ length: 50 }, (_, n) => ({
    id: `e${n}`,
    eventTime: 1_000 + n * 1000,
    value: { n, k: n % 2 ? "odd" : "even" },
  }));
  // A count window of 5 per key: 25 events per key → 5 results per key, every id absorbed.
  const pipeline = [
    "source: { stdin: {} }",
    "stages:",
    '  - map: \'{"k": event.value.k, "n": event.value.n}\'',
    "  - window: { key: value.k, count: 5, aggregates: 'count()' }",
    "sink: stdout",
    "",
  ].join("\n");
  const port = freePort();
  const { child, writer } = await runWithMetrics(
    pipeline,
    ["--metrics", String(port)],
    events.map((e) => JSON.stringify(e)),
  );
  let samples: LabelledSample[] = [];
  for (let tries = 0; tries < 150; tries++) {
    await new Promise((r) => setTimeout(r, 200));
    samples = await scrapeLabelled(port).catch(() => []);
    if (valueOf(samples, "edgepipe_events_out_total", "3:sink") === 10) break;
  }
  const at = (name: string, stage: string) => valueOf(samples, name, stage);
  const detail = JSON.stringify(samples.filter((s) => !s.name.includes("_bucket")));
  assert.equal(at("edgepipe_events_in_total", "1:map"), 50, detail);
  assert.equal(at("edgepipe_events_out_total", "1:map"), 50, detail);
  assert.equal(at("edgepipe_events_in_total", "2:window"), 50, detail);
  assert.equal(at("edgepipe_events_out_total", "2:window"), 10, detail);
  assert.equal(at("edgepipe_acks_total", "2:window"), 50, detail);
  assert.equal(at("edgepipe_events_out_total", "3:sink"), 10, detail);
  await writer.close();
  const out = await child.output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  assert.equal(new TextDecoder().decode(out.stdout).trim().split("\n").length, 10);
  // Without --stats (and none in the file), no stats lines.
  assert.doesNotMatch(new TextDecoder().decode(out.stderr), /edgepipe run \d:/);
});
