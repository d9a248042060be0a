/**
 * The subscription backlog for `consume --stats` / `--metrics`, read from the broker's admin API
 * (the subscription's `msgBacklog`, summed over topics): every few seconds with `--stats`, and
 * with `--metrics` alone only when the endpoint is scraped, at most as often.
 *
 * @module
 */
import { describeError } from "../../errors.ts";
import type { PulsarAdmin } from "../../pulsar/admin.ts";

/** Options of {@linkcode BacklogPoller}. */
export interface BacklogPollOptions {
  /** Least time between two reads (default 5 s). */
  intervalMs?: number;
  /** Read on a timer as well (for `--stats`), not only when asked. */
  periodic?: boolean;
  /** The clock, for tests (default `Date.now`). */
  now?: () => number;
}

/**
 * Reads the backlog and hands it to `set`; the first failure is logged once.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { BacklogPoller } from "./backlog_poll.ts";
 * import type { PulsarAdmin } from "../../pulsar/admin.ts";
 * let reads = 0;
 * const admin = {
 *   topicStats: () => (reads++, Promise.resolve({ subscriptions: { s: { backlog: 7 } } })),
 * } as unknown as PulsarAdmin;
 * let backlog = NaN;
 * const poller = new BacklogPoller(admin, ["t"], "s", (n) => (backlog = n), () => {});
 * await poller.refresh();
 * await poller.refresh(); // within the interval: not read again
 * assert.deepEqual([backlog, reads], [7, 1]);
 * await poller.stop();
 * ```
 */
export class BacklogPoller {
  readonly #read: () => Promise<void>;
  readonly #intervalMs: number;
  readonly #now: () => number;
  #running: Promise<void> | undefined;
  #last = -Infinity;
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(
    admin: PulsarAdmin,
    topics: string[],
    subscription: string,
    set: (backlog: number) => void,
    log: (message: string) => void,
    options: BacklogPollOptions = {},
  ) {
    this.#intervalMs = options.intervalMs ?? 5000;
    this.#now = options.now ?? Date.now;
    let warned = false;
    this.#read = async () => {
      try {
        let total = 0;
        for (const topic of topics) {
          total += (await admin.topicStats(topic)).subscriptions[subscription]?.backlog ?? 0;
        }
        set(total);
      } catch (err) {
        if (!warned) log(`backlog from --admin-url: ${describeError(err)}`);
        warned = true;
      }
    };
    if (options.periodic) {
      void this.refresh();
      this.#timer = setInterval(() => void this.refresh(), this.#intervalMs);
      Deno.unrefTimer(this.#timer as unknown as number);
    }
  }

  /** Reads the backlog unless it was read less than the interval ago; settles when read. */
  refresh(): Promise<void> {
    if (this.#running) return this.#running;
    if (this.#now() - this.#last < this.#intervalMs) return Promise.resolve();
    this.#last = this.#now();
    return this.#running = this.#read().finally(() => (this.#running = undefined));
  }

  /** Stops the timer; a read under way may answer first (at most 5 s), for a last stats line. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    if (!this.#running) return;
    let wait: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      this.#running,
      new Promise((resolve) => (wait = setTimeout(resolve, 5000))),
    ]);
    clearTimeout(wait);
  }
}
