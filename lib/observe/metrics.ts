/**
 * A small metrics registry: counters and gauges with fixed labels, rendered in the Prometheus text
 * exposition format. Cheap enough to bump once per event.
 *
 * @module
 */

/** One metric family. */
interface Family {
  name: string;
  help: string;
  type: "counter" | "gauge";
  values: Map<string, number>;
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
  readonly #families = new Map<string, Family>();

  constructor(command: string) {
    this.command = command;
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

  /** The Prometheus text format. */
  render(): string {
    const out: string[] = [];
    for (const family of this.#families.values()) {
      const name = `edgepipe_${family.name}`;
      out.push(`# HELP ${name} ${family.help}`, `# TYPE ${name} ${family.type}`);
      for (const [labels, value] of family.values) {
        const shown = family.sample ? family.sample() : value;
        out.push(`${name}{${labels}} ${Number.isFinite(shown) ? shown : "NaN"}`);
      }
    }
    return out.join("\n") + "\n";
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
    return Object.entries({ command: this.command, ...extra })
      .map(([k, v]) => `${k}="${v.replace(/[\\"\n]/g, (c) => (c === "\n" ? "\\n" : `\\${c}`))}"`)
      .join(",");
  }
}
