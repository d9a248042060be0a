/**
 * What a terminal stage says while its broker is away: one line when sends start waiting for the
 * broker to come back, and one when it is back. Producers report their connection losses and
 * re-attachments here (a partitioned topic has one producer per partition: the broker is back when
 * all of them are attached again).
 *
 * @module
 */
import { describeError } from "../errors.ts";
import type { ConnectionChange } from "../pulsar/mod.ts";

/** Options of {@linkcode BrokerWaitNotice}. */
export interface BrokerWaitOptions {
  /** Where the two lines go. */
  log: (message: string) => void;
  /** A loss healed within this long says nothing (default 1000 ms): a blip is not an outage. */
  graceMs?: number;
  /** Added to the waiting line, e.g. how to give up instead. */
  hint?: string;
  /** The clock, for tests (default `Date.now`). */
  now?: () => number;
}

/**
 * Turns producers' connection changes into the two stderr lines of an outage.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { BrokerWaitNotice } from "./broker_wait.ts";
 * const lines: string[] = [];
 * let now = 0;
 * const notice = new BrokerWaitNotice({ log: (l) => lines.push(l), graceMs: 0, now: () => now });
 * notice.onConnectionChange({ topic: "t", connected: false, error: new Error("refused") });
 * notice.announce();
 * now = 45_000;
 * notice.onConnectionChange({ topic: "t", connected: true });
 * assert.deepEqual(lines, [
 *   "lost the broker (t: refused); waiting for the broker to come back, sends are held",
 *   "the broker is back after 45 s; sending again",
 * ]);
 * notice.close();
 * ```
 */
export class BrokerWaitNotice {
  readonly #options: BrokerWaitOptions;
  readonly #now: () => number;
  readonly #down = new Map<string, string>();
  #since = 0;
  #announced = false;
  #timer: ReturnType<typeof setTimeout> | undefined;

  /** A notice that writes through `options.log`. */
  constructor(options: BrokerWaitOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  /** True while at least one producer is waiting for its broker. */
  get waiting(): boolean {
    return this.#down.size > 0;
  }

  /** Give this to every producer as its `onConnectionChange`. */
  readonly onConnectionChange = (change: ConnectionChange): void => {
    if (!change.connected) {
      if (this.#down.size === 0) {
        this.#since = this.#now();
        clearTimeout(this.#timer);
        this.#timer = setTimeout(() => this.announce(), this.#options.graceMs ?? 1000);
        Deno.unrefTimer(this.#timer as unknown as number);
      }
      this.#down.set(change.topic, change.error ? describeError(change.error) : "disconnected");
      return;
    }
    if (!this.#down.delete(change.topic) || this.#down.size > 0) return;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#announced) {
      const seconds = Math.round((this.#now() - this.#since) / 1000);
      this.#options.log(`the broker is back after ${seconds} s; sending again`);
    }
    this.#announced = false;
  };

  /** Writes the waiting line now if a producer is still down and it was not written yet. */
  announce(): void {
    this.#timer = undefined;
    if (this.#down.size === 0 || this.#announced) return;
    this.#announced = true;
    const [topic, reason] = this.#down.entries().next().value!;
    this.#options.log(
      `lost the broker (${topic}: ${reason}); waiting for the broker to come back, sends are held` +
        (this.#options.hint ? ` (${this.#options.hint})` : ""),
    );
  }

  /** Stops the pending timer. */
  close(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
