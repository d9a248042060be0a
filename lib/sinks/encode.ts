/**
 * Batch encoders for the S3 and file sinks: NDJSON (plain, gzip or zstd) and Parquet. An encoder
 * collects one batch of events, counts its bytes so the sink can roll by size, and turns the batch
 * into the bytes of one object.
 *
 * @module
 */
import { promisify } from "node:util";
import { gzip, zstdCompress } from "node:zlib";
import type { Envelope } from "../envelope.ts";
import { UsageError } from "../errors.ts";
import { ParquetBatchEncoder } from "./encode_parquet.ts";

/** The object formats a batching sink can write. */
export const ENCODINGS = ["ndjson", "ndjson.gz", "ndjson.zst", "parquet"] as const;

/** One of {@linkcode ENCODINGS}; it is also the object's file extension. */
export type Encoding = typeof ENCODINGS[number];

/** Collects one batch and encodes it. */
export interface BatchEncoder {
  /** Adds an event; returns the (uncompressed) bytes it added to the batch. */
  add(event: Envelope): number;
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

  add(event: Envelope): number {
    const line = JSON.stringify(event);
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
 * A fresh encoder for one batch.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { newBatchEncoder } from "./encode.ts";
 * const encoder = newBatchEncoder("ndjson");
 * encoder.add({ id: "a", value: 1 });
 * const text = new TextDecoder().decode(await encoder.finish());
 * assert.equal(text, '{"id":"a","value":1}\n');
 * ```
 */
export function newBatchEncoder(encoding: Encoding): BatchEncoder {
  switch (encoding) {
    case "ndjson":
      return new NdjsonBatchEncoder("none");
    case "ndjson.gz":
      return new NdjsonBatchEncoder("gzip");
    case "ndjson.zst":
      return new NdjsonBatchEncoder("zstd");
    case "parquet":
      return new ParquetBatchEncoder();
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
