/**
 * What a terminal stage delivers for an event (`docs/envelope.md`, "What a terminal stage
 * delivers"). Every terminal stage — `produce`, `route`, `sink file|s3|stdout`, the sinks of
 * `edgepipe run` — turns an envelope into a {@linkcode DeliveredRecord} with
 * {@linkcode deliveredRecord}, so they all deliver the same thing.
 *
 * By default (`--payload record`) the payload is one flat JSON object: the fields of the event's
 * `value` followed by every field a stage added (`score` or the `score --as` name, a join's
 * `ref`, a late event's `late`; for a window result its `key`, `window`, the aggregates and
 * `timing`). Transport fields (`id`, `topic`, `partition`, `publishTime`, `redeliveryCount`, `schema`)
 * describe where the event came from and are not delivered; `key`, `eventTime` and `properties`
 * are message metadata.
 *
 * @module
 */
import { type Envelope, getPath } from "./envelope.ts";
import { InputError, UsageError } from "./errors.ts";

/** What becomes the payload: `--payload record|value|envelope|field:<path>`. */
export type PayloadShape =
  | { kind: "record" }
  | { kind: "value" }
  | { kind: "envelope" }
  | { kind: "field"; path: string };

/** The default shape. */
export const RECORD_SHAPE: PayloadShape = Object.freeze({ kind: "record" });

/** The source message's own fields: where it came from, never part of the payload. */
export const TRANSPORT_FIELDS: ReadonlySet<string> = new Set([
  "id",
  "topic",
  "partition",
  "publishTime",
  "redeliveryCount",
  "schema",
]);

/** Fields delivered as message metadata (Pulsar key, event time, properties), not in the payload. */
export const METADATA_FIELDS: ReadonlySet<string> = new Set(["key", "eventTime", "properties"]);

/** An event that cannot take the chosen payload shape (a field missing, a name clash). */
export class RecordShapeError extends InputError {}

/** The payload of one event and the metadata that travels beside it. */
export interface DeliveredRecord {
  /** A JSON value: the flat record, the value, the envelope or one field of it. */
  payload: unknown;
  /** The envelope's key (Pulsar message key). */
  key?: string;
  /** The envelope's event time, epoch ms (Pulsar message event time). */
  eventTime?: number;
  /** The envelope's properties (Pulsar message properties). */
  properties?: Record<string, string>;
}

/**
 * Parses `record`, `value`, `envelope` or `field:<dotted path>`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parsePayloadShape } from "./delivered_record.ts";
 * assert.deepEqual(parsePayloadShape("field:score"), { kind: "field", path: "score" });
 * assert.throws(() => parsePayloadShape("everything"));
 * ```
 */
export function parsePayloadShape(text: string, flag = "--payload"): PayloadShape {
  if (text === "record" || text === "value" || text === "envelope") return { kind: text };
  if (text.startsWith("field:") && text.length > "field:".length) {
    return { kind: "field", path: text.slice("field:".length) };
  }
  throw new UsageError(
    `${flag} must be record, value, envelope or field:<path>, got '${text}'`,
  );
}

/** The text form of a shape, as {@linkcode parsePayloadShape} reads it. */
export function describePayloadShape(shape: PayloadShape): string {
  return shape.kind === "field" ? `field:${shape.path}` : shape.kind;
}

/**
 * The payload and metadata an event is delivered as.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { deliveredRecord } from "./delivered_record.ts";
 * const scored = {
 *   id: "CAcQAA==",
 *   topic: "flights",
 *   key: "SFO",
 *   eventTime: 5,
 *   value: { origin: "SFO", delay: 12 },
 *   score: { delayed: 0.75 },
 * };
 * assert.deepEqual(deliveredRecord(scored), {
 *   payload: { origin: "SFO", delay: 12, score: { delayed: 0.75 } },
 *   key: "SFO",
 *   eventTime: 5,
 * });
 * // Nothing added: the value as it is, so copying a topic keeps its payloads.
 * assert.equal(deliveredRecord({ id: "x", value: "plain text" }).payload, "plain text");
 * // A value that is not an object, with additions: wrapped under `value`.
 * assert.deepEqual(deliveredRecord({ value: 3, score: { p: 1 } }).payload, {
 *   value: 3,
 *   score: { p: 1 },
 * });
 * ```
 */
export function deliveredRecord(
  event: Envelope,
  shape: PayloadShape = RECORD_SHAPE,
): DeliveredRecord {
  const delivered: DeliveredRecord = { payload: payloadOf(event, shape) };
  if (typeof event.key === "string" && event.key !== "") delivered.key = event.key;
  if (typeof event.eventTime === "number") delivered.eventTime = event.eventTime;
  if (event.properties && Object.keys(event.properties).length > 0) {
    delivered.properties = event.properties;
  }
  return delivered;
}

/** The payload alone; throws {@linkcode RecordShapeError} when the event cannot take the shape. */
export function payloadOf(event: Envelope, shape: PayloadShape = RECORD_SHAPE): unknown {
  switch (shape.kind) {
    case "record":
      return flatRecord(event);
    case "envelope":
      return event;
    case "value":
      if (event.value === undefined) throw new RecordShapeError("event has no value");
      return event.value;
    case "field": {
      const found = getPath(event, shape.path);
      if (found === undefined) {
        throw new RecordShapeError(`event has no field ${shape.path} (--payload field:…)`);
      }
      return found;
    }
  }
}

/**
 * The default payload: the value's fields, then what stages added, in envelope order. A window
 * result (an event with a `window` field) keeps its `key` in the record: it is the group the
 * aggregates belong to. With nothing added the value is returned as it is.
 */
function flatRecord(event: Envelope): unknown {
  const windowResult = event.window !== undefined;
  let added = false;
  for (const field in event) {
    if (isAdded(field, windowResult)) {
      added = true;
      break;
    }
  }
  const value = event.value;
  if (!added) {
    if (value === undefined) throw new RecordShapeError("event has no value");
    return value;
  }
  const record: Record<string, unknown> = {};
  for (const field in event) {
    if (field === "value") {
      if (isPlainObject(value)) {
        for (const name in value) put(record, name, value[name]);
      } else if (value !== undefined) put(record, "value", value);
    } else if (isAdded(field, windowResult)) put(record, field, event[field]);
  }
  return record;
}

function isAdded(field: string, windowResult: boolean): boolean {
  if (field === "value" || TRANSPORT_FIELDS.has(field)) return false;
  if (field === "key") return windowResult;
  return !METADATA_FIELDS.has(field);
}

function put(
  record: Record<string, unknown>,
  name: string,
  value: unknown,
): void {
  if (Object.hasOwn(record, name)) {
    throw new RecordShapeError(
      `field '${name}' is both in the value and added by a stage; rename one (score --as, map) ` +
        `or choose --payload envelope`,
    );
  }
  if (name === "__proto__") {
    Object.defineProperty(record, name, { value, enumerable: true, writable: true });
  } else record[name] = value;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
