/**
 * A deadline a loop can check per item for the price of reading a field: `arm()` starts one timer,
 * which raises `due` after `ms`; `clear()` lowers it and stops the timer. No clock is read.
 *
 * @module
 */

/**
 * A flag raised `ms` after it was armed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DueFlag } from "./due_flag.ts";
 * const flag = new DueFlag(5);
 * flag.arm();
 * assert.equal(flag.due, false);
 * await new Promise((resolve) => setTimeout(resolve, 20));
 * assert.equal(flag.due, true);
 * flag.clear();
 * assert.equal(flag.due, false);
 * ```
 */
export class DueFlag {
  /** Whether `ms` have passed since `arm()`, with no `clear()` since. */
  due = false;
  #ms: number;
  #timer: ReturnType<typeof setTimeout> | undefined;

  /** A flag that comes due `ms` after each `arm()`. */
  constructor(ms: number) {
    this.#ms = ms;
  }

  /** Starts the timer, unless it already runs or the flag is already due. */
  arm(): void {
    if (this.#timer === undefined && !this.due) this.#timer = setTimeout(this.#raise, this.#ms);
  }

  /** Lowers the flag and stops the timer. */
  clear(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.due = false;
  }

  #raise = () => {
    this.#timer = undefined;
    this.due = true;
  };
}
