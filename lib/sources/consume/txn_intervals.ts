/**
 * Exactly-once for the consume source: the messages it writes are cut into intervals, one Pulsar
 * transaction each. An interval opens (a new transaction, announced in-band by a `txn` record)
 * before its first message, and closes once it is `intervalMs` old at a batch-entry boundary
 * (so that no transaction acknowledges part of an entry). The terminal stage sends the interval's
 * results inside the transaction and reports ids as usual; each report is acknowledged inside the
 * same transaction, and when every message of a closed interval is reported the transaction is
 * committed: results and acknowledgements become effective together, or (abort, timeout, a dead
 * process) neither does and the messages are delivered again.
 *
 * @module
 */
import type { TxnRecord } from "../../envelope.ts";
import type { Message, Transaction, TransactionCoordinatorClient } from "../../pulsar/mod.ts";

/** What intervals need from the subscription. */
export interface TxnAcker {
  ackInTransaction(target: Message, txn: Transaction): Promise<void>;
}

/** Options of {@linkcode TxnIntervals}. */
export interface TxnIntervalOptions {
  coordinator: TransactionCoordinatorClient;
  acker: TxnAcker;
  /** How long an interval stays open (default 1 s). */
  intervalMs: number;
  /** The transaction timeout: the coordinator aborts an interval not committed by then. */
  timeoutMs: number;
  /** Writes a control record in-band, in order with the messages. */
  emit: (record: TxnRecord) => Promise<void>;
  /** A commit or an ack failed: the source must stop (what was not committed comes again). */
  onFatal: (error: unknown) => void;
  /** Counts committed messages. */
  onCommitted?: (messages: number) => void;
}

interface Interval {
  txn: Transaction;
  /** Written, not yet reported. */
  outstanding: Set<string>;
  written: number;
  closed: boolean;
  committing: boolean;
  timer?: ReturnType<typeof setTimeout>;
  /** Time is up; close at the next entry boundary. */
  due: boolean;
  /** The last message written ended its batch entry. */
  atBoundary: boolean;
}

/**
 * The open and closing intervals of one consume session.
 *
 * @example
 * ```ts ignore
 * const intervals = new TxnIntervals({ coordinator, acker, intervalMs: 1000, timeoutMs: 60_000,
 *   emit: (r) => sink.send(r), onFatal: (e) => stop(e) });
 * await intervals.beforeMessage();   // opens a transaction and writes its record when needed
 * intervals.written(envelope.id, msg);
 * intervals.reported(id, handle);    // from the ack channel
 * await intervals.finish();          // commits what is complete, aborts the rest
 * ```
 */
export class TxnIntervals {
  readonly #o: TxnIntervalOptions;
  #open?: Interval;
  readonly #byId = new Map<string, Interval>();
  readonly #live = new Set<Interval>();
  #commits: Promise<void> = Promise.resolve();
  #failure?: { error: unknown };
  committed = 0;

  constructor(options: TxnIntervalOptions) {
    this.#o = options;
  }

  /** The failure that stopped the intervals, if any. */
  get failure(): { error: unknown } | undefined {
    return this.#failure;
  }

  /** Opens an interval (and announces its transaction) unless one is open. */
  async beforeMessage(): Promise<void> {
    if (this.#failure) throw this.#failure.error;
    if (this.#open && !this.#open.closed) return;
    const txn = await this.#o.coordinator.newTransaction({ timeoutMs: this.#o.timeoutMs });
    const interval: Interval = {
      txn,
      outstanding: new Set(),
      written: 0,
      closed: false,
      committing: false,
      due: false,
      atBoundary: true,
    };
    interval.timer = setTimeout(() => {
      interval.due = true;
      if (interval.atBoundary) this.#close(interval);
    }, this.#o.intervalMs);
    this.#open = interval;
    this.#live.add(interval);
    await this.#o.emit({ $edgepipe: "txn", txn: txn.text });
  }

  /** A message of the open interval was written (as envelope `id`). */
  written(id: string, msg: Message): void {
    const interval = this.#open!;
    interval.outstanding.add(id);
    interval.written++;
    this.#byId.set(id, interval);
    const { batchIndex, batchSize } = msg.id;
    interval.atBoundary = batchIndex < 0 || batchIndex >= batchSize - 1;
    if (interval.due && interval.atBoundary) this.#close(interval);
  }

  /** The terminal reported `id` delivered: acknowledge it inside its interval's transaction. */
  reported(id: string, handle: Message | undefined): boolean {
    const interval = this.#byId.get(id);
    if (!interval || !handle) return false;
    this.#byId.delete(id);
    interval.outstanding.delete(id);
    this.#o.acker.ackInTransaction(handle, interval.txn).catch(() => {}); // fails the commit
    this.#maybeCommit(interval);
    return true;
  }

  #close(interval: Interval): void {
    if (interval.closed) return;
    interval.closed = true;
    clearTimeout(interval.timer);
    this.#maybeCommit(interval);
  }

  #maybeCommit(interval: Interval): void {
    if (!interval.closed || interval.committing || interval.outstanding.size > 0) return;
    interval.committing = true;
    // In order: a later interval never commits before an earlier one.
    this.#commits = this.#commits.then(async () => {
      if (this.#failure) return;
      try {
        await interval.txn.commit();
        this.#live.delete(interval);
        this.committed += interval.written;
        this.#o.onCommitted?.(interval.written);
      } catch (error) {
        this.#fail(error);
      }
    });
  }

  #fail(error: unknown): void {
    if (this.#failure) return;
    this.#failure = { error };
    this.#o.onFatal(error);
  }

  /** Closes the open interval and waits until every interval has committed (or `deadline`). */
  async settle(deadline: number): Promise<void> {
    if (this.#open) this.#close(this.#open);
    while (this.#live.size > 0 && !this.#failure && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    if (this.#failure) throw this.#failure.error;
  }

  /**
   * The source stops: the open interval closes, complete intervals commit, and the others (the
   * terminal did not report all their messages) are aborted, so their messages come again.
   * Throws the failure that stopped the intervals, if any.
   */
  async finish(): Promise<{ aborted: number }> {
    if (this.#open) this.#close(this.#open);
    await this.#commits;
    let aborted = 0;
    for (const interval of this.#live) {
      clearTimeout(interval.timer);
      aborted += interval.written;
      await interval.txn.abort().catch(() => {});
    }
    this.#live.clear();
    if (this.#failure) throw this.#failure.error;
    return { aborted };
  }
}
