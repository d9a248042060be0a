/**
 * Typed failures of the Pulsar client. Each failure a user can meet has its own class, keeps the
 * underlying error as `cause`, and says whether retrying may succeed (`retriable`).
 *
 * @module
 */
import { EdgepipeError } from "../errors.ts";

/**
 * Base class of every Pulsar client error.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PulsarError } from "./errors.ts";
 * const err = new PulsarError("boom", { retriable: true });
 * assert.ok(err instanceof Error);
 * assert.ok(err.retriable);
 * ```
 */
export class PulsarError extends EdgepipeError {}

/** The broker could not be reached, or the connection to it dropped. Always retriable. */
export class ConnectionError extends PulsarError {
  /** Always retriable. */
  constructor(message: string, options: ErrorOptions = {}) {
    super(message, { ...options, retriable: true });
  }
}

/** A request got no answer in time (lookup, subscribe, send receipt). Retriable. */
export class TimeoutError extends PulsarError {
  /** Always retriable. */
  constructor(message: string, options: ErrorOptions = {}) {
    super(message, { ...options, retriable: true });
  }
}

/** Authentication failed or the credentials could not be produced. */
export class AuthenticationError extends PulsarError {}

/** The producer was closed (by the user, or for good by the broker); no more sends. */
export class ProducerClosedError extends PulsarError {}

/** The consumer or reader was closed; no more receives or acks. */
export class ConsumerClosedError extends PulsarError {}

/** The client was closed. */
export class ClientClosedError extends PulsarError {}

/** A message was larger than the broker's maximum message size. */
export class MessageTooLargeError extends PulsarError {}

/** An invalid argument to the client: a bad topic name, option or message id. */
export class InvalidArgumentError extends PulsarError {}

/** ServerError codes the broker may answer with, by number (PulsarApi.proto `ServerError`). */
export const SERVER_ERRORS = [
  "UnknownError",
  "MetadataError",
  "PersistenceError",
  "AuthenticationError",
  "AuthorizationError",
  "ConsumerBusy",
  "ServiceNotReady",
  "ProducerBlockedQuotaExceededError",
  "ProducerBlockedQuotaExceededException",
  "ChecksumError",
  "UnsupportedVersionError",
  "TopicNotFound",
  "SubscriptionNotFound",
  "ConsumerNotFound",
  "TooManyRequests",
  "TopicTerminatedError",
  "ProducerBusy",
  "InvalidTopicName",
  "IncompatibleSchema",
  "ConsumerAssignError",
  "TransactionCoordinatorNotFound",
  "InvalidTxnStatus",
  "NotAllowedError",
  "TransactionConflict",
  "TransactionNotFound",
  "ProducerFenced",
] as const;

/** Name of a broker ServerError code. */
export type ServerErrorName = (typeof SERVER_ERRORS)[number];

/** Codes where the same request may succeed later (broker busy, topic moving, quota). */
const RETRIABLE_CODES: ReadonlySet<string> = new Set([
  "UnknownError",
  "MetadataError",
  "PersistenceError",
  "ServiceNotReady",
  "TooManyRequests",
  "ProducerBlockedQuotaExceededException",
  "ChecksumError",
]);

/** Codes after which reconnecting cannot help: a producer or consumer stops for good. */
const FATAL_ON_RECONNECT: ReadonlySet<string> = new Set([
  "TopicNotFound",
  "TopicTerminatedError",
  "ProducerFenced",
  "InvalidTopicName",
  "IncompatibleSchema",
  "AuthorizationError",
  "NotAllowedError",
]);

/**
 * Whether a producer or consumer that lost its connection should keep trying after `error`.
 * Broader than `retriable`: a ProducerBusy or ConsumerBusy right after a drop usually means the
 * broker has not yet noticed the old connection is gone.
 */
export function worthReconnecting(error: unknown): boolean {
  if (error instanceof BrokerError) return !FATAL_ON_RECONNECT.has(error.code);
  return (error as { retriable?: boolean })?.retriable === true;
}

/**
 * The broker refused a request. `code` is the ServerError name (`TopicNotFound`,
 * `AuthorizationError`, `ProducerBusy`…).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { BrokerError } from "./errors.ts";
 * const err = BrokerError.from(11, "no such topic");
 * assert.equal(err.code, "TopicNotFound");
 * assert.ok(!err.retriable);
 * ```
 */
export class BrokerError extends PulsarError {
  /** The ServerError name the broker sent. */
  readonly code: string;

  /** `code` is the broker's ServerError name; retriable when the broker may recover. */
  constructor(code: string, message: string, options: ErrorOptions & { retriable?: boolean } = {}) {
    super(`${code}: ${message}`, { retriable: RETRIABLE_CODES.has(code), ...options });
    this.code = code;
  }

  /** Builds the error from the broker's code (number or name) and message. */
  static from(code: unknown, message: unknown, context?: string): BrokerError {
    const name = typeof code === "number" ? SERVER_ERRORS[code] ?? `ServerError(${code})` : String(
      code ?? "UnknownError",
    );
    const text = String(message ?? "");
    return new BrokerError(name, context ? `${context}: ${text}` : text);
  }
}
