/**
 * The shapes the schema modules share, in a module that loads no schema library.
 *
 * @module
 */
import type { Schema, SchemaType } from "../pulsar/wire/mod.ts";

/** Decodes a topic schema's payloads (and encodes values for producers). */
export interface SchemaCodec {
  /** The schema's type. */
  readonly type: SchemaType;
  /**
   * Fields whose values are left as the writer's bytes (base64), for a schema that does not say
   * how to read them (a PROTOBUF schema's nested messages); absent when every field is decoded.
   */
  readonly undecoded?: readonly string[];
  /**
   * The value of a payload; `key` is the message key's bytes (for a SEPARATED KEY_VALUE).
   * Throws `SchemaValueError` for bytes the schema cannot read.
   */
  decode(payload: Uint8Array, key?: Uint8Array): unknown;
  /**
   * The payload of a value (and for a SEPARATED KEY_VALUE the key bytes); throws
   * `SchemaValueError` for a value that does not fit, before anything is written.
   */
  encode(value: unknown): { payload: Uint8Array; key?: Uint8Array };
}

/** A schema for a producer and the codec of its payloads. */
export interface ProducerSchema {
  /** What the producer sends the broker. */
  schema: Schema;
  /** Encodes each payload. */
  codec: SchemaCodec;
}
