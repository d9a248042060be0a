/**
 * The event envelope: one JSON object per line between edgepipe commands, and control records
 * that travel in the same stream. The exact shapes are documented in `docs/envelope.md`.
 *
 * @module
 */
/**
 * An event as it flows through stages (the fields are described in `docs/envelope.md`). Stages add
 * fields (`score`, `window`) and keep the rest. (`envelopeSchema` in `envelope_schema.ts`
 * validates one; this module stays free of zod so that every command starts without loading it.)
 */
export interface Envelope {
  /** The topic the event was consumed from. */
  topic?: string;
  /** The partition of that topic. */
  partition?: number;
  /** Opaque id the source acknowledges once everything derived from the event is delivered. */
  id?: string;
  /** The message key: partition routing, windows by key. */
  key?: string | null;
  /** When the broker stored the message, epoch ms. */
  publishTime?: number;
  /** When the event happened, epoch ms. */
  eventTime?: number;
  /** String map of message properties. */
  properties?: Record<string, string>;
  /** How often the broker delivered this message before. */
  redeliveryCount?: number;
  /** The payload. */
  value?: unknown;
  /** Fields stages add (`score`, `window`, `deadLetter`, …). */
  [field: string]: unknown;
}

/** The field that marks a line as a control record rather than an event. */
export const CONTROL_FIELD = "$edgepipe";

/**
 * Sent first by a source that wants acknowledgements: the terminal stage connects to `ack`
 * (a Unix socket path) and reports delivered event ids there.
 */
export interface HelloRecord {
  /** Marks the record as a hello. */
  $edgepipe: "hello";
  /** Version of the ack protocol. */
  v: 1;
  /** Path of the source's Unix socket for acknowledgements. */
  ack: string;
  /** The source command (`consume`). */
  source: string;
}

/**
 * Ids of events that a stage consumed without emitting anything further for them (a filter dropped
 * them, a window absorbed them into checkpointed state, a dead letter took them). Once everything
 * ahead of this record in the stream is delivered, they may be acknowledged at the source.
 */
export interface AckRecord {
  /** Marks the record as an ack record. */
  $edgepipe: "ack";
  /** Ids of the events consumed. */
  ids: string[];
}

/**
 * Written last by a source that really reached the end of its input (`consume -e` at the end of
 * the topic, `replay` after its last file, a bounded source in `run`). A stateful stage behind an
 * edgepipe source (one that saw a `hello`) that reaches EOF without it takes the EOF for an
 * upstream failure, not for the end of the stream: it keeps its state and fires nothing.
 */
export interface EndRecord {
  /** Marks the record as the end of the stream. */
  $edgepipe: "end";
  /** The source command that reached its end (`replay`, `consume`). */
  source: string;
}

/**
 * Under `--guarantee exactly-once`: the events after this record (until the next one) come from
 * messages the source acknowledges inside Pulsar transaction `txn` ("most:least"); the terminal
 * stage sends their results inside it, so results and acknowledgements commit together.
 */
export interface TxnRecord {
  /** Marks the record as a transaction announcement. */
  $edgepipe: "txn";
  /** The transaction id, "most:least". */
  txn: string;
}

/** Any control record. Stages that do not understand one pass it on untouched. */
export type ControlRecord =
  | HelloRecord
  | AckRecord
  | EndRecord
  | TxnRecord
  | ({ $edgepipe: string } & Record<string, unknown>);

/** One item of a stream: an event or a control record. */
export type Item = Envelope | ControlRecord;

/** True for control records. */
export function isControl(item: unknown): item is ControlRecord {
  return typeof item === "object" && item !== null &&
    typeof (item as Record<string, unknown>)[CONTROL_FIELD] === "string";
}

/** Builds an ack record for ids that end their journey in this stage. */
export function ackRecord(ids: string[]): AckRecord {
  return { $edgepipe: "ack", ids };
}

/**
 * Builds the end-of-stream record a source writes after its last event.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { endRecord, isEnd } from "./envelope.ts";
 * assert.ok(isEnd(endRecord("replay")));
 * assert.ok(!isEnd({ $edgepipe: "ack", ids: [] }));
 * ```
 */
export function endRecord(source: string): EndRecord {
  return { $edgepipe: "end", source };
}

/** True for the end-of-stream control record. */
export function isEnd(item: unknown): item is EndRecord {
  return isControl(item) && item[CONTROL_FIELD] === "end";
}

/** Wraps a plain JSON value that is not already an envelope. */
export function wrapValue(value: unknown): Envelope {
  return { value };
}

/** Reads a dotted path (`value.origin`, `score.delayed`) from an event. */
export function getPath(event: unknown, path: string): unknown {
  let current: unknown = event;
  for (const part of path.split(".")) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}
