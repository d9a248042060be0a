/**
 * Which per-topic consumer received messages from which ledger, so that an acknowledgement by id
 * alone finds its consumer in a multi-topic subscription. Ledger ids are unique in a cluster, and
 * a topic moves to a new ledger now and then: the map keeps the ledgers seen most recently and
 * forgets the oldest past a bound, so that a long-running subscription's bookkeeping stays flat.
 *
 * @module
 */

/**
 * A bounded map from ledger id to its owner, oldest-seen evicted first.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { LedgerOwners } from "./ledger_owners.ts";
 * const owners = new LedgerOwners<string>(() => 2);
 * owners.set(1n, "a");
 * owners.set(2n, "b");
 * owners.set(1n, "a"); // seen again: now the newest
 * owners.set(3n, "b");
 * assert.equal(owners.size, 2);
 * assert.equal(owners.get(1n), "a");
 * assert.equal(owners.get(2n), undefined, "the ledger seen longest ago was forgotten");
 * ```
 */
export class LedgerOwners<Owner> {
  /** Owner and the tick of the last move to the newest end, oldest first. */
  readonly #owners = new Map<bigint, { owner: Owner; movedAt: number }>();
  #tick = 0;

  /** A map that holds at most `limit()` ledgers. */
  constructor(
    /** The bound, asked anew on each insert (it may grow with the number of owners). */
    private readonly limit: () => number,
  ) {}

  /** Ledgers remembered. */
  get size(): number {
    return this.#owners.size;
  }

  /** Records that `owner` received a message from `ledger`. */
  set(ledger: bigint, owner: Owner): void {
    const tick = ++this.#tick;
    const limit = Math.max(1, this.limit());
    const known = this.#owners.get(ledger);
    // One more message of a known ledger (the common case) reorders only now and then: often
    // enough that a ledger in use never drifts to the oldest end.
    if (known && known.owner === owner && tick - known.movedAt < limit / 2) return;
    this.#owners.delete(ledger);
    this.#owners.set(ledger, { owner, movedAt: tick });
    while (this.#owners.size > limit) this.#owners.delete(this.#owners.keys().next().value!);
  }

  /** The owner of `ledger`, if remembered. */
  get(ledger: bigint): Owner | undefined {
    return this.#owners.get(ledger)?.owner;
  }
}
