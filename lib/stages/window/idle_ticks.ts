/**
 * Lets a stage act while its input is quiet: items pass through, and when `wantsTick()` says the
 * stage holds something time-sensitive (dropped ids to acknowledge, a checkpoint due), a `TICK`
 * is yielded once no item has arrived for `idleMs`.
 *
 * One interval timer serves the whole stream; per item the cost is one small promise, and only
 * while `wantsTick()` is true. (Racing every `next()` against a shared timer promise would pile
 * one reaction per item onto that promise.)
 *
 * @module
 */

/** Yielded by {@linkcode withIdleTicks} when the input was idle. */
export const TICK: unique symbol = Symbol("edgepipe.tick");

/**
 * Wraps `source`, yielding its items and {@linkcode TICK} when idle.
 *
 * @example
 * ```ts
 * import { TICK, withIdleTicks } from "./idle_ticks.ts";
 * async function* slow() { yield 1; await new Promise((r) => setTimeout(r, 40)); yield 2; }
 * const seen = [];
 * for await (const item of withIdleTicks(slow(), 5, () => true)) seen.push(item === TICK ? "tick" : item);
 * console.assert(seen.includes("tick"));
 * ```
 */
export async function* withIdleTicks<T>(
  source: AsyncIterable<T>,
  idleMs: number,
  wantsTick: () => boolean,
): AsyncGenerator<T | typeof TICK> {
  const iterator = source[Symbol.asyncIterator]();
  let wake: ((value: typeof TICK) => void) | undefined;
  let lastItemAt = performance.now();
  const timer = setInterval(() => {
    if (wake !== undefined && performance.now() - lastItemAt >= idleMs) {
      const resolve = wake;
      wake = undefined;
      resolve(TICK);
    }
  }, Math.max(1, idleMs / 2));
  try {
    let next: Promise<IteratorResult<T>> | undefined;
    while (true) {
      next ??= iterator.next();
      let result: IteratorResult<T> | typeof TICK;
      if (wantsTick()) {
        const pending = next;
        result = await new Promise<IteratorResult<T> | typeof TICK>((resolve, reject) => {
          wake = resolve;
          pending.then(resolve, reject);
        });
        wake = undefined;
        if (result === TICK) {
          lastItemAt = performance.now(); // one tick per idle period
          yield TICK;
          continue;
        }
      } else {
        result = await next;
      }
      next = undefined;
      if (result.done) return;
      lastItemAt = performance.now();
      yield result.value;
    }
  } finally {
    clearInterval(timer);
    await iterator.return?.();
  }
}

/**
 * Passes `source` through and, whenever it has been quiet for `idleMs` while `writer` holds
 * buffered output, flushes the writer: results reach the next process although the input is slow.
 *
 * @example
 * ```ts
 * import { flushWhenIdle } from "./idle_ticks.ts";
 * import { LineWriter } from "../../ndjson.ts";
 * const writes: number[] = [];
 * const out = new LineWriter({ write: (b) => Promise.resolve(writes.push(b.length) && b.length) });
 * async function* slow() { yield 1; await new Promise((r) => setTimeout(r, 40)); yield 2; }
 * for await (const n of flushWhenIdle(slow(), out, 5)) if (n === 1) await out.write({ n });
 * console.assert(writes.length === 1);
 * ```
 */
export async function* flushWhenIdle<T>(
  source: AsyncIterable<T>,
  writer: { buffered: number; flush(): Promise<void> },
  idleMs = 200,
): AsyncGenerator<T> {
  for await (const item of withIdleTicks(source, idleMs, () => writer.buffered > 0)) {
    if (item === TICK) await writer.flush();
    else yield item;
  }
}
