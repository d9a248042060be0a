/**
 * Failures a consumer surfaces to its user through `receive`.
 *
 * @module
 */
import { PulsarError } from "./errors.ts";

/**
 * A message past its redelivery limit could not be moved to the dead-letter topic: the producer
 * could not be created or the send failed, on every attempt. The message stays unacknowledged
 * (the broker redelivers it to the next consumer) and the consumer stops.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DeadLetterError } from "./consumer_errors.ts";
 * const err = new DeadLetterError("cannot dead-letter 1:2", { cause: new Error("denied") });
 * assert.ok(err.cause instanceof Error);
 * ```
 */
export class DeadLetterError extends PulsarError {}
