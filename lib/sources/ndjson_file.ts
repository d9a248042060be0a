/**
 * Reads an NDJSON file for replay: each line one JSON value. Lines that are envelopes (objects
 * with a `value` field, as `edgepipe consume` writes them) replay as envelopes; control records
 * are stale outside the pipe that carried them and are left out.
 *
 * @module
 */
import { isControl } from "../envelope.ts";
import { InputError } from "../errors.ts";
import { readLines } from "../ndjson.ts";
import type { SourceItem } from "./types.ts";

/** Options of {@linkcode readNdjsonFile}. */
export interface NdjsonFileOptions {
  maxLineBytes?: number;
  /** Told once per control record left out. */
  onControl?: (line: number) => void;
}

/**
 * Yields one record per non-blank line; a line that is not JSON is a failure naming its line.
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
  for await (const line of readLines(source, { maxLineBytes: options.maxLineBytes })) {
    if (line.text.trim() === "") continue;
    let value: unknown;
    try {
      value = JSON.parse(line.text);
    } catch (cause) {
      yield {
        error: new InputError(`not valid JSON: ${(cause as Error).message}`, {
          line: line.number,
          cause,
        }),
        raw: line.text,
      };
      continue;
    }
    if (isControl(value)) {
      options.onControl?.(line.number);
      continue;
    }
    const envelope = value !== null && typeof value === "object" && !Array.isArray(value) &&
      "value" in value;
    yield { value, line: line.number, envelope };
  }
}
