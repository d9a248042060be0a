/**
 * Event-time timers: windows grouped by the time at which they are due, and a min-heap of those
 * times. Entries may go stale (a session window that grew); callers check when they pop.
 *
 * @module
 */

/** A queue of items by due time. */
export class TimerQueue<T> {
  #heap: number[] = [];
  #due = new Map<number, T[]>();

  /** Number of distinct due times. */
  get size(): number {
    return this.#heap.length;
  }

  /** Schedules `item` at `time`. */
  add(time: number, item: T): void {
    const bucket = this.#due.get(time);
    if (bucket) {
      bucket.push(item);
      return;
    }
    this.#due.set(time, [item]);
    const heap = this.#heap;
    let i = heap.push(time) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (heap[parent] <= time) break;
      heap[i] = heap[parent];
      i = parent;
    }
    heap[i] = time;
  }

  /** The earliest due time, or Infinity. */
  peek(): number {
    return this.#heap.length === 0 ? Infinity : this.#heap[0];
  }

  /**
   * Removes and returns the items due at the earliest time, if it is `<= until`.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { TimerQueue } from "./timers.ts";
   * const q = new TimerQueue<string>();
   * q.add(5, "b");
   * q.add(1, "a");
   * assert.ok(q.pop(3)?.join() === "a" && q.pop(3) === undefined);
   * ```
   */
  pop(until: number): T[] | undefined {
    const heap = this.#heap;
    if (heap.length === 0 || heap[0] > until) return undefined;
    const time = heap[0];
    const last = heap.pop()!;
    if (heap.length > 0) {
      let i = 0;
      const n = heap.length;
      while (true) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const c = r < n && heap[r] < heap[l] ? r : l;
        if (heap[c] >= last) break;
        heap[i] = heap[c];
        i = c;
      }
      heap[i] = last;
    }
    const bucket = this.#due.get(time)!;
    this.#due.delete(time);
    return bucket;
  }

  /** Forgets everything. */
  clear(): void {
    this.#heap = [];
    this.#due.clear();
  }
}
