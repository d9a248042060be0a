/**
 * Lets a stage act while its input is quiet: items pass through, and when `wantsTick()` says the
 * stage holds something time-sensitive (dropped ids to acknowledge, a checkpoint due), a `TICK`
 * is yielded once no item has arrived for `idleMs`.
 *
 * The cost per item is what the stage path pays most for, so the iterator is written by hand
 * rather than as an async generator (whose every `yield` adds promise hops): while `wantsTick()`
 * is false, an item costs one `then` on the source's promise; while it is true, one promise more
 * that either the item or the timer settles. No clock is read per item: one interval timer, every
 * `idleMs / 2`, counts the intervals without an item, and wakes a waiting reader after three (so
 * the input was quiet for at least `idleMs`, at most `1.5 × idleMs` before the tick).
 *
 * @module
 */

/** Yielded by {@linkcode withIdleTicks} when the input was idle. */
export const TICK: unique symbol = Symbol("edgepipe.tick");

/** A source that can hand out an item it holds already without a promise (`LineItems`). */
export interface PullSource<T> {
  /** The next item if it is at hand, else `undefined` (then `next()` gives it). */
  pull(): T | undefined;
}

/** What {@linkcode withIdleTicks} returns. */
export interface IdleTickIterator<T> extends AsyncIterableIterator<T | typeof TICK> {
  /**
   * The next item when the source has it at hand (see {@linkcode PullSource}) and nothing is in
   * flight, else `undefined`: then `next()` gives the next item or tick. An input that has items
   * at hand is not idle, so no tick is missed.
   */
  pull(): T | undefined;
  /** Stops the timer and tells the source that nothing more is read. */
  return(value?: unknown): Promise<IteratorResult<T | typeof TICK>>;
}

/**
 * Wraps `source`, yielding its items and {@linkcode TICK} when idle.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { TICK, withIdleTicks } from "./idle_ticks.ts";
 * async function* slow() { yield 1; await new Promise((r) => setTimeout(r, 40)); yield 2; }
 * const seen = [];
 * for await (const item of withIdleTicks(slow(), 5, () => true)) seen.push(item === TICK ? "tick" : item);
 * assert.ok(seen.includes("tick"));
 * ```
 */
export function withIdleTicks<T>(
  source: AsyncIterable<T>,
  idleMs: number,
  wantsTick: () => boolean,
): IdleTickIterator<T> {
  return new IdleTicks(source, idleMs, wantsTick);
}

const TICK_RESULT: IteratorResult<typeof TICK> = { value: TICK, done: false };

class IdleTicks<T> implements IdleTickIterator<T> {
  #source: AsyncIterable<T>;
  #iterator: AsyncIterator<T> | undefined;
  #pull: (() => T | undefined) | undefined;
  #idleMs: number;
  #wantsTick: () => boolean;
  #timer: ReturnType<typeof setInterval> | undefined;
  #finished = false;
  /** Timer intervals since the last item (or tick). */
  #quiet = 0;
  /** The source's outstanding `next()`, and whether a racing reader watches it. */
  #pending: Promise<IteratorResult<T>> | undefined;
  #watched = false;
  /** Whether the waiting reader wanted ticks when it started to wait. */
  #tickable = false;
  /** What the watched `next()` gave while no reader was waiting. */
  #stored: { result?: IteratorResult<T>; error?: unknown } | undefined;
  /** The waiting reader's promise, settled by the item or by the timer. */
  #wake: ((result: IteratorResult<T | typeof TICK> | Promise<never>) => void) | undefined;

  constructor(source: AsyncIterable<T>, idleMs: number, wantsTick: () => boolean) {
    this.#source = source;
    this.#idleMs = idleMs;
    this.#wantsTick = wantsTick;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<T | typeof TICK>> {
    if (this.#finished) return Promise.resolve({ done: true, value: undefined });
    if (this.#iterator === undefined) {
      this.#iterator = this.#source[Symbol.asyncIterator]();
      const pullable = this.#iterator as Partial<PullSource<T>>;
      if (typeof pullable.pull === "function") this.#pull = pullable.pull.bind(pullable);
      this.#timer = setInterval(this.#onInterval, Math.max(1, this.#idleMs / 2));
    }
    const stored = this.#stored;
    if (stored !== undefined) {
      this.#stored = undefined;
      return "error" in stored
        ? this.#fail(stored.error)
        : Promise.resolve(this.#arrived(stored.result!));
    }
    if (this.#watched) {
      // The item that a tick interrupted: wait for it, and tick again only if still wanted.
      this.#tickable = this.#wantsTick();
      return new Promise(this.#wait);
    }
    const pending = this.#pending ?? this.#iterator.next();
    if (!this.#wantsTick()) {
      this.#pending = undefined;
      return pending.then(this.#arrived, this.#fail);
    }
    this.#pending = pending;
    this.#watched = true;
    this.#tickable = true;
    pending.then(this.#settled, this.#failed);
    return new Promise(this.#wait);
  }

  pull(): T | undefined {
    // Only with nothing in flight: an outstanding or stored `next()` result comes first.
    if (this.#pull === undefined || this.#finished) return undefined;
    if (this.#pending !== undefined || this.#stored !== undefined) return undefined;
    const item = this.#pull();
    if (item !== undefined) this.#quiet = 0;
    return item;
  }

  async return(value?: unknown): Promise<IteratorResult<T | typeof TICK>> {
    if (!this.#finished) {
      this.#stop();
      await this.#iterator?.return?.();
    }
    return { done: true, value };
  }

  #wait = (resolve: (result: IteratorResult<T | typeof TICK> | Promise<never>) => void) => {
    this.#wake = resolve;
  };

  #onInterval = () => {
    if (++this.#quiet >= 3 && this.#wake !== undefined && this.#tickable) {
      const wake = this.#wake;
      this.#wake = undefined;
      this.#quiet = 0; // one tick per idle period
      wake(TICK_RESULT);
    }
  };

  #arrived = (result: IteratorResult<T>): IteratorResult<T> | Promise<IteratorResult<T>> => {
    this.#quiet = 0;
    if (result.done !== true) return result;
    this.#stop();
    // As the generator's `finally` did: the source is told it is done, then the end is passed on.
    return Promise.resolve(this.#iterator!.return?.()).then(() => result);
  };

  #fail = async (error: unknown): Promise<never> => {
    this.#stop();
    await this.#iterator!.return?.();
    throw error;
  };

  #settled = (result: IteratorResult<T>) => {
    this.#pending = undefined;
    this.#watched = false;
    const wake = this.#wake;
    if (wake === undefined) this.#stored = { result };
    else {
      this.#wake = undefined;
      wake(this.#arrived(result) as IteratorResult<T>);
    }
  };

  #failed = (error: unknown) => {
    this.#pending = undefined;
    this.#watched = false;
    const wake = this.#wake;
    if (wake === undefined) this.#stored = { error };
    else {
      this.#wake = undefined;
      wake(this.#fail(error));
    }
  };

  #stop(): void {
    this.#finished = true;
    clearInterval(this.#timer);
  }
}
