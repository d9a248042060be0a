/**
 * Paces a replay: a fixed rate (`--rate 500/s`) or event time played back faster or slower than
 * it happened (`--speedup 60`). Without either, events go as fast as the reader can take them.
 *
 * @module
 */
import { parseRate as parseUnitRate } from "../units.ts";

/** How to pace. */
export type Pace =
  | { kind: "none" }
  | { kind: "rate"; perSecond: number }
  | { kind: "speedup"; factor: number };

/** Parses `--rate N/s` (also `N/m`, `N/h`, or a bare `N` meaning per second); see `lib/units.ts`. */
export function parseRate(text: string): number {
  return parseUnitRate(text, "--rate");
}

/** Wall-clock seams, so tests can run a pacer without waiting. */
export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

const realClock: Clock = {
  now: () => performance.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/**
 * Tells how long to wait before the next event. Waits shorter than 2 ms are gathered into the
 * next wait so that timers do not dominate at high rates.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Pacer } from "./pacer.ts";
 * let now = 0;
 * const pacer = new Pacer({ kind: "rate", perSecond: 10 }, {
 *   now: () => now,
 *   sleep: (ms) => { now += ms; return Promise.resolve(); },
 * });
 * for (let i = 0; i < 11; i++) await pacer.wait();
 * assert.equal(now, 1000);
 * ```
 */
export class Pacer {
  readonly #pace: Pace;
  readonly #clock: Clock;
  #start: number | undefined;
  #firstEventTime: number | undefined;
  #count = 0;

  constructor(pace: Pace, clock: Clock = realClock) {
    this.#pace = pace;
    this.#clock = clock;
  }

  /** True when waits can happen (the caller flushes output before each). */
  get active(): boolean {
    return this.#pace.kind !== "none";
  }

  /**
   * How many ms until the next event is due, without waiting; 0 when it is due now. Call
   * {@linkcode Pacer.wait} to wait.
   */
  due(eventTime?: number): number {
    const pace = this.#pace;
    if (pace.kind === "none") return 0;
    const now = this.#clock.now();
    this.#start ??= now;
    let at: number;
    if (pace.kind === "rate") {
      at = this.#start + (this.#count * 1000) / pace.perSecond;
    } else {
      if (eventTime === undefined) return 0;
      this.#firstEventTime ??= eventTime;
      at = this.#start + (eventTime - this.#firstEventTime) / pace.factor;
    }
    this.#count++;
    const wait = at - now;
    return wait >= 2 ? wait : 0;
  }

  /** Waits until the next event is due. */
  async wait(eventTime?: number): Promise<void> {
    const wait = this.due(eventTime);
    if (wait > 0) await this.#clock.sleep(wait);
  }
}
