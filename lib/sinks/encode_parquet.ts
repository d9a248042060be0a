/**
 * Parquet batches of whole envelopes (`--payload envelope`) with a fixed schema: the envelope's
 * metadata as typed columns and the payload as JSON columns, so any event fits and query engines
 * can read `value` with their JSON functions.
 *
 * | column        | type           |
 * | ------------- | -------------- |
 * | `id`          | string         |
 * | `key`         | string         |
 * | `topic`       | string         |
 * | `partition`   | int32          |
 * | `publishTime` | int64 (ms)     |
 * | `eventTime`   | int64 (ms)     |
 * | `properties`  | JSON           |
 * | `value`       | string: the payload as JSON text (never null) |
 * | `extra`       | JSON: every other top-level field (`score`, `window`, …) |
 *
 * @module
 */
import { parquetWriteBuffer } from "hyparquet-writer";
import type { Envelope } from "../envelope.ts";
import type { BatchEncoder } from "./encode.ts";

const KNOWN = new Set([
  "id",
  "key",
  "topic",
  "partition",
  "publishTime",
  "eventTime",
  "properties",
  "value",
]);

/**
 * Builds the columns as events arrive, writes one Parquet file (Snappy pages) at the end.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ParquetBatchEncoder } from "./encode_parquet.ts";
 * const encoder = new ParquetBatchEncoder();
 * encoder.add({ id: "a", eventTime: 1, value: { origin: "SFO" } });
 * const bytes = await encoder.finish();
 * assert.equal(new TextDecoder().decode(bytes.subarray(0, 4)), "PAR1");
 * ```
 */
export class ParquetBatchEncoder implements BatchEncoder {
  #id: (string | null)[] = [];
  #key: (string | null)[] = [];
  #topic: (string | null)[] = [];
  #partition: (number | null)[] = [];
  #publishTime: (bigint | null)[] = [];
  #eventTime: (bigint | null)[] = [];
  #properties: (Record<string, string> | null)[] = [];
  #value: unknown[] = [];
  #extra: (Record<string, unknown> | null)[] = [];

  get count(): number {
    return this.#id.length;
  }

  /** Adds an envelope (the payload under `--payload envelope`). */
  add(payload: unknown): number {
    const event = payload as Envelope;
    this.#id.push(typeof event.id === "string" ? event.id : null);
    this.#key.push(typeof event.key === "string" ? event.key : null);
    this.#topic.push(typeof event.topic === "string" ? event.topic : null);
    this.#partition.push(Number.isInteger(event.partition) ? event.partition! : null);
    this.#publishTime.push(toInt64(event.publishTime));
    this.#eventTime.push(toInt64(event.eventTime));
    this.#properties.push(event.properties ?? null);
    // Kept as JSON text so that a null payload stays distinguishable from a missing column.
    this.#value.push(event.value === undefined ? null : event.value);
    let extra: Record<string, unknown> | null = null;
    for (const field in event) {
      if (KNOWN.has(field)) continue;
      (extra ??= {})[field] = event[field];
    }
    this.#extra.push(extra);
    // A rough uncompressed size for rolling by bytes; a second JSON encoding would cost too much.
    return 64 + JSON.stringify(event.value ?? null).length;
  }

  finish(): Promise<Uint8Array> {
    const buffer = parquetWriteBuffer({
      columnData: [
        { name: "id", data: this.#id, type: "STRING", nullable: true },
        { name: "key", data: this.#key, type: "STRING", nullable: true },
        { name: "topic", data: this.#topic, type: "STRING", nullable: true },
        { name: "partition", data: this.#partition, type: "INT32", nullable: true },
        { name: "publishTime", data: this.#publishTime, type: "INT64", nullable: true },
        { name: "eventTime", data: this.#eventTime, type: "INT64", nullable: true },
        { name: "properties", data: this.#properties, type: "JSON", nullable: true },
        { name: "value", data: this.#value.map(jsonText), type: "STRING", nullable: false },
        { name: "extra", data: this.#extra, type: "JSON", nullable: true },
      ],
      createdBy: "edgepipe",
    });
    return Promise.resolve(new Uint8Array(buffer));
  }
}

function toInt64(value: unknown): bigint | null {
  return typeof value === "number" && Number.isFinite(value) ? BigInt(Math.trunc(value)) : null;
}

function jsonText(value: unknown): string {
  return JSON.stringify(value);
}
