/**
 * A FIFO that async readers wait on: the receiver queue behind `receive()` and `for await`.
 *
 * @module
 */
import { TimeoutError } from "./errors.ts";

interface Waiter<T> {
  resolve(value: T): void;
  reject(error: Error): void;
  timer?: ReturnType<typeof setTimeout>;
}

/**
 * Items pushed by the connection, taken by the user.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { AsyncQueue } from "./async_queue.ts";
 * const queue = new AsyncQueue<number>();
 * queue.push(1);
 * assert.equal((await queue.shift()), 1);
 * ```
 */
export class AsyncQueue<T> {
  #items: T[] = [];
  #head = 0;
  #waiters: Waiter<T>[] = [];
  #error?: Error;

  /** Items waiting to be taken. */
  get size(): number {
    return this.#items.length - this.#head;
  }

  /** Hands `item` to the oldest waiting reader, or keeps it. */
  push(item: T): void {
    const waiter = this.#waiters.shift();
    if (waiter) {
      clearTimeout(waiter.timer);
      waiter.resolve(item);
    } else this.#items.push(item);
  }

  /** The next item without waiting, or undefined. */
  poll(): T | undefined {
    if (this.#head >= this.#items.length) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head++] = undefined as T;
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }

  /** The first item without taking it. */
  peek(): T | undefined {
    return this.#head < this.#items.length ? this.#items[this.#head] : undefined;
  }

  /** The next item; waits up to `timeoutMs` (forever when undefined). */
  shift(timeoutMs?: number): Promise<T> {
    if (this.size > 0) return Promise.resolve(this.poll()!);
    if (this.#error) return Promise.reject(this.#error);
    return new Promise<T>((resolve, reject) => {
      const waiter: Waiter<T> = { resolve, reject };
      if (timeoutMs !== undefined) {
        waiter.timer = setTimeout(() => {
          this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
          reject(new TimeoutError(`nothing arrived within ${timeoutMs} ms`));
        }, timeoutMs);
      }
      this.#waiters.push(waiter);
    });
  }

  /** Removes and returns every queued item. */
  drain(): T[] {
    const items = this.#items.slice(this.#head);
    this.#items = [];
    this.#head = 0;
    return items;
  }

  /** Fails current and future readers once the queue is empty. */
  close(error: Error): void {
    this.#error = error;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const waiter of waiters) {
      clearTimeout(waiter.timer);
      waiter.reject(error);
    }
  }
}
