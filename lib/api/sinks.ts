/**
 * Terminal delivery and sinks (`@edgepipe/edgepipe/sinks`): `deliverAll` sends a stream to a sink
 * and reports delivered ids to their source; sinks for stdout, files, S3 and Pulsar topics. This
 * entry loads the AWS SDK and the Parquet writer.
 *
 * @example Deliver two events to stdout-like bytes: each as its value with what stages added
 * ```ts
 * import assert from "node:assert/strict";
 * import { deliverAll, StdoutSink } from "./sinks.ts";
 * const chunks: Uint8Array[] = [];
 * const sink = new StdoutSink({
 *   output: { write: (bytes) => (chunks.push(bytes.slice()), Promise.resolve(bytes.length)) },
 * });
 * const report = await deliverAll([
 *   { id: "a", value: { delay: 12 }, score: { delayed: 0.7 } },
 *   { id: "b", value: 2 },
 * ], sink);
 * await sink.close();
 * assert.equal(report.delivered, 2);
 * const text = chunks.map((chunk) => new TextDecoder().decode(chunk)).join("");
 * assert.equal(text, '{"delay":12,"score":{"delayed":0.7}}\n2\n');
 * ```
 *
 * @module
 */
export {
  deliverAll,
  type DeliverOptions,
  type DeliveryObserver,
  type DeliveryReport,
} from "../delivery/terminal.ts";
export type { Sink } from "../sinks/types.ts";
export { type DeliveredRecord, deliveredRecord, type PayloadShape } from "../delivered_record.ts";
export {
  openSink,
  parseSinkSpec,
  type PulsarSinkFactory,
  type SinkSpec,
} from "../sinks/open_sink.ts";
export { StdoutSink, type StdoutSinkOptions } from "../sinks/stdout.ts";
export {
  EncodeError,
  type PayloadEncoding,
  PulsarSink,
  type PulsarSinkOptions,
  type Routing,
} from "../sinks/pulsar.ts";
export {
  openS3Sink,
  type S3Connection,
  type S3RetryOptions,
  type S3SinkOptions,
} from "../sinks/s3.ts";
export { PrefixTemplate } from "../sinks/object_naming.ts";
export { type Encoding, ENCODINGS } from "../sinks/encode.ts";
export { openFileSink } from "../sinks/file.ts";
export { type BatchingOptions, BatchingSink, type ObjectStore } from "../sinks/batching_sink.ts";
export {
  loadProducerSchema,
  parseProducerSchema,
  type ProducerSchemaSpec,
} from "../schema/producer_schema_spec.ts";
export type { ProducerSchema, SchemaCodec } from "../schema/types.ts";
export { SchemaDefinitionError, SchemaError, SchemaValueError } from "../schema/errors.ts";
