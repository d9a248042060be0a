/**
 * Opens a file for replay in the format its name (or `--format`) says, as a stream of records.
 * Text formats may be gzipped (`.csv.gz`); `-` is stdin (NDJSON unless `--format` says otherwise).
 *
 * @module
 */
import { InputError, UsageError } from "../errors.ts";
import { readCsv } from "./csv.ts";
import { readJsonArray } from "./json_array.ts";
import { readNdjsonFile } from "./ndjson_file.ts";
import { readParquet } from "./parquet.ts";
import type { ReadProgress, SourceItem } from "./types.ts";

/** The formats replay reads. `json` is sniffed: an array, or one value per line. */
export const FORMATS = ["ndjson", "json", "csv", "tsv", "parquet"] as const;

/** A replay file format. */
export type FileFormat = typeof FORMATS[number];

/** Options of {@linkcode openFile}. */
export interface OpenFileOptions {
  /** Overrides the format taken from the file name. */
  format?: FileFormat;
  /** Longest line accepted (default 16 MiB); a longer one is a bad record. */
  maxLineBytes?: number;
  /** CSV field separator (default `,`; tab for `tsv`). */
  delimiter?: string;
  /** Called as reading progresses. */
  onProgress?: (progress: ReadProgress) => void;
  /** Told when an NDJSON file holds a control record (left out). */
  onControl?: (line: number) => void;
}

/** Picks the format from a file name, or fails with a line that says which names are known. */
export function formatOf(path: string): FileFormat {
  const name = path.toLowerCase().replace(/\.(gz)$/, "");
  if (/\.(ndjson|jsonl)$/.test(name)) return "ndjson";
  if (name.endsWith(".json")) return "json";
  if (name.endsWith(".csv")) return "csv";
  if (name.endsWith(".tsv")) return "tsv";
  if (name.endsWith(".parquet")) return "parquet";
  throw new UsageError(
    `${path}: unknown format (use a .ndjson, .jsonl, .json, .csv, .tsv or .parquet name, or --format)`,
  );
}

/**
 * Opens `path` and yields its records. A missing or unreadable file throws an
 * {@linkcode InputError} that names it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { openFile } from "./open_file.ts";
 * const path = await Deno.makeTempFile({ suffix: ".csv" });
 * await Deno.writeTextFile(path, "a,b\n1,x\n");
 * const records = [];
 * for await (const item of openFile(path)) records.push(item);
 * await Deno.remove(path);
 * assert.equal(JSON.stringify(records), '[{"value":{"a":1,"b":"x"},"line":2}]');
 * ```
 */
export async function* openFile(
  path: string,
  options: OpenFileOptions = {},
): AsyncGenerator<SourceItem> {
  const format = options.format ?? (path === "-" ? "ndjson" : formatOf(path));
  if (path === "-") {
    if (format === "parquet") throw new UsageError("Parquet cannot be read from stdin");
    yield* readText(Deno.stdin.readable, format, options);
    return;
  }
  let file: Deno.FsFile;
  let size: number;
  try {
    file = await Deno.open(path);
    const info = await file.stat();
    if (info.isDirectory) throw new Error("is a directory");
    size = info.size;
  } catch (cause) {
    const reason = cause instanceof Deno.errors.NotFound
      ? "no such file"
      : cause instanceof Deno.errors.PermissionDenied
      ? "permission denied"
      : (cause as Error).message;
    // The reason says what the cause would; keep the line short.
    throw new InputError(`cannot open ${path}: ${reason}`);
  }
  if (format === "parquet") {
    if (path.toLowerCase().endsWith(".gz")) {
      file.close();
      throw new UsageError(`${path}: Parquet files compress their own pages; unpack the .gz first`);
    }
    file.close();
    yield* readParquet(path, { onProgress: options.onProgress });
    return;
  }
  let bytes: AsyncIterable<Uint8Array> = counted(file.readable, size, options.onProgress);
  if (path.toLowerCase().endsWith(".gz")) {
    bytes = ReadableStream.from(bytes).pipeThrough(
      new DecompressionStream("gzip") as unknown as TransformStream<Uint8Array, Uint8Array>,
    );
  }
  try {
    yield* readText(bytes, format, options);
  } catch (err) {
    if (err instanceof InputError && !err.message.startsWith(path)) {
      throw new InputError(`${path}: ${err.message}`);
    }
    throw err;
  }
}

function readText(
  bytes: AsyncIterable<Uint8Array>,
  format: Exclude<FileFormat, "parquet">,
  options: OpenFileOptions,
): AsyncGenerator<SourceItem> {
  if (format === "csv" || format === "tsv") {
    return readCsv(bytes, {
      delimiter: options.delimiter ?? (format === "tsv" ? "\t" : ","),
      maxLineBytes: options.maxLineBytes,
    });
  }
  return format === "ndjson" ? readNdjsonFile(bytes, options) : readJson(bytes, options);
}

/** A `.json` file is either one array or one value per line: the first character decides. */
async function* readJson(
  bytes: AsyncIterable<Uint8Array>,
  options: OpenFileOptions,
): AsyncGenerator<SourceItem> {
  const iterator = bytes[Symbol.asyncIterator]();
  const first = await iterator.next();
  if (first.done) return;
  const rest: AsyncIterable<Uint8Array> = {
    [Symbol.asyncIterator]: () => iterator,
  };
  async function* again() {
    yield first.value;
    yield* rest;
  }
  const text = new TextDecoder().decode(first.value.subarray(0, 64)).trimStart();
  if (text.startsWith("[")) {
    yield* readJsonArray(again(), { maxElementChars: options.maxLineBytes });
  } else yield* readNdjsonFile(again(), options);
}

async function* counted(
  stream: ReadableStream<Uint8Array>,
  total: number,
  onProgress?: (progress: ReadProgress) => void,
): AsyncGenerator<Uint8Array> {
  let done = 0;
  for await (const chunk of stream) {
    done += chunk.length;
    onProgress?.({ done, total, unit: "bytes" });
    yield chunk;
  }
}
