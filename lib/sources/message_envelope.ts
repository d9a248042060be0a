/**
 * A received Pulsar message as an edgepipe envelope: where it came from, its id for the
 * acknowledgement, its key, times and properties, and the payload decoded as asked.
 *
 * @module
 */
import type { Envelope } from "../envelope.ts";
import { EdgepipeError } from "../errors.ts";
import type { Message } from "../pulsar/mod.ts";

/** How payload bytes become the envelope's `value`. */
export type PayloadDecoding = "json" | "string" | "base64";

/** A payload that cannot be decoded as asked (not UTF-8). */
export class PayloadError extends EdgepipeError {}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Decodes a payload: `json` parses JSON and falls back to the text, `string` keeps the text,
 * `base64` encodes the bytes. Text that is not valid UTF-8 throws {@linkcode PayloadError}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodePayload } from "./message_envelope.ts";
 * const bytes = new TextEncoder().encode('{"a":1}');
 * assert.equal((decodePayload(bytes, "json") as { a: number }).a, 1);
 * assert.equal(decodePayload(bytes, "string"), '{"a":1}');
 * assert.equal(decodePayload(bytes, "base64"), "eyJhIjoxfQ==");
 * ```
 */
export function decodePayload(bytes: Uint8Array, decoding: PayloadDecoding): unknown {
  if (decoding === "base64") return toBase64(bytes);
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch (cause) {
    throw new PayloadError("payload is not valid UTF-8 (read it with --payload base64)", {
      cause,
    });
  }
  if (decoding === "string") return text;
  const first = text.charCodeAt(0);
  // Only text that can be JSON is tried: most plain strings skip the exception path.
  const maybeJson = first === 0x7b || first === 0x5b || first === 0x22 || first === 0x2d ||
    (first >= 0x30 && first <= 0x39) || text === "true" || text === "false" || text === "null" ||
    first === 0x20 || first === 0x0a || first === 0x09 || first === 0x0d;
  if (!maybeJson) return text;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** The topic without its `-partition-N` suffix, and the partition index (-1 when none). */
export function splitPartition(topic: string): { topic: string; partition: number } {
  const match = /^(.*)-partition-(\d+)$/.exec(topic);
  return match ? { topic: match[1], partition: Number(match[2]) } : { topic, partition: -1 };
}

/**
 * Builds the envelope of a message (see docs/envelope.md).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Message, MessageId } from "../pulsar/mod.ts";
 * import { messageEnvelope } from "./message_envelope.ts";
 * const msg = new Message("persistent://public/default/t-partition-1", new MessageId(5n, 3n, 1),
 *   new TextEncoder().encode('{"n":1}'), { publishTime: 10, key: "k" });
 * const env = messageEnvelope(msg, "json");
 * assert.equal(env.topic, "persistent://public/default/t");
 * assert.equal(env.partition, 1);
 * ```
 */
export function messageEnvelope(msg: Message, decoding: PayloadDecoding): Envelope {
  const { topic, partition } = splitPartition(msg.topic);
  const value = decodePayload(msg.payload, decoding);
  // Field order as in docs/envelope.md; absent fields are left out rather than null.
  const envelope = { topic } as Envelope;
  if (partition >= 0) envelope.partition = partition;
  envelope.id = msg.id.toString();
  envelope.key = msg.key ?? null;
  envelope.publishTime = msg.publishTime;
  if (msg.eventTime > 0) envelope.eventTime = msg.eventTime;
  if (Object.keys(msg.properties).length > 0) envelope.properties = msg.properties;
  envelope.redeliveryCount = msg.redeliveryCount;
  envelope.value = value;
  return envelope;
}

function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}
