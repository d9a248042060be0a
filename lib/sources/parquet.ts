/**
 * Reads a Parquet file one row group at a time (pure JS via hyparquet, with ZSTD, Snappy, gzip and
 * Brotli pages), so a file of millions of rows replays without holding them all.
 *
 * @module
 */
import { parquetMetadataAsync, parquetReadObjects } from "hyparquet";
import type { AsyncBuffer, FileMetaData } from "hyparquet";
import { compressors } from "hyparquet-compressors";
import { describeError, InputError } from "../errors.ts";
import type { ReadProgress, SourceItem } from "./types.ts";

/** Options of {@linkcode readParquet}. */
export interface ParquetOptions {
  /** Called after each row group with rows done and total. */
  onProgress?: (progress: ReadProgress) => void;
  /** Rows decoded per step (default: a whole row group, capped at 100,000). */
  rowsPerStep?: number;
}

/**
 * Yields each row as an object. 64-bit integers become numbers when they fit exactly (strings
 * otherwise); timestamps become ISO-8601 strings.
 *
 * @example
 * ```ts ignore
 * import { readParquet } from "./parquet.ts";
 * for await (const item of readParquet("flights-3m.parquet")) console.log(item);
 * ```
 */
export async function* readParquet(
  path: string,
  options: ParquetOptions = {},
): AsyncGenerator<SourceItem> {
  const file = await openParquet(path);
  try {
    let metadata: FileMetaData;
    try {
      metadata = await parquetMetadataAsync(file.buffer);
    } catch (cause) {
      throw new InputError(`${path} is not a readable Parquet file: ${describeError(cause)}`, {
        cause,
      });
    }
    const total = Number(metadata.num_rows);
    const step = options.rowsPerStep ?? 100_000;
    let rowStart = 0;
    for (const group of metadata.row_groups) {
      const groupEnd = rowStart + Number(group.num_rows);
      for (let from = rowStart; from < groupEnd; from += step) {
        const to = Math.min(groupEnd, from + step);
        let rows: Record<string, unknown>[];
        try {
          rows = await parquetReadObjects({
            file: file.buffer,
            metadata,
            compressors,
            rowStart: from,
            rowEnd: to,
          });
        } catch (cause) {
          throw new InputError(
            `${path}: cannot decode rows ${from}–${to}: ${describeError(cause)}`,
            {
              cause,
            },
          );
        }
        for (const row of rows) yield { value: normalise(row) };
        options.onProgress?.({ done: to, total, unit: "rows" });
      }
      rowStart = groupEnd;
    }
  } finally {
    file.close();
  }
}

/** Row count of a Parquet file, read from its footer. */
export async function parquetRowCount(path: string): Promise<number> {
  const file = await openParquet(path);
  try {
    return Number((await parquetMetadataAsync(file.buffer)).num_rows);
  } finally {
    file.close();
  }
}

// Rows of a time-sorted file share timestamps: remember the last conversion.
let lastMs = NaN;
let lastIso = "";

/** ISO text of a timestamp; JSON.stringify of a Date is ten times slower than of a string. */
function isoOf(date: Date): string {
  const ms = date.getTime();
  if (ms !== lastMs) {
    if (Number.isNaN(ms)) return "Invalid Date";
    lastMs = ms;
    lastIso = date.toISOString();
  }
  return lastIso;
}

function normalise(row: Record<string, unknown>): Record<string, unknown> {
  for (const key in row) {
    const value = row[key];
    if (value instanceof Date) row[key] = isoOf(value);
    else if (typeof value === "bigint") {
      row[key] = value >= Number.MIN_SAFE_INTEGER && value <= Number.MAX_SAFE_INTEGER
        ? Number(value)
        : value.toString();
    }
  }
  return row;
}

/** Random access to a file for the Parquet reader, through one open handle. */
async function openParquet(path: string): Promise<{ buffer: AsyncBuffer; close: () => void }> {
  const handle = await Deno.open(path);
  const { size } = await handle.stat();
  // Reads go one at a time: seek and read on a shared handle must not interleave.
  let chain: Promise<unknown> = Promise.resolve();
  const buffer: AsyncBuffer = {
    byteLength: size,
    slice(start: number, end = size): Promise<ArrayBuffer> {
      const read = chain.then(async () => {
        const out = new Uint8Array(end - start);
        await handle.seek(start, Deno.SeekMode.Start);
        let offset = 0;
        while (offset < out.length) {
          const n = await handle.read(out.subarray(offset));
          if (n === null) throw new InputError(`${path}: file is shorter than its footer says`);
          offset += n;
        }
        return out.buffer;
      });
      chain = read.catch(() => {});
      return read;
    },
  };
  return { buffer, close: () => handle.close() };
}
