/**
 * docs/grafana/edgepipe.json against what edgepipe really serves: every query is parsed with the
 * Prometheus project's own PromQL grammar (`@prometheus-io/lezer-promql`, after the dashboard's
 * variables are filled in as Grafana does), and every metric name and label a query uses must be
 * among the samples that running commands serve — `run` over a filter, a model and a sink, and a
 * buffered `sink file` — scraped while they run and parsed with `prometheus_client`.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { parser } from "@prometheus-io/lezer-promql";
import { freePort, type LabelledSample, scrapeLabelled } from "./harness/prometheus.ts";

const MAIN = new URL("../cli/main.ts", import.meta.url).pathname;
const DASHBOARD = new URL("../docs/grafana/edgepipe.json", import.meta.url).pathname;
const MODEL = new URL("../models/flight-delay", import.meta.url).pathname;
const FLIGHTS = new URL("../examples/data/flights-2001-03-12-morning.ndjson", import.meta.url)
  .pathname;

interface Target {
  expr: string;
  datasource?: { type?: string; uid?: string };
}
interface Panel {
  type: string;
  title: string;
  datasource?: { type?: string; uid?: string };
  targets?: Target[];
}
interface Variable {
  name: string;
  type: string;
  query: string | { query: string };
}

/** Grafana's interpolation of the variables the queries use. */
function interpolate(expr: string): string {
  return expr.replaceAll("$__rate_interval", "1m").replaceAll(/\$(command|stage)\b/g, ".*");
}

/** Metric names (selector identifiers) and label names a PromQL query uses; throws on a syntax error. */
function namesIn(expr: string): { metrics: string[]; labels: string[] } {
  const text = interpolate(expr);
  const tree = parser.parse(text);
  const metrics: string[] = [];
  const labels: string[] = [];
  const cursor = tree.cursor();
  let parent = "";
  do {
    if (cursor.type.isError) assert.fail(`PromQL syntax error at ${cursor.from} in: ${text}`);
    const node = cursor.node;
    parent = node.parent?.name ?? "";
    if (cursor.name === "Identifier" && parent === "VectorSelector") {
      metrics.push(text.slice(cursor.from, cursor.to));
    }
    if (cursor.name === "LabelName") labels.push(text.slice(cursor.from, cursor.to));
  } while (cursor.next());
  return { metrics, labels };
}

/** Runs `args` (stdin: `input`) until `ready(samples)`; returns the samples and ends the run. */
async function served(
  args: string[],
  input: string,
  ready: (samples: LabelledSample[]) => boolean,
): Promise<LabelledSample[]> {
  const port = freePort();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args, "--metrics", String(port)],
    stdin: "piped",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(input));
  let samples: LabelledSample[] = [];
  for (let tries = 0; tries < 150 && !ready(samples); tries++) {
    await new Promise((r) => setTimeout(r, 200));
    samples = await scrapeLabelled(port).catch(() => []);
  }
  await writer.close();
  const out = await child.output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  assert.ok(ready(samples), JSON.stringify(samples));
  return samples;
}

Deno.test("the Grafana dashboard's queries parse as PromQL and use only metrics edgepipe serves", async () => {
  const dashboard = JSON.parse(await Deno.readTextFile(DASHBOARD));
  assert.ok(dashboard.schemaVersion >= 36, `schemaVersion ${dashboard.schemaVersion}`);
  const variables: Variable[] = dashboard.templating.list;
  const datasource = variables.find((v) => v.type === "datasource");
  assert.equal(datasource?.query, "prometheus");
  const uid = `\${${datasource!.name}}`;
  const panels: Panel[] = dashboard.panels.filter((p: Panel) => p.type !== "row");
  assert.ok(panels.length >= 8, `${panels.length} panels`);
  const used = { metrics: new Set<string>(), labels: new Set<string>() };
  const add = (expr: string) => {
    const names = namesIn(expr);
    assert.ok(names.metrics.length > 0, `no metric in: ${expr}`);
    names.metrics.forEach((m) => used.metrics.add(m));
    names.labels.forEach((l) => used.labels.add(l));
  };
  for (const panel of panels) {
    assert.equal(panel.datasource?.uid, uid, panel.title);
    assert.ok(panel.targets?.length, `${panel.title}: no queries`);
    for (const target of panel.targets!) {
      assert.equal(target.datasource?.uid, uid, panel.title);
      add(target.expr);
    }
  }
  // The query variables' selectors, as in label_values(<selector>, <label>).
  for (const v of variables.filter((v) => v.type === "query")) {
    const text = typeof v.query === "string" ? v.query : v.query.query;
    const m = /^label_values\((.+),\s*(\w+)\)$/.exec(text);
    assert.ok(m, `${v.name}: ${text}`);
    add(m[1]);
    used.labels.add(m[2]);
  }
  // The latency quantiles the issue asks for are there.
  for (const histogram of ["edgepipe_delivery_seconds", "edgepipe_score_batch_seconds"]) {
    const quantiles = panels.flatMap((p) => p.targets!).filter((t) =>
      t.expr.startsWith("histogram_quantile(") && t.expr.includes(`${histogram}_bucket`)
    );
    assert.ok(quantiles.length >= 2, `quantiles of ${histogram}`);
  }

  // What the commands serve: a run over filter → score → stdout, and a buffered sink.
  const lines = (await Deno.readTextFile(FLIGHTS)).trim().split("\n").slice(0, 200);
  const kept = lines.filter((l) => JSON.parse(l).value.delay > 15).length;
  const dir = await Deno.makeTempDir({ prefix: "edgepipe-grafana-" });
  const pipeline = join(dir, "p.yaml");
  await Deno.writeTextFile(
    pipeline,
    [
      "source: { stdin: {} }",
      "stages:",
      "  - filter: event.value.delay > 15.0",
      `  - score: { model: '${MODEL}' }`,
      "sink: stdout",
      "",
    ].join("\n"),
  );
  const input = lines.join("\n") + "\n";
  const count = (samples: LabelledSample[], name: string) =>
    samples.filter((s) => s.name === name).reduce((a, s) => a + s.value, 0);
  const fromRun = await served(
    ["run", pipeline],
    input,
    (s) => count(s, "edgepipe_delivery_seconds_count") === kept,
  );
  const fromSink = await served(
    ["sink", "file", join(dir, "out") + "/", "--buffer-dir", join(dir, "buffer")],
    input,
    (s) => count(s, "edgepipe_events_in_total") === lines.length,
  );
  const all = [...fromRun, ...fromSink];
  const servedNames = new Set(all.map((s) => s.name));
  const servedLabels = new Set(all.flatMap((s) => Object.keys(s.labels)));
  for (const name of used.metrics) {
    assert.ok(servedNames.has(name), `the dashboard uses ${name}, which no command serves`);
  }
  // `instance` is the label Prometheus adds to every scraped target.
  for (const label of used.labels) {
    if (label === "instance") continue;
    assert.ok(servedLabels.has(label), `the dashboard uses label ${label}, which nothing carries`);
  }
  await Deno.remove(dir, { recursive: true });
});
