/**
 * Lets a stage act while its input is quiet: items pass through, and when `wantsTick()` says the
 * stage holds something time-sensitive (dropped ids to acknowledge, a checkpoint due), a `TICK`
 * is yielded if no item arrived within `idleMs`. One timer serves many items, so the cost per item
 * is a `Promise.race`, not a timer.
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
 * async function* slow() { yield 1; await new Promise((r) => setTimeout(r, 30)); yield 2; }
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
  let timer: ReturnType<typeof setTimeout> | undefined;
  let tick: Promise<typeof TICK> | undefined;
  try {
    while (true) {
      const next = iterator.next();
      let result: IteratorResult<T> | typeof TICK;
      while (true) {
        if (!wantsTick()) {
          result = await next;
          break;
        }
        tick ??= new Promise((resolve) => timer = setTimeout(resolve, idleMs, TICK));
        result = await Promise.race([next, tick]);
        if (result !== TICK) break;
        tick = undefined;
        timer = undefined;
        yield TICK;
      }
      if (result.done) return;
      yield result.value;
    }
  } finally {
    if (timer !== undefined) clearTimeout(timer);
    await iterator.return?.();
  }
}
