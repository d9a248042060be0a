/**
 * Batch encoders for the S3 and file sinks: NDJSON (plain, gzip or zstd) and Parquet. An encoder
 * collects one batch of delivered payloads (`lib/delivered_record.ts`), counts its bytes so the
 * sink can roll by size, and turns the batch into the bytes of one object.
 *
 * @module
 */
import { promisify } from "node:util";
import { gzip, zstdCompress } from "node:zlib";
import { UsageError } from "../errors.ts";
import type { PayloadShape } from "../delivered_record.ts";
import { ParquetBatchEncoder } from "./encode_parquet.ts";
import { RecordParquetEncoder } from "./encode_parquet_record.ts";

/** The object formats a batching sink can write. */
export const ENCODINGS = ["ndjson", "ndjson.gz", "ndjson.zst", "parquet"] as const;

/** One of {@linkcode ENCODINGS}; it is also the object's file extension. */
export type Encoding = typeof ENCODINGS[number];

/** Collects one batch and encodes it. */
export interface BatchEncoder {
  /** Adds a payload; returns the (uncompressed) bytes it added to the batch. */
  add(payload: unknown): number;
  /** Events added so far. */
  readonly count: number;
  /** The encoded object. The encoder is spent afterwards. */
  finish(): Promise<Uint8Array>;
}

/** Parses `--format` / `--compression` style names; `gzip`/`zstd` alone mean NDJSON with them. */
export function parseEncoding(text: string): Encoding {
  const aliases: Record<string, Encoding> = {
    json: "ndjson",
    gzip: "ndjson.gz",
    gz: "ndjson.gz",
    "ndjson+gzip": "ndjson.gz",
    zstd: "ndjson.zst",
    zst: "ndjson.zst",
    "ndjson+zstd": "ndjson.zst",
  };
  const encoding = aliases[text] ?? text;
  if (!(ENCODINGS as readonly string[]).includes(encoding)) {
    throw new UsageError(
      `--format must be one of ${ENCODINGS.join(", ")} (or gzip, zstd), got '${text}'`,
    );
  }
  return encoding as Encoding;
}

const gzipAsync = promisify(gzip);
const zstdAsync = promisify(zstdCompress);

/** NDJSON lines, compressed at the end of the batch off the main thread by zlib. */
class NdjsonBatchEncoder implements BatchEncoder {
  #lines: string[] = [];
  #compression: "none" | "gzip" | "zstd";

  constructor(compression: "none" | "gzip" | "zstd") {
    this.#compression = compression;
  }

  get count(): number {
    return this.#lines.length;
  }

  add(payload: unknown): number {
    const line = JSON.stringify(payload);
    this.#lines.push(line);
    // Length in UTF-16 units is a cheap, close-enough byte count for rolling.
    return line.length + 1;
  }

  async finish(): Promise<Uint8Array> {
    const text = this.#lines.length === 0 ? "" : this.#lines.join("\n") + "\n";
    this.#lines = [];
    const bytes = new TextEncoder().encode(text);
    if (this.#compression === "gzip") return new Uint8Array(await gzipAsync(bytes));
    if (this.#compression === "zstd") return new Uint8Array(await zstdAsync(bytes));
    return bytes;
  }
}

/**
 * A fresh encoder for one batch of payloads of `shape` (default `record`). NDJSON writes each
 * payload as one line; Parquet keeps the envelope's columns for `envelope` payloads
 * (`encode_parquet.ts`) and one column per record field otherwise (`encode_parquet_record.ts`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { newBatchEncoder } from "./encode.ts";
 * const encoder = newBatchEncoder("ndjson");
 * encoder.add({ origin: "SFO", score: { delayed: 0.5 } });
 * const text = new TextDecoder().decode(await encoder.finish());
 * assert.equal(text, '{"origin":"SFO","score":{"delayed":0.5}}\n');
 * ```
 */
export function newBatchEncoder(encoding: Encoding, shape?: PayloadShape): BatchEncoder {
  switch (encoding) {
    case "ndjson":
      return new NdjsonBatchEncoder("none");
    case "ndjson.gz":
      return new NdjsonBatchEncoder("gzip");
    case "ndjson.zst":
      return new NdjsonBatchEncoder("zstd");
    case "parquet":
      return shape?.kind === "envelope" ? new ParquetBatchEncoder() : new RecordParquetEncoder();
  }
}

/** The Content-Type and Content-Encoding an object of `encoding` is uploaded with. */
export function contentHeaders(encoding: Encoding): { type: string; encoding?: string } {
  switch (encoding) {
    case "ndjson":
      return { type: "application/x-ndjson" };
    case "ndjson.gz":
      return { type: "application/x-ndjson", encoding: "gzip" };
    case "ndjson.zst":
      return { type: "application/x-ndjson", encoding: "zstd" };
    case "parquet":
      return { type: "application/vnd.apache.parquet" };
  }
}
