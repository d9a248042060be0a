/**
 * What `consume` counts and shows: its metrics (`--metrics`), the stats line (`--stats`) and the
 * subscription backlog read from the admin API (`--admin-url`).
 *
 * @module
 */
import { reportClientStatus } from "../lib/observe/client_status_log.ts";
import { Metrics } from "../lib/observe/metrics.ts";
import { serveMetrics } from "../lib/observe/serve_metrics.ts";
import { StatsLine } from "../lib/observe/stats_line.ts";
import { PulsarAdmin } from "../lib/pulsar/mod.ts";
import { BacklogPoller } from "../lib/sources/consume/backlog_poll.ts";
import type { ConsumeObserver } from "../lib/sources/consume/consume_session.ts";
import {
  adminOptions,
  adminUrlOf,
  type ConnectionFlagValues,
} from "../lib/sources/pulsar_connect.ts";

/** What {@linkcode observeConsume} needs of consume's flags. */
export interface ConsumeObserveOptions {
  values: ConnectionFlagValues & { "admin-url"?: string; stats?: boolean };
  topics: string[];
  subscription?: string;
  pattern?: string;
  metricsPort?: number;
}

/** Metrics, the stats line and the backlog poll; `stop` prints the last stats line. */
export async function observeConsume(
  parsed: ConsumeObserveOptions,
  log: (message: string) => void,
) {
  const { values } = parsed;
  const o = parsed;
  const metrics = new Metrics("consume");
  reportClientStatus("consume", metrics, log);
  const received = metrics.counter("events_in_total", "Messages received from the broker");
  const written = metrics.counter("events_out_total", "Envelopes written to stdout");
  const acked = metrics.counter("acks_total", "Messages acknowledged at the broker");
  const errors = metrics.counter("errors_total", "Messages that could not be decoded");
  metrics.gauge(
    "unacknowledged",
    "Messages written and not yet acknowledged (the pipeline's lag behind this source)",
    () => written.value - acked.value,
  );
  const adminUrl = await adminUrlOf(values);
  const watchBacklog = adminUrl !== undefined && o.subscription !== undefined &&
    o.pattern === undefined && (values.stats || parsed.metricsPort !== undefined);
  const backlog = watchBacklog
    ? metrics.gauge(
      "consumer_backlog_messages",
      "The subscription's backlog at the broker (msgBacklog of its admin API topic stats)",
    )
    : undefined;
  backlog?.set(NaN); // unknown until the first poll answers
  // The earlier name, kept for dashboards that use it.
  if (backlog) {
    metrics.gauge(
      "subscription_backlog",
      "Deprecated: consumer_backlog_messages",
      () => backlog.value,
    );
  }
  let poller: BacklogPoller | undefined;
  const stopMetrics = parsed.metricsPort === undefined
    ? undefined
    : serveMetrics(metrics, parsed.metricsPort, undefined, () =>
      poller?.refresh() ?? Promise.resolve());
  const stats = values.stats
    ? new StatsLine("consume", {
      in: () => received.value,
      out: () => written.value,
      acked: () => acked.value,
      errors: () => errors.value,
      ...(backlog ? { backlog: () => backlog.value } : {}),
    })
    : undefined;
  const admin = backlog ? new PulsarAdmin(await adminOptions(adminUrl!, values)) : undefined;
  return {
    /** Reads the backlog from now on (on a timer for --stats): once the subscription exists. */
    startBacklog() {
      if (!admin || poller) return;
      poller = new BacklogPoller(admin, o.topics, o.subscription!, (n) => backlog!.set(n), log, {
        periodic: values.stats,
      });
    },
    written,
    unacknowledged: () => written.value - acked.value,
    observer: {
      received: () => received.inc(),
      acknowledged: () => acked.inc(),
      undecodable: () => errors.inc(),
    } satisfies ConsumeObserver,
    async stop() {
      await poller?.stop();
      stats?.stop();
      await stopMetrics?.();
    },
  };
}
