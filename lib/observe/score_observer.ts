/**
 * Metrics and a stats line for `score`: events in and out, acknowledgements passed on, and each
 * model run's rows and duration as histograms.
 *
 * @module
 */
import { type AckRecord, isControl, type Item } from "../envelope.ts";
import { reportClientStatus } from "./client_status_log.ts";
import { type Histogram, Metrics } from "./metrics.ts";
import { serveMetrics, type ServeOptions } from "./serve_metrics.ts";
import { StatsLine } from "./stats_line.ts";

/** Row buckets of a model run: powers of two up to 4096. */
const ROW_BUCKETS = Array.from({ length: 13 }, (_, i) => 2 ** i);

/** What `score` counts, and how to stop. */
export interface ScoreObserver {
  metrics: Metrics;
  /** Counts the input as it is read. */
  input<T extends Item | readonly Item[]>(items: AsyncIterable<T>): AsyncIterable<T>;
  /** Counts one emitted batch. */
  output(batch: readonly Item[]): void;
  /** For `scoreBatches`' `onBatch`. */
  onBatch(rows: number, seconds: number): void;
  stop(): Promise<void>;
}

/**
 * Starts serving (with a port) and printing (with `stats`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { observeScore } from "./score_observer.ts";
 * const observer = observeScore({});
 * observer.onBatch(3, 0.002);
 * observer.output([{ value: 1 }, { $edgepipe: "ack", ids: ["a"] }]);
 * await observer.stop();
 * const text = observer.metrics.render();
 * assert.ok(text.includes('edgepipe_score_batch_rows_bucket{command="score",le="4"} 1'));
 * assert.ok(text.includes('edgepipe_acks_total{command="score"} 1'));
 * ```
 */
export function observeScore(
  options: ServeOptions,
): ScoreObserver {
  const metrics = new Metrics("score");
  reportClientStatus("score", metrics);
  const eventsIn = metrics.counter("events_in_total", "Events read from stdin");
  const eventsOut = metrics.counter("events_out_total", "Events written to stdout");
  const acks = metrics.counter("acks_total", "Source ids acknowledged in-band (skipped events)");
  const { rows, onBatch } = scoreBatchHistograms(metrics);
  const stopServer = options.metricsPort === undefined
    ? undefined
    : serveMetrics(metrics, options.metricsPort, options.onListen);
  const stats = options.stats
    ? new StatsLine("score", {
      in: () => eventsIn.value,
      out: () => eventsOut.value,
      acks: () => acks.value,
      batches: () => rows.count,
    })
    : undefined;
  const count = (item: Item) => {
    if (!isControl(item)) eventsIn.inc();
  };
  return {
    metrics,
    async *input(items) {
      for await (const chunk of items) {
        if (Array.isArray(chunk)) (chunk as readonly Item[]).forEach(count);
        else count(chunk as Item);
        yield chunk;
      }
    },
    output(batch) {
      for (const item of batch) {
        if (!isControl(item)) eventsOut.inc();
        else if (item.$edgepipe === "ack") acks.inc((item as AckRecord).ids.length);
      }
    },
    onBatch,
    async stop() {
      stats?.stop();
      await stopServer?.();
    },
  };
}

/** Each model run's rows and duration as histograms in `metrics`, and the `onBatch` that fills them. */
export function scoreBatchHistograms(
  metrics: Metrics,
): { rows: Histogram; onBatch: (rows: number, seconds: number) => void } {
  const rows = metrics.histogram("score_batch_rows", "Rows per model run", ROW_BUCKETS);
  const seconds = metrics.histogram("score_batch_seconds", "Duration of one model run");
  return {
    rows,
    onBatch(n, s) {
      rows.observe(n);
      seconds.observe(s);
    },
  };
}
