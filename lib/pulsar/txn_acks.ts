/**
 * Acknowledgements inside transactions, grouped for the wire: the ids acknowledged in one
 * transaction within a few milliseconds go in one ACK command (`ackType` Individual, many
 * `message_id`s, the transaction's `txnid_*_bits`, one `request_id`), which the broker answers
 * with one ACK_RESPONSE for all of them. Each caller's promise settles with that answer: a refusal
 * (a conflict with another transaction) fails every ack of the command, and so the transaction's
 * commit. It talks to the broker only through {@linkcode TxnAckSend}, so it is tested without one.
 *
 * @module
 */
import type { MessageIdWire } from "./message_id.ts";
import type { Transaction } from "./transaction.ts";

/** Sends one ACK request carrying `ids` inside `txn`; settles with the broker's answer. */
export type TxnAckSend = (txn: Transaction, ids: MessageIdWire[]) => Promise<void>;

/** Options of {@linkcode TxnAckBatcher}. */
export interface TxnAckBatcherOptions {
  send: TxnAckSend;
  /** Send once a transaction has this many ids waiting. Default 1000. */
  maxIds?: number;
  /** Send this long after a transaction's first waiting id. Default 5 ms. */
  delayMs?: number;
}

interface Pending {
  ids: MessageIdWire[];
  timer: ReturnType<typeof setTimeout>;
  resolve: () => void;
  reject: (error: unknown) => void;
  done: Promise<void>;
}

/**
 * Groups the acknowledgements of each transaction into few ACK requests.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { TxnAckBatcher } from "./txn_acks.ts";
 * import type { Transaction } from "./transaction.ts";
 * const requests: number[][] = [];
 * const batcher = new TxnAckBatcher({
 *   send: (_txn, ids) => {
 *     requests.push(ids.map((id) => Number(id.entryId)));
 *     return Promise.resolve();
 *   },
 * });
 * const txn = { text: "0:1" } as Transaction;
 * const acks = [1, 2, 3].map((entryId) => batcher.add(txn, [{ ledgerId: 7, entryId }]));
 * await Promise.all(acks);
 * assert.deepEqual(requests, [[1, 2, 3]], "one request for the three");
 * ```
 */
export class TxnAckBatcher {
  readonly #send: TxnAckSend;
  readonly #maxIds: number;
  readonly #delayMs: number;
  readonly #pending = new Map<Transaction, Pending>();

  constructor(options: TxnAckBatcherOptions) {
    this.#send = options.send;
    this.#maxIds = Math.max(1, options.maxIds ?? 1000);
    this.#delayMs = options.delayMs ?? 5;
  }

  /** Transactions with ids waiting to be sent. */
  get waiting(): number {
    return this.#pending.size;
  }

  /** Acknowledges `ids` inside `txn`; settles when the request carrying them is answered. */
  add(txn: Transaction, ids: MessageIdWire[]): Promise<void> {
    if (ids.length === 0) return Promise.resolve();
    let pending = this.#pending.get(txn);
    if (!pending) {
      let resolve!: () => void;
      let reject!: (error: unknown) => void;
      const done = new Promise<void>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      const timer = setTimeout(() => this.flush(txn), this.#delayMs);
      pending = { ids: [], timer, resolve, reject, done };
      this.#pending.set(txn, pending);
    }
    pending.ids.push(...ids);
    const done = pending.done;
    if (pending.ids.length >= this.#maxIds) this.flush(txn);
    return done;
  }

  /** Sends what waits for `txn` (every transaction when omitted) now. */
  flush(txn?: Transaction): void {
    const txns = txn ? [txn] : [...this.#pending.keys()];
    for (const t of txns) {
      const pending = this.#pending.get(t);
      if (!pending) continue;
      this.#pending.delete(t);
      clearTimeout(pending.timer);
      let sent: Promise<void>;
      try {
        sent = this.#send(t, pending.ids);
      } catch (error) {
        sent = Promise.reject(error);
      }
      sent.then(pending.resolve, pending.reject);
    }
  }
}
