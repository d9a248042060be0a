/**
 * Pulsar transactions: the client side of the transaction coordinators, and the
 * {@linkcode Transaction} handle that producers send in and consumers acknowledge in.
 *
 * The coordinators are the partitions of `persistent://pulsar/system/transaction_coordinator_assign`
 * (coordinator N lives on the broker owning partition N). The client looks each one up, asks its
 * broker to serve it on the connection (TC_CLIENT_CONNECT_REQUEST), then opens transactions on
 * them in turn (NEW_TXN), registers the partitions a transaction produces to and the
 * subscriptions it acknowledges on (ADD_PARTITION_TO_TXN, ADD_SUBSCRIPTION_TO_TXN) and ends it
 * (END_TXN). A request that meets a dropped connection or a coordinator still loading is tried
 * again on a fresh connection until the operation timeout; a commit whose answer was lost is a
 * {@linkcode TransactionOutcomeUnknownError}.
 *
 * @module
 */
import { Backoff, sleep } from "./backoff.ts";
import type { ClientContext } from "./client_context.ts";
import type { Connection } from "./connection.ts";
import { BrokerError, InvalidArgumentError, TimeoutError } from "./errors.ts";
import { partitionTopic } from "./topic_name.ts";
import {
  InvalidTxnStatusError,
  TransactionCoordinatorNotFoundError,
  TransactionError,
  transactionError,
  TransactionNotFoundError,
  TransactionOutcomeUnknownError,
} from "./transaction_errors.ts";
import type { Command } from "./wire/mod.ts";

/** The topic whose partitions are the transaction coordinators. */
export const TC_ASSIGN_TOPIC = "persistent://pulsar/system/transaction_coordinator_assign";

/** A transaction id: the coordinator's number (`mostBits`) and its counter (`leastBits`). */
export interface TxnId {
  /** The coordinator's number. */
  mostBits: number;
  /** The transaction's number on that coordinator. */
  leastBits: number;
}

/** Where a transaction is. */
export type TransactionState = "open" | "committing" | "committed" | "aborting" | "aborted";

/** Options of {@linkcode TransactionCoordinatorClient.newTransaction}. */
export interface NewTransactionOptions {
  /** The coordinator aborts the transaction when it is not ended this long after it opened. Default 60 000 ms. */
  timeoutMs?: number;
}

/**
 * One transaction. Sends (`producer.send(m, { txn })`) and acks (`consumer.ackInTransaction`)
 * register their partition or subscription through it; `commit` waits for every such operation
 * first, so what was handed to it is in or out together.
 */
export class Transaction {
  /** "most:least", the form Pulsar's tools print. */
  readonly text: string;
  #state: TransactionState = "open";
  readonly #partitions = new Map<string, Promise<void>>();
  readonly #registered = new Set<string>();
  readonly #subscriptions = new Map<string, Promise<void>>();
  readonly #operations = new Set<Promise<unknown>>();
  #failure?: unknown;

  /** @internal Use {@linkcode TransactionCoordinatorClient.newTransaction} or `attach`. */
  constructor(
    readonly id: TxnId,
    readonly coordinator: TransactionCoordinatorClient,
    /** When the coordinator will abort it (ms since the epoch); NaN when not known (attached). */
    readonly deadline: number,
  ) {
    this.text = `${id.mostBits}:${id.leastBits}`;
  }

  /** Where the transaction is. */
  get state(): TransactionState {
    return this.#state;
  }

  /** Throws unless the transaction is open (sends and acks may still join it). */
  checkOpen(): void {
    if (this.#state !== "open") {
      throw new InvalidTxnStatusError(`transaction ${this.text} is ${this.#state}`);
    }
  }

  /** True when `topic` (a partition) is registered and confirmed: a send need not wait. */
  hasPartition(topic: string): boolean {
    return this.#registered.has(topic);
  }

  /** Registers a partition this transaction produces to (once per partition). */
  registerPartition(topic: string): Promise<void> {
    this.checkOpen();
    let done = this.#partitions.get(topic);
    if (!done) {
      done = this.coordinator.addPartition(this.id, topic);
      this.#partitions.set(topic, done);
      done.then(() => this.#registered.add(topic), () => this.#partitions.delete(topic));
    }
    return done;
  }

  /** Registers a subscription this transaction acknowledges on (once per pair). */
  registerSubscription(topic: string, subscription: string): Promise<void> {
    this.checkOpen();
    const key = `${topic}\u0000${subscription}`;
    let done = this.#subscriptions.get(key);
    if (!done) {
      done = this.coordinator.addSubscription(this.id, topic, subscription);
      this.#subscriptions.set(key, done);
      done.catch(() => this.#subscriptions.delete(key));
    }
    return done;
  }

  /**
   * A send or ack inside the transaction: `commit` waits for it, and a failure makes the
   * commit fail (the transaction is then aborted), so nothing is committed half.
   */
  track<T>(operation: Promise<T>): Promise<T> {
    this.#operations.add(operation);
    operation.then(
      () => this.#operations.delete(operation),
      (error) => {
        this.#operations.delete(operation);
        this.#failure ??= error;
      },
    );
    return operation;
  }

  /**
   * Waits for every tracked send and ack, then commits. When one of them failed the
   * transaction is aborted instead and the failure thrown.
   */
  async commit(): Promise<void> {
    this.checkOpen();
    this.#state = "committing";
    while (this.#operations.size > 0) {
      await Promise.allSettled([...this.#operations]);
    }
    if (this.#failure !== undefined) {
      this.#state = "aborting";
      await this.coordinator.end(this.id, "ABORT").catch(() => {});
      this.#state = "aborted";
      throw new TransactionError(`transaction ${this.text} aborted: an operation in it failed`, {
        cause: this.#failure,
      });
    }
    try {
      await this.coordinator.end(this.id, "COMMIT");
      this.#state = "committed";
    } catch (error) {
      this.#state = error instanceof TransactionOutcomeUnknownError ? "committing" : "aborted";
      throw error;
    }
  }

  /** Aborts: its sends are never visible, its acks are undone (the messages come again). */
  async abort(): Promise<void> {
    if (this.#state === "aborted") return;
    this.checkOpen();
    this.#state = "aborting";
    await Promise.allSettled([...this.#operations]);
    try {
      await this.coordinator.end(this.id, "ABORT");
    } catch (error) {
      // Already gone (timed out): it is aborted all the same.
      if (!(error instanceof TransactionNotFoundError || error instanceof InvalidTxnStatusError)) {
        this.#state = "open";
        throw error;
      }
    }
    this.#state = "aborted";
  }
}

/** Options of {@linkcode TransactionCoordinatorClient}. */
export interface CoordinatorOptions {
  /** How long one request may take, retries included. Default: the client's operation timeout. */
  operationTimeoutMs?: number;
}

/**
 * The client of a cluster's transaction coordinators. Create it with
 * `client.transactions()`.
 *
 * @example
 * ```ts
 * import { PulsarClient } from "./client.ts";
 * // Needs a broker with transactionCoordinatorEnabled=true: type-checked here, not run.
 * async function example() {
 *   const client = new PulsarClient({ serviceUrl: "pulsar://127.0.0.1:6650" });
 *   const txns = await client.transactions();
 *   const txn = await txns.newTransaction({ timeoutMs: 30_000 });
 *   const producer = await client.createProducer({ topic: "out" });
 *   await producer.send({ payload: "counted once" }, { txn });
 *   await txn.commit();
 *   await client.close();
 * }
 * void example;
 * ```
 */
export class TransactionCoordinatorClient {
  readonly #ctx: ClientContext;
  readonly #timeoutMs: number;
  readonly #connections = new Map<number, Promise<Connection>>();
  #count = 0;
  #next = 0;

  private constructor(ctx: ClientContext, options: CoordinatorOptions) {
    this.#ctx = ctx;
    this.#timeoutMs = options.operationTimeoutMs ?? ctx.operationTimeoutMs;
  }

  /** Finds the coordinators and connects to the first one. */
  static async connect(
    ctx: ClientContext,
    options: CoordinatorOptions = {},
  ): Promise<TransactionCoordinatorClient> {
    const client = new TransactionCoordinatorClient(ctx, options);
    client.#count = await client.#retry("find the transaction coordinators", async () => {
      const n = await ctx.lookup.partitions(TC_ASSIGN_TOPIC);
      if (n === 0) {
        throw new TransactionCoordinatorNotFoundError(
          `${TC_ASSIGN_TOPIC} has no partitions: is transactionCoordinatorEnabled=true on the broker?`,
        );
      }
      return n;
    });
    client.#next = Math.floor(Math.random() * client.#count);
    await client.#retry("connect to transaction coordinator 0", () => client.#connection(0));
    return client;
  }

  /** Number of coordinators. */
  get coordinators(): number {
    return this.#count;
  }

  /** Opens a transaction on the next coordinator. */
  async newTransaction(options: NewTransactionOptions = {}): Promise<Transaction> {
    const timeoutMs = options.timeoutMs ?? 60_000;
    if (!(timeoutMs > 0)) throw new InvalidArgumentError("transaction timeout must be positive");
    const tcId = this.#next++ % this.#count;
    const opened = Date.now();
    const answer = await this.#request(tcId, "open a transaction", {
      type: "NEW_TXN",
      requestId: 0,
      // The field is named in seconds; brokers read it as milliseconds (as the Java client sends).
      txnTtlSeconds: Math.ceil(timeoutMs),
      tcId,
    });
    const id = { mostBits: Number(answer.txnidMostBits), leastBits: Number(answer.txnidLeastBits) };
    return new Transaction(id, this, opened + timeoutMs);
  }

  /**
   * A handle on a transaction another process opened (its id came in-band): sends and acks may
   * join it; committing it is the opener's business.
   */
  attach(id: TxnId | string): Transaction {
    return new Transaction(typeof id === "string" ? parseTxnId(id) : id, this, NaN);
  }

  /** @internal ADD_PARTITION_TO_TXN. */
  async addPartition(id: TxnId, topic: string): Promise<void> {
    await this.#request(id.mostBits, `add ${topic} to transaction ${txnText(id)}`, {
      type: "ADD_PARTITION_TO_TXN",
      requestId: 0,
      txnidLeastBits: id.leastBits,
      txnidMostBits: id.mostBits,
      partitions: [topic],
    });
  }

  /** @internal ADD_SUBSCRIPTION_TO_TXN. */
  async addSubscription(id: TxnId, topic: string, subscription: string): Promise<void> {
    await this.#request(
      id.mostBits,
      `add subscription ${subscription} of ${topic} to transaction ${txnText(id)}`,
      {
        type: "ADD_SUBSCRIPTION_TO_TXN",
        requestId: 0,
        txnidLeastBits: id.leastBits,
        txnidMostBits: id.mostBits,
        subscription: [{ topic, subscription }],
      },
    );
  }

  /** @internal END_TXN. A commit whose answer was lost throws TransactionOutcomeUnknownError. */
  async end(id: TxnId, action: "COMMIT" | "ABORT"): Promise<void> {
    const what = `${action === "COMMIT" ? "commit" : "abort"} transaction ${txnText(id)}`;
    const tries = { count: 0 };
    try {
      await this.#request(id.mostBits, what, {
        type: "END_TXN",
        requestId: 0,
        txnidLeastBits: id.leastBits,
        txnidMostBits: id.mostBits,
        txnAction: action,
      }, tries);
    } catch (error) {
      // A commit cut off, or a retried one that finds the transaction gone: not known.
      const lost = error instanceof TimeoutError ||
        (error as { retriable?: boolean }).retriable === true;
      const gone = error instanceof TransactionNotFoundError && tries.count > 1;
      if (action === "COMMIT" && tries.count > 0 && (lost || gone)) {
        throw new TransactionOutcomeUnknownError(`${what}: no answer`, { cause: error });
      }
      throw error;
    }
  }

  /** Sends `command` to coordinator `tcId`, again on a fresh connection after a retriable failure. */
  #request(
    tcId: number,
    what: string,
    command: Record<string, unknown>,
    tries: { count: number } = { count: 0 },
  ): Promise<Record<string, unknown>> {
    return this.#retry(what, async () => {
      const conn = await this.#connection(tcId);
      tries.count++;
      try {
        const frame = await conn.request(command as unknown as Command, this.#timeoutMs);
        return frame.command as unknown as Record<string, unknown>;
      } catch (error) {
        if ((error as { retriable?: boolean }).retriable) this.#forget(tcId, conn);
        throw transactionError(error, what);
      }
    });
  }

  /** Runs `attempt` until it succeeds, fails for good, or the operation timeout passes. */
  async #retry<T>(what: string, attempt: () => Promise<T>): Promise<T> {
    const deadline = Date.now() + this.#timeoutMs;
    const backoff = new Backoff({ initialMs: 50, maxMs: 2_000, ...this.#ctx.backoff });
    for (;;) {
      try {
        return await attempt();
      } catch (error) {
        const retriable = (error as { retriable?: boolean }).retriable === true ||
          error instanceof BrokerError && error.code === "ServiceNotReady";
        const wait = backoff.next();
        if (!retriable || Date.now() + wait > deadline) {
          if (retriable && !(error instanceof TransactionError)) {
            throw new TimeoutError(`${what}: gave up after ${this.#timeoutMs} ms`, {
              cause: error,
            });
          }
          throw error;
        }
        await sleep(wait);
      }
    }
  }

  /** The connection serving coordinator `tcId` (looked up and handshaken once per connection). */
  #connection(tcId: number): Promise<Connection> {
    let conn = this.#connections.get(tcId);
    if (conn) return conn;
    conn = (async () => {
      const c = await this.#ctx.lookup.connectionFor(partitionTopic(TC_ASSIGN_TOPIC, tcId));
      try {
        await c.request({ type: "TC_CLIENT_CONNECT_REQUEST", requestId: 0, tcId } as Command);
      } catch (error) {
        throw transactionError(error, `connect to transaction coordinator ${tcId}`);
      }
      c.closed.then(() => this.#forget(tcId, c));
      return c;
    })();
    this.#connections.set(tcId, conn);
    conn.catch(() => {
      if (this.#connections.get(tcId) === conn) this.#connections.delete(tcId);
    });
    return conn;
  }

  #forget(tcId: number, conn: Connection): void {
    const current = this.#connections.get(tcId);
    current?.then((c) => {
      if (c === conn && this.#connections.get(tcId) === current) this.#connections.delete(tcId);
    }, () => {});
  }
}

/** "most:least" of a transaction id. */
export function txnText(id: TxnId): string {
  return `${id.mostBits}:${id.leastBits}`;
}

/**
 * Parses "most:least" (as {@linkcode Transaction.text} prints it).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseTxnId } from "./transaction.ts";
 * assert.deepEqual(parseTxnId("3:17"), { mostBits: 3, leastBits: 17 });
 * ```
 */
export function parseTxnId(text: string): TxnId {
  const match = /^(\d+):(\d+)$/.exec(text);
  if (!match) throw new InvalidArgumentError(`'${text}' is not a transaction id (most:least)`);
  const id = { mostBits: Number(match[1]), leastBits: Number(match[2]) };
  if (!Number.isSafeInteger(id.mostBits) || !Number.isSafeInteger(id.leastBits)) {
    throw new InvalidArgumentError(`transaction id '${text}' is out of range`);
  }
  return id;
}
