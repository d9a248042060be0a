/**
 * Metrics of a stateful stage's state: open windows and keys, how far the watermark trails the
 * wall clock, late events, and how long checkpoints take and how large they are. The stage
 * reports through {@linkcode StateObserver}; {@linkcode StateMetrics} turns that into
 * `edgepipe_window_open_windows`, `edgepipe_window_keys`, `edgepipe_watermark_lag_seconds`,
 * `edgepipe_late_events_total`, `edgepipe_checkpoint_seconds` and `edgepipe_checkpoint_bytes`.
 *
 * @module
 */
import type { Counter, Gauge, Histogram, Metrics } from "./metrics.ts";
import type { StateObserver, StateSample } from "./state_observer.ts";

export type { StateObserver, StateSample } from "./state_observer.ts";

/** Checkpoint durations: 1 ms to 30 s. */
const CHECKPOINT_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10, 30];

/**
 * A {@linkcode StateObserver} whose reports land in a command's metrics once
 * {@linkcode StateMetrics.register} was called (reports before are not counted).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Metrics } from "./metrics.ts";
 * import { StateMetrics } from "./state_metrics.ts";
 * const state = new StateMetrics();
 * const metrics = new Metrics("window");
 * state.register(metrics, { windows: true });
 * state.watch(() => ({ watermark: Date.now() - 60_000, windows: 3, keys: 2 }));
 * state.late();
 * state.checkpointed(0.02, 512);
 * const text = metrics.render();
 * assert.ok(text.includes('edgepipe_window_open_windows{command="window"} 3'));
 * assert.ok(text.includes('edgepipe_late_events_total{command="window"} 1'));
 * assert.ok(text.includes('edgepipe_checkpoint_bytes{command="window"} 512'));
 * ```
 */
export class StateMetrics implements StateObserver {
  readonly #samples: (() => StateSample)[] = [];
  #late?: Counter;
  #seconds?: Histogram;
  #bytes?: Gauge;

  /** Adds the families to `metrics`; `windows` adds the window and watermark gauges as well. */
  register(metrics: Metrics, options: { windows?: boolean } = {}): void {
    const sum = (field: "windows" | "keys") => () =>
      this.#samples.reduce((n, sample) => n + (sample()[field] ?? 0), 0);
    if (options.windows) {
      metrics.gauge("window_open_windows", "Windows open in the state", sum("windows"));
      metrics.gauge("window_keys", "Keys held in the window state", sum("keys"));
      metrics.gauge(
        "watermark_lag_seconds",
        "Wall clock minus the event-time watermark (the lowest one of the stage; NaN before one)",
        () => this.#watermarkLag(),
      );
    }
    this.#late = metrics.counter(
      "late_events_total",
      "Events too late for any state (dropped, dead-lettered or emitted as late)",
    );
    this.#seconds = metrics.histogram(
      "checkpoint_seconds",
      "Time from a checkpoint's snapshot until it is durable",
      CHECKPOINT_BUCKETS,
    );
    this.#bytes = metrics.gauge("checkpoint_bytes", "Size of the last checkpoint written");
  }

  watch(sample: () => StateSample): void {
    this.#samples.push(sample);
  }

  late(): void {
    this.#late?.inc();
  }

  checkpointed(seconds: number, bytes: number): void {
    this.#seconds?.observe(seconds);
    this.#bytes?.set(bytes);
  }

  #watermarkLag(): number {
    const marks = this.#samples.map((s) => s().watermark).filter(Number.isFinite);
    if (marks.length === 0) return NaN;
    return Math.max(0, (Date.now() - Math.min(...marks)) / 1000);
  }
}
