/**
 * `--stats`: a one-line summary on stderr every few seconds (and once at the end), with rates
 * computed over the last interval.
 *
 * @module
 */
/** What the line shows: a label and a function that reads the current count. */
export type StatsFields = Record<string, () => number>;

/**
 * Prints `edgepipe <command>: in=… (…/s) out=… acked=…` lines.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { StatsLine } from "./stats_line.ts";
 * let n = 0;
 * const lines: string[] = [];
 * const stats = new StatsLine("replay", { out: () => n }, 1000, (line) => lines.push(line));
 * n = 5;
 * stats.stop();
 * assert.ok(lines[0].startsWith("edgepipe replay: out=5"));
 * ```
 */
export class StatsLine {
  readonly #command: string;
  readonly #fields: StatsFields;
  readonly #print: (line: string) => void;
  readonly #timer: ReturnType<typeof setInterval>;
  #last: Record<string, number> = {};
  #lastAt = performance.now();
  #stopped = false;

  constructor(
    command: string,
    fields: StatsFields,
    intervalMs = 5000,
    print: (line: string) => void = console.error,
  ) {
    this.#command = command;
    this.#fields = fields;
    this.#print = print;
    this.#timer = setInterval(() => this.print(), intervalMs);
    Deno.unrefTimer(this.#timer as unknown as number);
  }

  /** Prints one line now. */
  print(): void {
    const now = performance.now();
    const seconds = Math.max((now - this.#lastAt) / 1000, 1e-3);
    const parts: string[] = [];
    for (const [name, read] of Object.entries(this.#fields)) {
      const value = read();
      const rate = (value - (this.#last[name] ?? 0)) / seconds;
      this.#last[name] = value;
      parts.push(rate > 0 ? `${name}=${value} (${formatRate(rate)}/s)` : `${name}=${value}`);
    }
    this.#lastAt = now;
    this.#print(`edgepipe ${this.#command}: ${parts.join(" ")}`);
  }

  /** Stops the timer and prints the final line. */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    clearInterval(this.#timer);
    this.print();
  }
}

function formatRate(rate: number): string {
  if (rate >= 1e6) return `${(rate / 1e6).toFixed(2)}M`;
  if (rate >= 1e4) return `${(rate / 1e3).toFixed(1)}k`;
  return rate.toFixed(rate >= 100 ? 0 : 1);
}
