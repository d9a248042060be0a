/**
 * Reads an NDJSON file for replay: each line one JSON value. Lines that are envelopes (objects
 * with a `value` field, as `edgepipe consume` writes them) replay as envelopes; control records
 * are stale outside the pipe that carried them and are left out.
 *
 * @module
 */
import { isControl } from "../envelope.ts";
import { BadLine, NdjsonReader } from "../ndjson_reader.ts";
import type { SourceItem } from "./types.ts";

/** Options of {@linkcode readNdjsonFile}. */
export interface NdjsonFileOptions {
  maxLineBytes?: number;
  /** Told once per control record left out. */
  onControl?: (line: number) => void;
}

/**
 * Yields one record per non-blank line; a line that cannot be read (not UTF-8, not JSON, too long
 * or too deep: see `lib/ndjson_reader.ts`) is a failure naming its line.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readNdjsonFile } from "./ndjson_file.ts";
 * const bytes = new TextEncoder().encode('{"a":1}\n\n{"value":2,"key":"k"}\nnope\n');
 * const items = [];
 * for await (const item of readNdjsonFile(ReadableStream.from([bytes]))) items.push(item);
 * assert.equal(items.length, 3);
 * assert.ok("error" in items[2]);
 * ```
 */
export async function* readNdjsonFile(
  source: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>,
  options: NdjsonFileOptions = {},
): AsyncGenerator<SourceItem> {
  const reader = new NdjsonReader(source, { maxLineBytes: options.maxLineBytes, mode: "json" });
  for (let batch = await reader.next(); batch !== null; batch = await reader.next()) {
    const { values, numbers } = batch;
    for (let i = 0; i < values.length; i++) {
      const value = values[i];
      if (value instanceof BadLine) {
        yield { error: value.error, raw: value.bytes ?? value.text };
        continue;
      }
      if (isControl(value)) {
        options.onControl?.(numbers[i]);
        continue;
      }
      const envelope = value !== null && typeof value === "object" && !Array.isArray(value) &&
        "value" in value;
      yield { value, line: numbers[i], envelope };
    }
  }
}
