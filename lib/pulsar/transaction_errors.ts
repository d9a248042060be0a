/**
 * Typed failures of Pulsar transactions. The broker's transaction error codes become their own
 * classes (the broker's error is the `cause`), so callers can tell "the coordinator is not
 * there yet" (retriable) from "this transaction is over" (abort and start again).
 *
 * @module
 */
import { BrokerError, PulsarError } from "./errors.ts";

/** Base class of every transaction failure. */
export class TransactionError extends PulsarError {}

/**
 * No transaction coordinator answers: transactions are not enabled on the broker
 * (`transactionCoordinatorEnabled=false`), or the coordinator is still loading. Retriable.
 */
export class TransactionCoordinatorNotFoundError extends TransactionError {
  /** Always retriable. */
  constructor(message: string, options: ErrorOptions = {}) {
    super(message, { ...options, retriable: true });
  }
}

/** The transaction is not open any more (committed, aborted, or timed out and aborted). */
export class InvalidTxnStatusError extends TransactionError {}

/** The coordinator does not know the transaction (it ended, or never existed). */
export class TransactionNotFoundError extends TransactionError {}

/** Another transaction holds an acknowledgement of the same message. */
export class TransactionConflictError extends TransactionError {}

/**
 * A commit whose answer was lost (connection dropped, timeout): the transaction may or may not
 * have committed. Its sends and acks went together either way: a caller redelivers what it
 * consumed and lets the broker's state decide.
 */
export class TransactionOutcomeUnknownError extends TransactionError {}

const BY_CODE: Record<string, new (message: string, options?: ErrorOptions) => TransactionError> = {
  TransactionCoordinatorNotFound: TransactionCoordinatorNotFoundError,
  InvalidTxnStatus: InvalidTxnStatusError,
  TransactionNotFound: TransactionNotFoundError,
  TransactionConflict: TransactionConflictError,
};

/**
 * The typed transaction error for a broker error with a transaction code; other errors are
 * returned as they are.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { BrokerError } from "./errors.ts";
 * import { InvalidTxnStatusError, transactionError } from "./transaction_errors.ts";
 * const err = transactionError(BrokerError.from("InvalidTxnStatus", "not open"), "commit (1,7)");
 * assert.ok(err instanceof InvalidTxnStatusError);
 * ```
 */
export function transactionError(error: unknown, context: string): unknown {
  if (!(error instanceof BrokerError)) return error;
  const Type = BY_CODE[error.code];
  return Type ? new Type(`${context}: ${error.message}`, { cause: error }) : error;
}
