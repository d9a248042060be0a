/**
 * Parquet batches of delivered records (`--payload record|value|field:…`): one column per
 * top-level field of the records in the batch, in the order the fields first appear. A column
 * whose values in the batch are all strings is `STRING`, all numbers `DOUBLE`, all booleans
 * `BOOLEAN` (nulls allowed in each); anything else (objects, arrays, mixed types) is a `JSON`
 * column. A record that is not an object is one field, `value`. A field a record lacks is null.
 *
 * @module
 */
import { parquetWriteBuffer } from "hyparquet-writer";
import type { BatchEncoder } from "./encode.ts";

type ColumnType = "STRING" | "DOUBLE" | "BOOLEAN" | "JSON";

/**
 * Collects records, writes one Parquet file (Snappy pages) at the end.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parquetReadObjects } from "hyparquet";
 * import { RecordParquetEncoder } from "./encode_parquet_record.ts";
 * const encoder = new RecordParquetEncoder();
 * encoder.add({ origin: "SFO", score: { delayed: 0.5 } });
 * const bytes = await encoder.finish();
 * const rows = await parquetReadObjects({ file: bytes.buffer as ArrayBuffer });
 * assert.deepEqual(rows, [{ origin: "SFO", score: { delayed: 0.5 } }]);
 * ```
 */
export class RecordParquetEncoder implements BatchEncoder {
  #records: Record<string, unknown>[] = [];
  #columns = new Map<string, ColumnType | undefined>();

  get count(): number {
    return this.#records.length;
  }

  add(payload: unknown): number {
    const record = isObject(payload) ? payload : { value: payload };
    this.#records.push(record);
    let bytes = 16;
    for (const name in record) {
      const value = record[name];
      const seen = this.#columns.get(name);
      this.#columns.set(name, merge(seen, typeOf(value)));
      bytes += name.length + (typeof value === "string" ? value.length : 12);
    }
    return bytes;
  }

  finish(): Promise<Uint8Array> {
    const columnData = [...this.#columns].map(([name, type]) => ({
      name,
      type: type ?? "JSON",
      nullable: true,
      data: this.#records.map((record) => record[name] ?? null),
    }));
    this.#records = [];
    const buffer = parquetWriteBuffer({ columnData, createdBy: "edgepipe" });
    return Promise.resolve(new Uint8Array(buffer));
  }
}

/** The column type of one value; `undefined` for null or missing (fits any type). */
function typeOf(value: unknown): ColumnType | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value === "string") return "STRING";
  if (typeof value === "number") return "DOUBLE";
  if (typeof value === "boolean") return "BOOLEAN";
  return "JSON";
}

function merge(a: ColumnType | undefined, b: ColumnType | undefined): ColumnType | undefined {
  if (a === undefined) return b;
  if (b === undefined || a === b) return a;
  return "JSON";
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
