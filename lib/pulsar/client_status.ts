/**
 * The client's status stream: every producer, consumer and reader of a client reports here when
 * it loses its broker and retries (`reconnecting`), when it is attached again (`reconnected`) and
 * when it stops retrying for good (`gave-up`). Users subscribe with a listener
 * ({@linkcode ClientStatusEvents.on}) or iterate ({@linkcode ClientStatusEvents.watch}), so that no
 * retry loop goes unseen.
 *
 * @module
 */

/** A producer or consumer lost its broker (or cannot reach it yet) and will try again. */
export interface ReconnectingStatus {
  /** What happened. */
  type: "reconnecting";
  /** The topic (or partition) of the producer or consumer. */
  topic: string;
  /** The attempt about to be made: 1 right after a loss, then 2, 3, … */
  attempt: number;
  /** Why: the loss, or the previous attempt's failure. */
  error: Error;
  /** How long until that attempt, in ms (0 right after a loss). */
  delayMs: number;
}

/** Attached again after `reconnecting`. */
export interface ReconnectedStatus {
  /** What happened. */
  type: "reconnected";
  /** The topic (or partition) of the producer or consumer. */
  topic: string;
  /** Time from the loss (or from the start of the first attach) until attached, in ms. */
  afterMs: number;
  /** Attempts it took. */
  attempts: number;
}

/** Retrying cannot help (say, the topic was deleted or another producer fenced this one): stopped. */
export interface GaveUpStatus {
  /** What happened. */
  type: "gave-up";
  /** The topic (or partition) of the producer or consumer. */
  topic: string;
  /** The error the producer or consumer now fails with. */
  error: Error;
}

/** One event of the status stream. */
export type ClientStatus = ReconnectingStatus | ReconnectedStatus | GaveUpStatus;

/** A status listener. */
export type ClientStatusListener = (status: ClientStatus) => void;

/**
 * Fans status events out to listeners and iterators.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ClientStatusEvents } from "./client_status.ts";
 * const events = new ClientStatusEvents();
 * const seen: string[] = [];
 * const off = events.on((s) => seen.push(`${s.type} ${s.topic}`));
 * events.emit({ type: "reconnected", topic: "t", afterMs: 5, attempts: 1 });
 * off();
 * events.emit({ type: "gave-up", topic: "t", error: new Error("deleted") });
 * assert.deepEqual(seen, ["reconnected t"]);
 * ```
 */
export class ClientStatusEvents {
  readonly #listeners = new Set<ClientStatusListener>();
  readonly #ends = new Set<() => void>();
  #closed = false;

  /** Calls `listener` with every event from now on; returns a function that stops it. */
  on(listener: ClientStatusListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Tells every listener; a listener's failure is not the client's. */
  emit(status: ClientStatus): void {
    for (const listener of [...this.#listeners]) {
      try {
        listener(status);
      } catch { /* an observer's failure is not the client's */ }
    }
  }

  /**
   * The events from now on as an async iterator (in the style of nats.js's `status()`), which
   * ends when the client closes or the loop breaks.
   */
  async *watch(): AsyncGenerator<ClientStatus> {
    if (this.#closed) return;
    const queued: ClientStatus[] = [];
    let wake: (() => void) | undefined;
    let ended = false;
    const end = () => {
      ended = true;
      wake?.();
    };
    const off = this.on((s) => {
      queued.push(s);
      wake?.();
    });
    this.#ends.add(end);
    try {
      for (;;) {
        while (queued.length > 0) yield queued.shift()!;
        if (ended) return;
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
      }
    } finally {
      off();
      this.#ends.delete(end);
    }
  }

  /** Ends every iterator (the client closed). */
  close(): void {
    this.#closed = true;
    for (const end of [...this.#ends]) end();
  }
}
