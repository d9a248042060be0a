/**
 * Why a received message could not be turned into its payload: the consumer hands such a message
 * on with the bytes as received and this error, so that the application decides (skip, dead
 * letter, stop) instead of the receive queue closing on it.
 *
 * @module
 */
import { EdgepipeError } from "../errors.ts";

/** What kept a message from being decoded. */
export type MessageDecodeErrorKind = "decompress" | "encrypted" | "chunk";

/**
 * A message whose payload could not be decoded.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MessageDecodeError } from "./message_decode_error.ts";
 * const err = new MessageDecodeError("encrypted", "message 1:2 is encrypted");
 * assert.equal(err.kind, "encrypted");
 * assert.equal(err.name, "MessageDecodeError");
 * ```
 */
export class MessageDecodeError extends EdgepipeError {
  /** An error of `kind` with a message naming the message; `options.cause` the underlying one. */
  constructor(
    /** `decompress`: corrupt or unsupported compression; `encrypted`: end-to-end encrypted
     * and no given key opens it (or none was given); `chunk`: a chunked message that could not be reassembled. */
    readonly kind: MessageDecodeErrorKind,
    message: string,
    options: ErrorOptions = {},
  ) {
    super(message, options);
  }
}
