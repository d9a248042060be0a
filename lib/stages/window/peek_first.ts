/**
 * Looking at the first item of a stream before deciding what to do with it.
 *
 * @module
 */
import type { Item } from "../../envelope.ts";
import type { PullSource } from "../idle_ticks.ts";

/** Reads the first item of `input` and gives back a stream that still begins with it. */
export async function peekFirst(
  input: AsyncIterable<Item>,
): Promise<{ source: AsyncIterable<Item>; head: IteratorResult<Item> }> {
  const iterator = input[Symbol.asyncIterator]();
  const head = await iterator.next();
  const source: AsyncIterable<Item> = {
    [Symbol.asyncIterator]: () => {
      let pending: IteratorResult<Item> | undefined = head;
      const pull = (iterator as Partial<PullSource<Item>>).pull?.bind(iterator);
      return {
        pull: () => pending === undefined ? pull?.() : undefined,
        next: () => {
          if (pending === undefined) return iterator.next();
          const next = pending;
          pending = undefined;
          return Promise.resolve(next);
        },
        return: (value?: unknown) =>
          iterator.return?.(value) ?? Promise.resolve({ done: true, value: undefined }),
      };
    },
  };
  return { source, head };
}
