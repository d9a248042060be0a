/**
 * A received message: payload, key, properties, times, and the id used to acknowledge it.
 *
 * @module
 */
import type { MessageDecodeError } from "./message_decode_error.ts";
import type { MessageId } from "./message_id.ts";

const utf8 = new TextDecoder();

/**
 * One message as a consumer or reader delivers it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Message } from "./message.ts";
 * import { MessageId } from "./message_id.ts";
 * const msg = new Message("persistent://public/default/t", new MessageId(1n, 2n),
 *   new TextEncoder().encode('{"a":1}'), { publishTime: 1 });
 * assert.equal((msg.json() as { a: number }).a, 1);
 * ```
 */
export class Message {
  /** Key used for routing and Key_Shared, when the producer set one. */
  readonly key?: string;
  /** Ordering key, when it differs from `key`. */
  readonly orderingKey?: Uint8Array;
  /** Properties the producer set (empty when none). */
  readonly properties: Record<string, string>;
  /** Publish time, ms since the epoch (set by the producer's clock). */
  readonly publishTime: number;
  /** Event time, ms since the epoch, or 0 when the producer did not set one. */
  readonly eventTime: number;
  /** How many times this message was delivered before (nacks, ack timeouts, reconnects). */
  readonly redeliveryCount: number;
  /** Name of the producer that sent it. */
  readonly producerName: string;
  /** The producer's sequence id of the message. */
  readonly sequenceId: number;
  /**
   * Set when the payload could not be decoded (corrupt compression, end-to-end encryption that no
   * given key opens, a chunked message that could not be reassembled): `payload` then holds the
   * bytes as received, and `text()` / `json()` throw this error. Acknowledge, dead-letter or stop
   * as the application's error policy says; never read such a payload as data.
   */
  readonly decodeError?: MessageDecodeError;
  /**
   * The version of the topic schema the producer wrote the payload with (8 bytes, big-endian
   * version number), when it had one.
   */
  readonly schemaVersion?: Uint8Array;
  /**
   * True when `key` is the base64 text of binary key bytes (a KeyValue schema with SEPARATED
   * encoding sends the key that way).
   */
  readonly keyIsBase64: boolean;

  /** A message as consumers build it (tests build their own). */
  constructor(
    /** The topic (partition) the message came from. */
    readonly topic: string,
    /** Where the message sits; pass it (or `id.toString()`) to acknowledge. */
    readonly id: MessageId,
    /** The bytes. */
    readonly payload: Uint8Array,
    fields: {
      key?: string;
      orderingKey?: Uint8Array;
      properties?: Record<string, string>;
      publishTime: number;
      eventTime?: number;
      redeliveryCount?: number;
      producerName?: string;
      sequenceId?: number;
      decodeError?: MessageDecodeError;
      schemaVersion?: Uint8Array;
      keyIsBase64?: boolean;
    },
  ) {
    this.key = fields.key;
    this.orderingKey = fields.orderingKey;
    this.properties = fields.properties ?? {};
    this.publishTime = fields.publishTime;
    this.eventTime = fields.eventTime ?? 0;
    this.redeliveryCount = fields.redeliveryCount ?? 0;
    this.producerName = fields.producerName ?? "";
    this.sequenceId = fields.sequenceId ?? -1;
    if (fields.decodeError) this.decodeError = fields.decodeError;
    if (fields.schemaVersion) this.schemaVersion = fields.schemaVersion;
    this.keyIsBase64 = fields.keyIsBase64 === true;
  }

  /** The payload as UTF-8 text; throws `decodeError` when there is one. */
  text(): string {
    if (this.decodeError) throw this.decodeError;
    return utf8.decode(this.payload);
  }

  /** The payload parsed as JSON. */
  json(): unknown {
    return JSON.parse(this.text());
  }
}
