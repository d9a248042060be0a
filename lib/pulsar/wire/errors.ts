/**
 * The one error the wire layer throws: bytes from the network that do not form a valid Pulsar
 * frame. A connection that meets one has lost its framing and must be closed; reconnecting may
 * succeed, so it is retriable.
 *
 * @module
 */
import { EdgepipeError } from "../../errors.ts";

/**
 * Malformed, oversized, truncated or corrupt protocol data (or a value that cannot be encoded).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ProtocolError } from "./errors.ts";
 * const err = new ProtocolError("checksum mismatch");
 * assert.ok(err.retriable);
 * assert.ok(err instanceof Error);
 * ```
 */
export class ProtocolError extends EdgepipeError {
  /** Retriable unless `retriable: false`: a fresh connection may fix it. */
  constructor(message: string, options: ErrorOptions & { retriable?: boolean } = {}) {
    super(message, { retriable: true, ...options });
  }
}
