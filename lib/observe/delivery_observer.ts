/**
 * Metrics and a stats line for the terminal stages (`sink`, `route`): events read, delivered,
 * acknowledged to their source, rejected by outcome, and how long each event took from being read
 * to being confirmed by the destination (a histogram) — counted through the delivery loop's
 * {@linkcode DeliveryObserver} hooks, so each terminal command gets the same `--metrics <port>`
 * and `--stats`.
 *
 * @module
 */
import type { Envelope } from "../envelope.ts";
import type { DeliveryObserver } from "../delivery/terminal.ts";
import { reportClientStatus } from "./client_status_log.ts";
import { Metrics } from "./metrics.ts";
import { serveMetrics, type ServeOptions } from "./serve_metrics.ts";
import { type StatsFields, StatsLine } from "./stats_line.ts";

/** What to observe a terminal stage with. */
export type DeliveryObserveOptions = ServeOptions;

/** The hooks to give `deliverAll`, the registry (to add gauges to), and how to stop. */
export interface ObservedDelivery {
  observer: DeliveryObserver;
  metrics: Metrics;
  /** Adds a gauge to the metrics and, with `--stats`, to the line (read when shown). */
  gauge(name: string, help: string, statsLabel: string, read: () => number): void;
  /** Starts serving and printing (after the gauges are added). */
  start(): void;
  stop(): Promise<void>;
}

/**
 * Counts what a terminal stage delivers.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { observeDelivery } from "./delivery_observer.ts";
 * const observed = observeDelivery("sink file", {});
 * observed.start();
 * const event = { id: "e1", value: 1 };
 * observed.observer.received!(event);
 * observed.observer.delivered!(event);
 * await observed.stop();
 * const text = observed.metrics.render();
 * assert.ok(text.includes('edgepipe_events_out_total{command="sink file"} 1'));
 * assert.ok(text.includes('edgepipe_delivery_seconds_count{command="sink file"} 1'));
 * ```
 */
export function observeDelivery(
  command: string,
  options: DeliveryObserveOptions,
): ObservedDelivery {
  const metrics = new Metrics(command);
  reportClientStatus(command.split(" ")[0], metrics);
  const { observer, fields } = countDelivery(metrics);
  let stopServer: (() => Promise<void>) | undefined;
  let stats: StatsLine | undefined;
  return {
    metrics,
    observer,
    gauge(name, help, statsLabel, read) {
      metrics.gauge(name, help, read);
      fields[statsLabel] = read;
    },
    start() {
      if (options.metricsPort !== undefined) {
        stopServer = serveMetrics(metrics, options.metricsPort, options.onListen);
      }
      if (options.stats) stats = new StatsLine(command, fields);
    },
    async stop() {
      stats?.stop();
      await stopServer?.();
    },
  };
}

/**
 * The delivery loop's hooks, counting into `metrics` (events read and confirmed, acks, errors by
 * outcome, delivery time), and the fields of a stats line over them.
 */
export function countDelivery(
  metrics: Metrics,
): { observer: DeliveryObserver; fields: StatsFields } {
  const eventsIn = metrics.counter("events_in_total", "Events read from stdin");
  const eventsOut = metrics.counter("events_out_total", "Events the destination confirmed");
  const acks = metrics.counter("acks_total", "Source ids reported back over the ack channel");
  const outcomes = {
    skipped: metrics.counter("errors_total", "Events the destination rejected, by outcome", {
      outcome: "skipped",
    }),
    "dead-lettered": metrics.counter("errors_total", "", { outcome: "dead-lettered" }),
    failed: metrics.counter("errors_total", "", { outcome: "failed" }),
  };
  const latency = metrics.histogram(
    "delivery_seconds",
    "From reading an event to the destination confirming it",
  );
  const readAt = new WeakMap<Envelope, number>();
  return {
    observer: {
      received(event) {
        eventsIn.inc();
        readAt.set(event, performance.now());
      },
      delivered(event) {
        eventsOut.inc();
        const at = readAt.get(event);
        if (at !== undefined) latency.observe((performance.now() - at) / 1000);
      },
      rejected(_event, _error, outcome) {
        outcomes[outcome].inc();
      },
      acknowledged(count) {
        acks.inc(count);
      },
    },
    fields: { in: () => eventsIn.value, out: () => eventsOut.value, acks: () => acks.value },
  };
}
