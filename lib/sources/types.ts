/**
 * What file readers yield: one record (a row or a JSON value) with where it came from, or a
 * recoverable error for one bad record so that `--on-error skip` can go on past it.
 *
 * @module
 */
import type { InputError } from "../errors.ts";

/** A record read from a file. */
export interface SourceRecord {
  /** The row (CSV, Parquet) or JSON value. */
  value: unknown;
  /** 1-based line where the record starts (text formats). */
  line?: number;
  /** True when the record is already an envelope (an NDJSON line with a `value` field). */
  envelope?: boolean;
}

/** One bad record; the reader carries on after it. */
export interface SourceFailure {
  /** What is wrong with the record, with its line. */
  error: InputError;
  /** The raw text of the bad record (its bytes when they are not UTF-8), for dead letters. */
  raw?: string | Uint8Array;
}

/** An item a file reader yields. */
export type SourceItem = SourceRecord | SourceFailure;

/** True for a bad record. */
export function isFailure(item: SourceItem): item is SourceFailure {
  return "error" in item;
}

/** Progress a reader reports so a progress bar can show how far it is. */
export interface ReadProgress {
  /** Units done so far (bytes for text files, rows for Parquet). */
  done: number;
  /** Units in the whole file. */
  total: number;
  /** What `done` and `total` count. */
  unit: "bytes" | "rows";
}
