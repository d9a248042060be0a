/**
 * A received Pulsar message as an edgepipe envelope: where it came from, its id for the
 * acknowledgement, its key, times and properties, and the payload decoded as asked.
 *
 * @module
 */
import type { Envelope } from "../envelope.ts";
import { EdgepipeError } from "../errors.ts";
import type { Message } from "../pulsar/message.ts";
import { MessageId } from "../pulsar/message_id.ts";
import type { SchemaDecoded } from "../schema/topic_schemas.ts";
import { isCanonicalJson, RawJson } from "./raw_json.ts";

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
 * assert.deepEqual(decodePayload(bytes, "json"), { a: 1 });
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

/** The topic of a message without its partition suffix (cached per topic name). */
export function baseTopic(topic: string): string {
  return partitionOf(topic).topic;
}

/** splitPartition per topic name, computed once: a consumer sees a handful of topics. */
const partitions = new Map<string, { topic: string; partition: number }>();

function partitionOf(topic: string): { topic: string; partition: number } {
  let split = partitions.get(topic);
  if (split === undefined) {
    // Bounded in case a pattern subscription meets an endless stream of new topics.
    if (partitions.size >= 4096) partitions.clear();
    partitions.set(topic, split = splitPartition(topic));
  }
  return split;
}

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/**
 * The base64 text of a message id, the same as `id.toString()` (the protobuf `MessageIdData`
 * bytes), built without BigInt arithmetic or a byte array per message: the ledger, entry and
 * partition fields are encoded once per entry (a batch shares them), and only the few bytes of
 * the batch index and size are encoded per message.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MessageId } from "../pulsar/mod.ts";
 * import { encodeMessageId } from "./message_envelope.ts";
 * const id = new MessageId(123456n, 789n, 2, 41, 1000);
 * assert.equal(encodeMessageId(id), id.toString());
 * ```
 */
export function encodeMessageId(id: MessageId): string {
  if (id.batchIndex > 0x7fffffff || id.batchSize > 0x7fffffff) return id.toString();
  const entry = entryPrefix(id);
  const tail = scratch;
  let n = 0;
  for (let i = 0; i < entry.rest.length; i++) tail[n++] = entry.rest[i];
  if (id.batchIndex >= 0) {
    tail[n++] = 0x20;
    n = varint(tail, n, id.batchIndex);
  }
  if (id.batchSize > 0) {
    tail[n++] = 0x30;
    n = varint(tail, n, id.batchSize);
  }
  return entry.head + base64(tail, n);
}

interface EntryPrefix {
  ledgerId: bigint;
  entryId: bigint;
  partition: number;
  /** Base64 of the whole 3-byte groups of the ledger/entry/partition bytes. */
  head: string;
  /** The 0–2 bytes left over, encoded with the per-message tail. */
  rest: number[];
}

let lastEntry: EntryPrefix | undefined;
const scratch = new Uint8Array(32);

function entryPrefix(id: MessageId): EntryPrefix {
  const last = lastEntry;
  if (
    last !== undefined && last.entryId === id.entryId && last.ledgerId === id.ledgerId &&
    last.partition === id.partition
  ) return last;
  // The reference encoding of the fields shared by every message of the entry.
  const bytes = new MessageId(id.ledgerId, id.entryId, id.partition).toBytes();
  const whole = bytes.length - (bytes.length % 3);
  lastEntry = {
    ledgerId: id.ledgerId,
    entryId: id.entryId,
    partition: id.partition,
    head: base64(bytes, whole),
    rest: [...bytes.subarray(whole)],
  };
  return lastEntry;
}

function varint(out: Uint8Array, at: number, value: number): number {
  while (value > 0x7f) {
    out[at++] = (value & 0x7f) | 0x80;
    value >>>= 7;
  }
  out[at++] = value;
  return at;
}

/** Padded base64 of `bytes[0, length)`. */
function base64(bytes: Uint8Array, length: number): string {
  let text = "";
  let i = 0;
  for (; i + 2 < length; i += 3) {
    const v = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    text += B64[v >>> 18] + B64[(v >>> 12) & 63] + B64[(v >>> 6) & 63] + B64[v & 63];
  }
  if (length - i === 1) {
    const v = bytes[i] << 16;
    text += B64[v >>> 18] + B64[(v >>> 12) & 63] + "==";
  } else if (length - i === 2) {
    const v = (bytes[i] << 16) | (bytes[i + 1] << 8);
    text += B64[v >>> 18] + B64[(v >>> 12) & 63] + B64[(v >>> 6) & 63] + "=";
  }
  return text;
}

function hasKeys(record: Record<string, string>): boolean {
  for (const _ in record) return true;
  return false;
}

/**
 * Builds the envelope of a message (see docs/envelope.md). With `keepJsonText`, a JSON payload
 * that serialises back byte for byte stays its bytes, a {@linkcode RawJson} value, for a writer
 * that splices it into the line (`consume`'s `EnvelopeLineSink`); `JSON.stringify` of the
 * envelope is the same either way.
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
export function messageEnvelope(
  msg: Message,
  decoding: PayloadDecoding,
  decoded?: SchemaDecoded,
  keepJsonText = false,
): Envelope {
  const { topic, partition } = partitionOf(msg.topic);
  const value = decoded
    ? decoded.value
    : keepJsonText && decoding === "json" && isCanonicalJson(msg.payload)
    ? new RawJson(msg.payload)
    : decodePayload(msg.payload, decoding);
  // Field order as in docs/envelope.md; absent fields are left out rather than null.
  const envelope = { topic } as Envelope;
  if (partition >= 0) envelope.partition = partition;
  envelope.id = encodeMessageId(msg.id);
  envelope.key = msg.key ?? null;
  envelope.publishTime = msg.publishTime;
  if (msg.eventTime > 0) envelope.eventTime = msg.eventTime;
  if (hasKeys(msg.properties)) envelope.properties = msg.properties;
  envelope.redeliveryCount = msg.redeliveryCount;
  if (decoded) envelope.schema = decoded.schema;
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
