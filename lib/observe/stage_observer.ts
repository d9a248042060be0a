/**
 * Metrics and a stats line for any stage: events in and out, acknowledgements passed on, and how
 * far behind the wall clock the newest event time is — counted around the stage, so every stage
 * command gets the same `--metrics <port>` and `--stats` without code of its own.
 *
 * @module
 */
import { type AckRecord, isControl, type Item } from "../envelope.ts";
import type { Stage } from "../stages/types.ts";
import { reportClientStatus } from "./client_status_log.ts";
import { Metrics } from "./metrics.ts";
import { serveMetrics, type ServeOptions } from "./serve_metrics.ts";
import { type StatsFields, StatsLine } from "./stats_line.ts";

/** What to observe a stage with. */
export interface ObserveOptions extends ServeOptions {
  /** Adds the stage's own metrics (say, its state's) before the endpoint opens. */
  extend?: (metrics: Metrics) => void;
}

/** A stage with its counters, and how to stop observing it. */
export interface ObservedStage {
  stage: Stage;
  metrics: Metrics;
  stop(): Promise<void>;
}

/**
 * Wraps `stage` so that what goes through it is counted.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { observeStage } from "./stage_observer.ts";
 * const { stage, metrics, stop } = observeStage("map", async function* (input) {
 *   for await (const item of input) yield item;
 * }, {});
 * await Array.fromAsync(stage(ReadableStream.from([{ value: 1 }, { value: 2 }])));
 * await stop();
 * assert.match(metrics.render(), /edgepipe_events_in_total\{command="map"\} 2/);
 * ```
 */
export function observeStage(name: string, stage: Stage, options: ObserveOptions): ObservedStage {
  const metrics = new Metrics(name);
  reportClientStatus(name, metrics);
  options.extend?.(metrics);
  const counted = countStage(stage, metrics);
  const stopServer = options.metricsPort === undefined
    ? undefined
    : serveMetrics(metrics, options.metricsPort, options.onListen);
  const stats = options.stats ? new StatsLine(name, counted.fields) : undefined;
  return {
    stage: counted.stage,
    metrics,
    async stop() {
      stats?.stop();
      await stopServer?.();
    },
  };
}

/** A stage that counts into a registry, and the fields of its stats line. */
export interface CountedStage {
  stage: Stage;
  fields: StatsFields;
}

/**
 * Wraps `stage` so that what goes through it is counted in `metrics` (events in and out, acks,
 * control records, event-time lag); serving and printing are the caller's.
 */
export function countStage(stage: Stage, metrics: Metrics): CountedStage {
  const eventsIn = metrics.counter("events_in_total", "Events read from stdin");
  const eventsOut = metrics.counter("events_out_total", "Events written to stdout");
  const acks = metrics.counter("acks_total", "Source ids acknowledged in-band (dropped, absorbed)");
  const controls = metrics.counter("control_records_total", "Control records passed on");
  let newest = -Infinity;
  metrics.gauge(
    "event_time_lag_seconds",
    "Wall clock minus the newest event time seen (0 before the first event)",
    () => Number.isFinite(newest) ? Math.max(0, (Date.now() - newest) / 1000) : 0,
  );
  async function* counted(input: AsyncIterable<Item>): AsyncGenerator<Item> {
    for await (const item of input) {
      if (!isControl(item)) {
        eventsIn.inc();
        const t = item.eventTime;
        if (typeof t === "number" && t > newest) newest = t;
      }
      yield item;
    }
  }
  const observed: Stage = async function* (input) {
    for await (const item of stage(counted(input))) {
      if (!isControl(item)) eventsOut.inc();
      else if (item.$edgepipe === "ack") acks.inc((item as AckRecord).ids.length);
      else controls.inc();
      yield item;
    }
  };
  return {
    stage: observed,
    fields: { in: () => eventsIn.value, out: () => eventsOut.value, acks: () => acks.value },
  };
}
