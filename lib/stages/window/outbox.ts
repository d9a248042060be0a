/**
 * The outbox of a window behind an ack relay: results emitted and not yet reported delivered by
 * the terminal stage, in emission order. It goes into every checkpoint (a restart emits it again),
 * so what the terminal confirmed is removed before the next checkpoint and never emitted again.
 * It is bounded: when full, the stage stops reading until the terminal catches up.
 *
 * @module
 */
import type { Envelope, Item } from "../../envelope.ts";

/** Default bound of {@linkcode Outbox}: results waiting for the terminal's report. */
export const DEFAULT_MAX_OUTBOX = 100_000;

/** Results waiting for delivery reports. */
export class Outbox {
  readonly max: number;
  readonly #items = new Map<string, Item>();
  #wake: (() => void) | undefined;

  constructor(max = DEFAULT_MAX_OUTBOX) {
    if (!(Number.isInteger(max) && max > 0)) throw new RangeError(`outbox bound ${max}`);
    this.max = max;
  }

  /** Keeps a result (it carries its id) until {@linkcode Outbox.delivered}. */
  add(item: Item): void {
    this.#items.set((item as Envelope).id as string, item);
  }

  /** The terminal reported `id` delivered. */
  delivered(id: string): void {
    if (this.#items.delete(id) && this.#wake && this.#items.size < this.max) {
      const wake = this.#wake;
      this.#wake = undefined;
      wake();
    }
  }

  get size(): number {
    return this.#items.size;
  }

  get full(): boolean {
    return this.#items.size >= this.max;
  }

  /** The waiting results, oldest first. */
  items(): Item[] {
    return [...this.#items.values()];
  }

  /**
   * Resolves once there is room again.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Outbox } from "./outbox.ts";
   * const outbox = new Outbox(1);
   * outbox.add({ id: "w:1", value: 1 });
   * assert.ok(outbox.full);
   * const room = outbox.room();
   * outbox.delivered("w:1");
   * await room;
   * assert.equal(outbox.size, 0);
   * ```
   */
  room(): Promise<void> {
    if (!this.full) return Promise.resolve();
    return new Promise((resolve) => (this.#wake = resolve));
  }
}
