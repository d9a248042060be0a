/**
 * A small metrics registry: counters, gauges and histograms with fixed labels, rendered in the
 * Prometheus text exposition format. Cheap enough to bump once per event.
 *
 * @module
 */

/** One metric family. */
interface Family {
  name: string;
  help: string;
  type: "counter" | "gauge" | "histogram";
  values: Map<string, number>;
  /** A histogram's upper bounds (ascending), per-bucket counts (the last is +Inf), sum. */
  histogram?: { bounds: number[]; counts: number[]; sum: number };
  /** Read at render time, for gauges that are cheaper to sample than to track. */
  sample?: () => number;
}

/** A monotonically increasing count. */
export interface Counter {
  inc(by?: number): void;
  readonly value: number;
}

/** A value that goes up and down. */
export interface Gauge {
  set(value: number): void;
  readonly value: number;
}

/** Observations counted into buckets (Prometheus `_bucket`, `_sum`, `_count`). */
export interface Histogram {
  observe(value: number): void;
  /** Observations so far. */
  readonly count: number;
}

/** Default buckets for durations in seconds: 1 ms to 10 s. */
export const SECONDS_BUCKETS = [
  0.001,
  0.0025,
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  10,
];

/**
 * Holds the metrics of one command.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Metrics } from "./metrics.ts";
 * const metrics = new Metrics("consume");
 * const events = metrics.counter("events_out_total", "Events written to stdout");
 * events.inc(3);
 * assert.ok(metrics.render().includes('edgepipe_events_out_total{command="consume"} 3'));
 * ```
 */
export class Metrics {
  readonly command: string;
  /** Labels on every sample besides `command` (in `run`: the stage). */
  readonly labels: Readonly<Record<string, string>>;
  readonly #families = new Map<string, Family>();

  constructor(command: string, labels: Record<string, string> = {}) {
    this.command = command;
    this.labels = labels;
  }

  /** A counter named `edgepipe_<name>`, with optional extra labels. */
  counter(name: string, help: string, labels: Record<string, string> = {}): Counter {
    const family = this.#family(name, help, "counter");
    const key = this.#labels(labels);
    family.values.set(key, family.values.get(key) ?? 0);
    return {
      inc: (by = 1) => family.values.set(key, family.values.get(key)! + by),
      get value() {
        return family.values.get(key)!;
      },
    };
  }

  /** A gauge named `edgepipe_<name>`; `sample` makes it read its value at render time. */
  gauge(name: string, help: string, sample?: () => number): Gauge {
    const family = this.#family(name, help, "gauge");
    family.sample = sample;
    const key = this.#labels({});
    family.values.set(key, 0);
    return {
      set: (value) => family.values.set(key, value),
      get value() {
        return sample ? sample() : family.values.get(key)!;
      },
    };
  }

  /**
   * A histogram named `edgepipe_<name>` with upper bounds `bounds` (ascending; +Inf is added).
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Metrics } from "./metrics.ts";
   * const metrics = new Metrics("score");
   * const sizes = metrics.histogram("batch_size", "Events per scored batch", [1, 10, 100]);
   * for (const n of [1, 5, 50, 500]) sizes.observe(n);
   * const text = metrics.render();
   * assert.ok(text.includes('edgepipe_batch_size_bucket{command="score",le="10"} 2'));
   * assert.ok(text.includes('edgepipe_batch_size_bucket{command="score",le="+Inf"} 4'));
   * assert.ok(text.includes('edgepipe_batch_size_sum{command="score"} 556'));
   * ```
   */
  histogram(name: string, help: string, bounds: number[] = SECONDS_BUCKETS): Histogram {
    const family = this.#family(name, help, "histogram");
    const h = family.histogram ??= { bounds, counts: new Array(bounds.length + 1).fill(0), sum: 0 };
    return {
      observe(value: number) {
        let i = 0;
        while (i < h.bounds.length && value > h.bounds[i]) i++;
        h.counts[i]++;
        h.sum += value;
      },
      get count() {
        return h.counts.reduce((a, b) => a + b, 0);
      },
    };
  }

  /** The Prometheus text format. */
  render(): string {
    return renderFamilies(this.families());
  }

  /** Each family's name (with `edgepipe_`), help, type and sample lines, in creation order. */
  families(): RenderedFamily[] {
    return [...this.#families.values()].map((family) => {
      const name = `edgepipe_${family.name}`;
      const samples: string[] = [];
      if (family.histogram) this.#renderHistogram(name, family.histogram, samples);
      else {
        for (const [labels, value] of family.values) {
          const shown = family.sample ? family.sample() : value;
          samples.push(`${name}{${labels}} ${Number.isFinite(shown) ? shown : "NaN"}`);
        }
      }
      return { name, help: family.help, type: family.type, samples };
    });
  }

  #renderHistogram(name: string, h: NonNullable<Family["histogram"]>, out: string[]): void {
    const labels = this.#labels({});
    let cumulative = 0;
    h.bounds.forEach((bound, i) => {
      cumulative += h.counts[i];
      out.push(`${name}_bucket{${labels},le="${bound}"} ${cumulative}`);
    });
    cumulative += h.counts[h.bounds.length];
    out.push(
      `${name}_bucket{${labels},le="+Inf"} ${cumulative}`,
      `${name}_sum{${labels}} ${h.sum}`,
      `${name}_count{${labels}} ${cumulative}`,
    );
  }

  #family(name: string, help: string, type: Family["type"]): Family {
    let family = this.#families.get(name);
    if (!family) {
      family = { name, help, type, values: new Map() };
      this.#families.set(name, family);
    }
    return family;
  }

  #labels(extra: Record<string, string>): string {
    return Object.entries({ command: this.command, ...this.labels, ...extra })
      .map(([k, v]) => `${k}="${v.replace(/[\\"\n]/g, (c) => (c === "\n" ? "\\n" : `\\${c}`))}"`)
      .join(",");
  }
}

/** One family as rendered: what {@linkcode renderFamilies} joins. */
export interface RenderedFamily {
  name: string;
  help: string;
  type: "counter" | "gauge" | "histogram";
  samples: string[];
}

/**
 * The text format of several registries' families (`run`: one registry per stage): a family that
 * more than one registry has is written once, its samples together, as the format requires.
 */
export function renderFamilies(families: RenderedFamily[]): string {
  const merged = new Map<string, RenderedFamily>();
  for (const family of families) {
    const seen = merged.get(family.name);
    if (!seen) merged.set(family.name, { ...family, samples: [...family.samples] });
    else {
      seen.samples.push(...family.samples);
      // The first registry with a help text names it (extra label series may have none).
      if (seen.help === "") seen.help = family.help;
    }
  }
  const out: string[] = [];
  for (const family of merged.values()) {
    out.push(`# HELP ${family.name} ${family.help}`, `# TYPE ${family.name} ${family.type}`);
    out.push(...family.samples);
  }
  return out.join("\n") + "\n";
}

/**
 * The registries of one process served as one endpoint (`edgepipe run`: one per stage, each
 * labelled with its stage).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Metrics, MetricsSet } from "./metrics.ts";
 * const set = new MetricsSet();
 * set.add(new Metrics("run", { stage: "1:filter" })).counter("events_in_total", "In").inc(2);
 * set.add(new Metrics("run", { stage: "2:map" })).counter("events_in_total", "In").inc(1);
 * const text = set.render();
 * assert.equal(text.match(/# TYPE edgepipe_events_in_total counter/g)?.length, 1);
 * assert.ok(text.includes('edgepipe_events_in_total{command="run",stage="2:map"} 1'));
 * ```
 */
export class MetricsSet {
  readonly #members: Metrics[] = [];

  /** Adds `metrics` and returns it. */
  add(metrics: Metrics): Metrics {
    this.#members.push(metrics);
    return metrics;
  }

  /** Every member's families, merged by name. */
  render(): string {
    return renderFamilies(this.#members.flatMap((m) => m.families()));
  }
}
