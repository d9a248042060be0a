/**
 * The core of edgepipe as a library (`@edgepipe/edgepipe/core`): events, control records, NDJSON
 * lines, errors, error policies and dead letters, stage composition and the event-time parser.
 * It loads no npm package but zod.
 *
 * @example Read NDJSON lines into items and keep the events
 * ```ts
 * import assert from "node:assert/strict";
 * import { isControl, parseItem, readLines } from "./core.ts";
 * const text = '{"$edgepipe":"ack","ids":["a"]}\n{"id":"b","value":{"n":1}}\n';
 * const items = [];
 * for await (const line of readLines(ReadableStream.from([new TextEncoder().encode(text)]))) {
 *   items.push(parseItem(line));
 * }
 * assert.deepEqual(items.filter((item) => !isControl(item)), [{ id: "b", value: { n: 1 } }]);
 * ```
 *
 * @module
 */
export {
  type AckRecord,
  ackRecord,
  type ControlRecord,
  type EndRecord,
  endRecord,
  type Envelope,
  getPath,
  type HelloRecord,
  isControl,
  isEnd,
  type Item,
  type TxnRecord,
} from "../envelope.ts";
export { describeError, EdgepipeError, InputError, UsageError } from "../errors.ts";
export {
  BrokenPipeError,
  type ByteSink,
  type Line,
  LineWriter,
  parseItem,
  readLines,
} from "../ndjson.ts";
export {
  BadLine,
  type ByteSource,
  type LineBatch,
  MAX_NESTING,
  NdjsonReader,
  type NdjsonReaderOptions,
  type ParseMode,
} from "../ndjson_reader.ts";
export { type BadLineHandler, badLinePolicy, LineItems } from "../stage_input.ts";
export {
  type DeadLetter,
  deadLetterOf,
  type DeadLetterSink,
  type ErrorPolicy,
  parseErrorPolicy,
} from "../dead_letter.ts";
export { pipeStages, type Stage } from "../stages/types.ts";
export { EventTimeError, MAX_EVENT_TIME, parseEventTime } from "../time/event_time.ts";
