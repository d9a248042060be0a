/**
 * Exponential backoff with jitter for reconnects, so that many clients dropped by one broker
 * restart do not all knock on its door in the same millisecond.
 *
 * @module
 */

/** Options of {@linkcode Backoff}. */
export interface BackoffOptions {
  /** First delay in ms. Default 100. */
  initialMs?: number;
  /** Largest delay in ms. Default 30 000. */
  maxMs?: number;
  /** Random spread added to each delay, as a fraction of it. Default 0.2. */
  jitter?: number;
}

/**
 * Delays that double from `initialMs` up to `maxMs`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Backoff } from "./backoff.ts";
 * const backoff = new Backoff({ initialMs: 100, maxMs: 1000, jitter: 0 });
 * assert.equal(backoff.next(), 100);
 * assert.equal(backoff.next(), 200);
 * backoff.reset();
 * assert.equal(backoff.next(), 100);
 * ```
 */
export class Backoff {
  readonly #initial: number;
  readonly #max: number;
  readonly #jitter: number;
  #attempt = 0;

  constructor(options: BackoffOptions = {}) {
    this.#initial = options.initialMs ?? 100;
    this.#max = options.maxMs ?? 30_000;
    this.#jitter = options.jitter ?? 0.2;
  }

  /** The next delay in ms. */
  next(): number {
    const base = Math.min(this.#max, this.#initial * 2 ** Math.min(this.#attempt, 30));
    this.#attempt++;
    return Math.round(Math.min(this.#max, base + base * this.#jitter * Math.random()));
  }

  /** Starts over after a success. */
  reset(): void {
    this.#attempt = 0;
  }
}

/** Resolves after `ms`, or early (without error) when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}
