/**
 * consume's `edgepipe_consumer_backlog_messages`, scraped with prometheus_client while it holds
 * messages it was never told are delivered, equals the backlog the broker's own admin API reports
 * for the subscription (read here with plain `fetch`, precise), and the messages left after a
 * first consume acknowledged part of the topic.
 */
import assert from "node:assert/strict";
import { pulsarUrls } from "../harness/pulsar.ts";
import { runEdgepipe, startEdgepipe } from "../harness/edgepipe.ts";
import { freePort, scrape } from "../harness/prometheus.ts";
import { backlogOf } from "../harness/topic_stats.ts";

const integration = { sanitizeOps: false, sanitizeResources: false };
const { serviceUrl, adminUrl } = await pulsarUrls();
const env = { PULSAR_SERVICE_URL: serviceUrl, PULSAR_ADMIN_URL: adminUrl, NO_COLOR: "1" };
const PRODUCED = 40;
const FIRST = 15;

Deno.test({
  name: "consume --metrics: the backlog gauge equals the admin API's msgBacklog",
  ...integration,
  async fn() {
    const topic = `persistent://public/default/backlog-metric-${crypto.randomUUID().slice(0, 8)}`;
    const lines = Array.from({ length: PRODUCED }, (_, n) => JSON.stringify({ n })).join("\n");
    // One message per entry: the broker's backlog counts entries unless asked for precision.
    const produced = await runEdgepipe(["produce", topic, "--batching", "off"], {
      env,
      stdin: lines + "\n",
    });
    assert.equal(produced.code, 0, produced.stderr);
    // A first consume acknowledges FIRST of them (on write) and stops.
    const first = await runEdgepipe(
      ["consume", topic, "-s", "lag", "-c", `${FIRST}`, "--ack", "on-write"],
      { env },
    );
    assert.equal(first.code, 0, first.stderr);
    assert.equal(await backlogOf(adminUrl, topic, "lag"), PRODUCED - FIRST);

    // Into a pipe nobody reports on (--ack downstream): the rest is received and held.
    const port = freePort();
    const held = startEdgepipe(
      ["consume", topic, "-s", "lag", "--ack", "downstream", "--metrics", `${port}`],
      env,
    );
    try {
      let metrics: Record<string, number | null> = {};
      for (let tries = 0; tries < 100; tries++) {
        await new Promise((r) => setTimeout(r, 200));
        metrics = await scrape(port).catch(() => ({}));
        if (
          metrics.edgepipe_events_out_total === PRODUCED - FIRST &&
          typeof metrics.edgepipe_consumer_backlog_messages === "number"
        ) break;
      }
      const broker = await backlogOf(adminUrl, topic, "lag");
      assert.equal(metrics.edgepipe_events_out_total, PRODUCED - FIRST, JSON.stringify(metrics));
      assert.equal(broker, PRODUCED - FIRST, "nothing was acknowledged meanwhile");
      assert.equal(metrics.edgepipe_consumer_backlog_messages, broker);
      assert.equal(metrics.edgepipe_subscription_backlog, broker, "the earlier name, same value");
    } finally {
      held.child.kill("SIGTERM");
      await held.exited;
      await held.child.stdout.cancel().catch(() => {});
      await held.stderr;
    }
  },
});
