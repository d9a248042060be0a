/**
 * A progress bar on stderr for long replays, redrawn at most a few times a second, shown only when
 * stderr is a terminal so that logs stay clean.
 *
 * @module
 */
import type { ReadProgress } from "../sources/types.ts";

/**
 * Draws `[#####.....]  42%  1,234,567 events  350k/s  file.parquet`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ProgressBar } from "./progress_bar.ts";
 * const out: string[] = [];
 * const bar = new ProgressBar({ write: (text) => out.push(text), intervalMs: 0 });
 * bar.update("a.csv", { done: 50, total: 100, unit: "bytes" }, 10);
 * bar.done();
 * assert.ok(out[0].includes(" 50%"));
 * ```
 */
export class ProgressBar {
  readonly #write: (text: string) => void;
  readonly #intervalMs: number;
  readonly #started = performance.now();
  #lastDraw = -Infinity;
  #drawn = false;

  constructor(
    options: { write?: (text: string) => void; intervalMs?: number } = {},
  ) {
    const encoder = new TextEncoder();
    this.#write = options.write ?? ((text) => Deno.stderr.writeSync(encoder.encode(text)));
    this.#intervalMs = options.intervalMs ?? 200;
  }

  /** True when a bar makes sense: stderr is a terminal. */
  static wanted(): boolean {
    return Deno.stderr.isTerminal();
  }

  /** Redraws when the last draw is old enough, or at once with `force`. */
  update(label: string, progress: ReadProgress, events: number, force = false): void {
    const now = performance.now();
    if (!force && now - this.#lastDraw < this.#intervalMs) return;
    this.#lastDraw = now;
    const fraction = progress.total > 0 ? Math.min(progress.done / progress.total, 1) : 0;
    const width = 24;
    const filled = Math.round(fraction * width);
    const rate = events / Math.max((now - this.#started) / 1000, 1e-3);
    const text = `[${"#".repeat(filled)}${".".repeat(width - filled)}] ${
      (fraction * 100).toFixed(0).padStart(3)
    }%  ${events.toLocaleString("en-US")} events  ${
      Math.round(rate).toLocaleString("en-US")
    }/s  ${label}`;
    this.#write(`\r${text}\x1b[K`);
    this.#drawn = true;
  }

  /** Ends the bar's line. */
  done(): void {
    if (this.#drawn) this.#write("\n");
    this.#drawn = false;
  }
}
