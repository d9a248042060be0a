/**
 * The retry loop producers and consumers share when they (re)attach to their topic's broker:
 * backoff between attempts, a deadline for the first attach, and a different rule for each case.
 *
 * @module
 */
import { Backoff, type BackoffOptions, sleep } from "./backoff.ts";
import type { ClientStatus } from "./client_status.ts";
import { ConnectionError, worthReconnecting } from "./errors.ts";

/** How to retry. */
export interface RetryOptions {
  /** True for the first attach: errors that cannot heal, or the deadline passing, are thrown. */
  first: boolean;
  backoff?: BackoffOptions;
  /** How long the first attach may keep trying. */
  timeoutMs: number;
  /** Stops the loop quietly once the producer or consumer is closed. */
  closed: () => boolean;
  /** Cuts a backoff sleep short. */
  signal: AbortSignal;
  /** The topic (or partition), for status events. */
  topic?: string;
  /** Told of every retry, of success after one, and of giving up (see {@linkcode ClientStatus}). */
  status?: (status: ClientStatus) => void;
  /** After a connection loss: why it was lost. */
  lost?: Error;
}

/**
 * Runs `attempt` until it succeeds. Returns `undefined` when attached (or closed meanwhile); after
 * a connection loss, returns the error that made reconnecting pointless, for the caller to fail
 * its pending work with. On the first attach such an error is thrown instead.
 */
export async function connectWithRetry(
  attempt: () => Promise<void>,
  options: RetryOptions,
): Promise<unknown> {
  const backoff = new Backoff(options.backoff);
  const started = Date.now();
  const deadline = started + options.timeoutMs;
  const topic = options.topic ?? "";
  const report = (status: ClientStatus) => options.status?.(status);
  let attempts = 0;
  if (!options.first) {
    const error = options.lost ?? new ConnectionError("connection lost");
    report({ type: "reconnecting", topic, attempt: 1, error, delayMs: 0 });
  }
  for (;;) {
    if (options.closed()) return undefined;
    try {
      attempts++;
      await attempt();
      if (attempts > 1 || !options.first) {
        report({ type: "reconnected", topic, afterMs: Date.now() - started, attempts });
      }
      return undefined;
    } catch (error) {
      const retriable = options.first
        ? (error as { retriable?: boolean }).retriable === true
        : worthReconnecting(error);
      if (!retriable || (options.first && Date.now() > deadline)) {
        if (options.first) throw error;
        report({ type: "gave-up", topic, error: asError(error) });
        return error;
      }
      const delayMs = backoff.next();
      if (options.closed()) return undefined;
      report({
        type: "reconnecting",
        topic,
        attempt: attempts + 1,
        error: asError(error),
        delayMs,
      });
      await sleep(delayMs, options.signal);
    }
  }
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/**
 * Runs a reconnect after a connection loss, once at a time: a loss that happens while one is under
 * way (say, the broker closes us right after accepting) makes it go once more instead of starting
 * a second one beside it.
 */
export class ReconnectLoop {
  #running?: Promise<void>;
  #lostAgain = false;

  constructor(
    private readonly reconnect: () => Promise<void>,
    private readonly closed: () => boolean,
  ) {}

  /** The reconnect under way, if any. */
  get running(): Promise<void> | undefined {
    return this.#running;
  }

  /** Starts reconnecting (after `first` settles, when given), or asks the running one to go again. */
  start(first?: Promise<unknown>): void {
    if (this.#running) {
      this.#lostAgain = true;
      return;
    }
    this.#running = (async () => {
      if (first) await first;
      do {
        this.#lostAgain = false;
        await this.reconnect();
      } while (this.#lostAgain && !this.closed());
    })().finally(() => (this.#running = undefined));
  }
}
