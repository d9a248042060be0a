/**
 * `edgepipe run --metrics <port>` and `--stats`: every part of a pipeline counted the way its own
 * command counts it (the source as `replay`/`consume` do, each stage as its stage command, the
 * sink as `sink`/`route`), all served from one endpoint. Each sample carries
 * `stage="<index>:<kind>"` beside `command="run"`: the source is stage 0, the stages follow from 1
 * in file order, and the sink is last (`0:replay`, `1:filter`, `2:score`, `3:sink`).
 *
 * @module
 */
import { isControl, type Item } from "../envelope.ts";
import type { DeliveryObserver } from "../delivery/terminal.ts";
import type { Stage } from "../stages/types.ts";
import { countDelivery } from "./delivery_observer.ts";
import { Metrics, MetricsSet } from "./metrics.ts";
import { serveMetrics, type ServeOptions } from "./serve_metrics.ts";
import { countStage } from "./stage_observer.ts";
import { type StatsFields, StatsLine } from "./stats_line.ts";

/** What to observe a pipeline with. */
export interface PipelineObserveOptions extends ServeOptions {
  /** Where stats lines go (default stderr). */
  print?: (line: string) => void;
}

/**
 * Counts each part of a pipeline into its own registry, labelled with the part's stage.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PipelineObserver } from "./pipeline_observer.ts";
 * const observer = new PipelineObserver({});
 * const stage = observer.stage("1:map", async function* (input) {
 *   for await (const item of input) yield item;
 * });
 * await Array.fromAsync(stage(ReadableStream.from([{ value: 1 }, { value: 2 }])));
 * await observer.stop();
 * assert.match(observer.render(), /edgepipe_events_out_total\{command="run",stage="1:map"\} 2/);
 * ```
 */
export class PipelineObserver {
  readonly #options: PipelineObserveOptions;
  readonly #set = new MetricsSet();
  readonly #registries = new Map<string, Metrics>();
  readonly #fields: [string, StatsFields][] = [];
  readonly #stats: StatsLine[] = [];
  #stopServer?: () => Promise<void>;

  constructor(options: PipelineObserveOptions) {
    this.#options = options;
  }

  /** The registry of one part (`"2:score"`), made on first use. */
  metricsFor(label: string): Metrics {
    let metrics = this.#registries.get(label);
    if (!metrics) {
      metrics = this.#set.add(new Metrics("run", { stage: label }));
      this.#registries.set(label, metrics);
    }
    return metrics;
  }

  /** Counts what the source emits: events out, control records, event-time lag. */
  source(label: string, items: AsyncIterable<Item>): AsyncIterable<Item> {
    const metrics = this.metricsFor(label);
    const eventsOut = metrics.counter("events_out_total", "Events the source emitted");
    const controls = metrics.counter("control_records_total", "Control records passed on");
    let newest = -Infinity;
    metrics.gauge(
      "event_time_lag_seconds",
      "Wall clock minus the newest event time seen (0 before the first event)",
      () => Number.isFinite(newest) ? Math.max(0, (Date.now() - newest) / 1000) : 0,
    );
    this.#fields.push([label, { out: () => eventsOut.value }]);
    return (async function* () {
      for await (const item of items) {
        if (isControl(item)) controls.inc();
        else {
          eventsOut.inc();
          const t = item.eventTime;
          if (typeof t === "number" && t > newest) newest = t;
        }
        yield item;
      }
    })();
  }

  /** Wraps a stage: events in and out, acks passed on, control records, event-time lag. */
  stage(label: string, stage: Stage): Stage {
    const counted = countStage(stage, this.metricsFor(label));
    this.#fields.push([label, counted.fields]);
    return counted.stage;
  }

  /** The terminal delivery's hooks: events in and delivered, acks, errors, delivery time. */
  delivery(label: string): DeliveryObserver {
    const counted = countDelivery(this.metricsFor(label));
    this.#fields.push([label, counted.fields]);
    return counted.observer;
  }

  /** Every part's samples, one family at a time. */
  render(): string {
    return this.#set.render();
  }

  /** Starts serving and printing, once every part is counted. */
  start(): void {
    const { metricsPort, stats, onListen, print } = this.#options;
    if (metricsPort !== undefined) this.#stopServer = serveMetrics(this, metricsPort, onListen);
    if (stats) {
      for (const [label, fields] of this.#fields) {
        this.#stats.push(new StatsLine(`run ${label}`, fields, 5000, print));
      }
    }
  }

  /** Prints the final stats lines (in pipeline order) and stops serving. */
  async stop(): Promise<void> {
    for (const line of this.#stats) line.stop();
    await this.#stopServer?.();
  }
}
