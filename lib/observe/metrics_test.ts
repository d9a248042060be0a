import assert from "node:assert/strict";
import { Metrics } from "./metrics.ts";
import { parseMetricsPort, serveMetrics } from "./serve_metrics.ts";
import { StatsLine } from "./stats_line.ts";

Deno.test("Metrics renders counters with labels and sampled gauges in Prometheus text", () => {
  const metrics = new Metrics("consume");
  const acks = metrics.counter("acks_total", "Messages acknowledged");
  const errs = metrics.counter("errors_total", "Errors", { kind: 'bad "line"' });
  let backlog = 7;
  metrics.gauge("backlog", "Messages not yet acknowledged", () => backlog);
  acks.inc();
  acks.inc(41);
  errs.inc();
  backlog = 9;
  assert.equal(
    metrics.render(),
    [
      "# HELP edgepipe_acks_total Messages acknowledged",
      "# TYPE edgepipe_acks_total counter",
      'edgepipe_acks_total{command="consume"} 42',
      "# HELP edgepipe_errors_total Errors",
      "# TYPE edgepipe_errors_total counter",
      'edgepipe_errors_total{command="consume",kind="bad \\"line\\""} 1',
      "# HELP edgepipe_backlog Messages not yet acknowledged",
      "# TYPE edgepipe_backlog gauge",
      'edgepipe_backlog{command="consume"} 9',
      "",
    ].join("\n"),
  );
});

Deno.test("serveMetrics answers on loopback and 404s elsewhere; bad ports are usage errors", async () => {
  const metrics = new Metrics("produce");
  metrics.counter("events_in_total", "Events read").inc(3);
  let port = 0;
  const stop = serveMetrics(metrics, 0, (p) => (port = p));
  try {
    while (port === 0) await new Promise((r) => setTimeout(r, 5));
    const ok = await fetch(`http://127.0.0.1:${port}/metrics`);
    assert.equal(ok.status, 200);
    assert.match(await ok.text(), /edgepipe_events_in_total\{command="produce"\} 3/);
    const missing = await fetch(`http://127.0.0.1:${port}/nope`);
    assert.equal(missing.status, 404);
    await missing.body?.cancel();
  } finally {
    await stop();
  }
  assert.throws(() => parseMetricsPort("http"), /--metrics: expected a port number, got 'http'/);
  assert.throws(() => parseMetricsPort("70000"), /--metrics/);
});

Deno.test("StatsLine prints counts and a final line on stop", () => {
  let out = 0;
  const lines: string[] = [];
  const stats = new StatsLine("replay", { out: () => out, errors: () => 0 }, 60_000, (l) => {
    lines.push(l);
  });
  out = 10;
  stats.stop();
  stats.stop();
  assert.equal(lines.length, 1);
  assert.match(lines[0], /^edgepipe replay: out=10 \([\d.k]+\/s\) errors=0$/);
});
