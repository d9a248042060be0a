/**
 * Turns the payload of an entry as received into the bytes of its message(s): decompression, and
 * the checks that keep unreadable payloads from passing as data (end-to-end encryption).
 *
 * @module
 */
import { decompress } from "./compression.ts";
import type { MessageDecryptor } from "./crypto/message_crypto.ts";
import { MessageDecodeError } from "./message_decode_error.ts";
import type { MessageMetadata } from "./wire/mod.ts";

/** The decoded payload, or why there is none. */
export type DecodedPayload = { payload: Uint8Array; error?: undefined } | {
  payload?: undefined;
  error: MessageDecodeError;
};

/**
 * Decodes the (whole, reassembled) payload of an entry: decrypts it with `decryptor` when it is
 * end-to-end encrypted (decryption comes before decompression, as producers compress first), then
 * decompresses it. `what` names the message in errors.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeEntryPayload } from "./message_decode.ts";
 * const meta = { producerName: "p", sequenceId: 0, publishTime: 0 };
 * const raw = new Uint8Array([1, 2, 3]);
 * assert.deepEqual(decodeEntryPayload(meta, raw, "1:2").payload, raw);
 * const sealed = { ...meta, encryptionKeys: [{ key: "k", value: new Uint8Array(1) }] };
 * assert.equal(decodeEntryPayload(sealed, raw, "1:2").error?.kind, "encrypted");
 * ```
 */
export function decodeEntryPayload(
  metadata: MessageMetadata,
  payload: Uint8Array,
  what: string,
  decryptor?: MessageDecryptor,
): DecodedPayload {
  if (metadata.encryptionKeys && metadata.encryptionKeys.length > 0) {
    const keys = metadata.encryptionKeys.map((k) => k.key).join(", ");
    const sealed = `message ${what} is end-to-end encrypted (key ${keys}` +
      `${metadata.encryptionAlgo ? `, ${metadata.encryptionAlgo}` : ""})`;
    if (!decryptor) {
      return {
        error: new MessageDecodeError("encrypted", `${sealed}; no --decrypt-key was given`),
      };
    }
    try {
      payload = decryptor.open(metadata, payload);
    } catch (cause) {
      return {
        error: new MessageDecodeError(
          "encrypted",
          `${sealed} and cannot be decrypted: ${(cause as Error).message}`,
          { cause },
        ),
      };
    }
  }
  if (!metadata.compression || metadata.compression === "NONE") return { payload };
  try {
    return {
      payload: decompress(metadata.compression, payload, Number(metadata.uncompressedSize ?? 0)),
    };
  } catch (cause) {
    return {
      error: new MessageDecodeError(
        "decompress",
        `message ${what} cannot be decompressed (${metadata.compression}): ` +
          (cause as Error).message,
        { cause },
      ),
    };
  }
}
