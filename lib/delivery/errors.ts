/**
 * Errors of the delivery layer: the ack channel between the source and the terminal stage, and
 * sends that a terminal stage could not complete.
 *
 * @module
 */
import { EdgepipeError } from "../errors.ts";

/** The ack channel could not be set up, or its socket failed. */
export class AckChannelError extends EdgepipeError {}

/**
 * A sink could not deliver an event and `--on-error` is `fail`. Everything before the event was
 * delivered and reported; the event and everything after it were not acknowledged.
 */
export class DeliveryError extends EdgepipeError {
  /** The id of the event that failed, when it had one. */
  readonly id?: string;

  constructor(message: string, options: ErrorOptions & { id?: string; retriable?: boolean } = {}) {
    super(message, options);
    this.id = options.id;
  }
}
