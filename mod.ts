/**
 * edgepipe as a library: the same stages, sinks and Pulsar client the commands use, over async
 * iterables of {@linkcode Item}s (events and control records).
 *
 * @example Score bundled flights and count them per origin and hour
 * ```ts
 * import { readLines, parseItem, score, window, isControl } from "./mod.ts";
 *
 * const file = await Deno.open("examples/data/flights-2001-03-12-morning.ndjson");
 * async function* flights() {
 *   for await (const line of readLines(file.readable)) yield parseItem(line);
 * }
 * const hourly = window({
 *   key: "value.origin",
 *   shape: { kind: "tumbling", size: 3_600_000 },
 *   aggregates: "count(), avg(score.delayed)",
 * })(score(flights(), { model: "models/flight-delay" }));
 * let flightsCounted = 0;
 * for await (const item of hourly) {
 *   if (!isControl(item)) flightsCounted += (item.value as { count: number }).count;
 * }
 * console.assert(flightsCounted === 3417);
 * ```
 *
 * @module
 */

// Events, control records and errors
export {
  type AckRecord,
  ackRecord,
  type ControlRecord,
  type Envelope,
  envelopeSchema,
  getPath,
  type HelloRecord,
  isControl,
  type Item,
} from "./lib/envelope.ts";
export { describeError, EdgepipeError, InputError, UsageError } from "./lib/errors.ts";
export { BrokenPipeError, LineWriter, parseItem, readLines } from "./lib/ndjson.ts";
export {
  BadLine,
  type ByteSource,
  type LineBatch,
  MAX_NESTING,
  NdjsonReader,
  type NdjsonReaderOptions,
  type ParseMode,
} from "./lib/ndjson_reader.ts";
export { type BadLineHandler, badLinePolicy, LineItems } from "./lib/stage_input.ts";
export {
  type DeadLetter,
  deadLetterOf,
  deadLetterOfLine,
  type DeadLetterSink,
  type ErrorPolicy,
  parseErrorPolicy,
} from "./lib/dead_letter.ts";

// Stages
export { pipeStages, type Stage } from "./lib/stages/types.ts";
export { filter, type FilterOptions } from "./lib/stages/filter.ts";
export { map, type MapOptions } from "./lib/stages/map.ts";
export { join, loadReference } from "./lib/stages/join.ts";
export { openWindowCheckpoints, window, type WindowOptions } from "./lib/stages/window/window.ts";
export { compileExpression } from "./lib/expr/cel.ts";
export { CheckpointStore } from "./lib/checkpoint/store.ts";
export {
  type LoadedModel,
  loadModel,
  type ModelSpec,
  score,
  scoreBatches,
  type ScoreOptions,
} from "./lib/score/mod.ts";

// Sources, delivery and sinks
export { openFile } from "./lib/sources/open_file.ts";
export { deliverAll, type DeliverOptions, type DeliveryReport } from "./lib/delivery/terminal.ts";
export type { Sink } from "./lib/sinks/types.ts";
export { openSink, parseSinkSpec } from "./lib/sinks/open_sink.ts";
export { StdoutSink } from "./lib/sinks/stdout.ts";
export { PulsarSink } from "./lib/sinks/pulsar.ts";
export { openS3Sink } from "./lib/sinks/s3.ts";
export { openFileSink } from "./lib/sinks/file.ts";
export { runPipeline } from "./lib/pipeline/run_pipeline.ts";
export { loadPipeline } from "./lib/pipeline/load_pipeline.ts";

// The Pulsar client
export { Consumer, Message, MessageId, Producer, PulsarClient, Reader } from "./lib/pulsar/mod.ts";
