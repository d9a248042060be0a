/**
 * File sources (`@edgepipe/edgepipe/sources`): NDJSON, JSON arrays, CSV/TSV and Parquet, gzipped
 * or not, read record by record as `edgepipe replay` reads them. Loads the Parquet reader.
 *
 * @example Read a CSV file
 * ```ts
 * import assert from "node:assert/strict";
 * import { openFile } from "./sources.ts";
 * const path = await Deno.makeTempFile({ suffix: ".csv" });
 * await Deno.writeTextFile(path, "origin,delay\nSFO,12\n");
 * const records = await Array.fromAsync(openFile(path));
 * assert.deepEqual(records, [{ value: { origin: "SFO", delay: 12 }, line: 2 }]);
 * ```
 *
 * @module
 */
export {
  type FileFormat,
  formatOf,
  FORMATS,
  openFile,
  type OpenFileOptions,
} from "../sources/open_file.ts";
export type { ReadProgress, SourceFailure, SourceItem, SourceRecord } from "../sources/types.ts";
