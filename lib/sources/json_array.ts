/**
 * A streaming reader for a file holding one JSON array: elements are cut out as they complete and
 * parsed one by one, so a file far larger than memory replays in constant space.
 *
 * @module
 */
import { InputError } from "../errors.ts";
import type { SourceItem } from "./types.ts";

/** Options of {@linkcode readJsonArray}. */
export interface JsonArrayOptions {
  /** Longest single element accepted, in UTF-16 code units (default 16 Mi). */
  maxElementChars?: number;
}

const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const NEWLINE = 0x0a;

/**
 * Yields each element of a top-level JSON array. An element that does not parse is a failure
 * naming the line it starts on; a file that is not an array, or ends inside one, throws.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readJsonArray } from "./json_array.ts";
 * const bytes = new TextEncoder().encode('[{"a":1},\n {"a":[2,"]"]}]');
 * const values = [];
 * for await (const item of readJsonArray(ReadableStream.from([bytes]))) values.push(item);
 * assert.equal(JSON.stringify(values[1]), '{"value":{"a":[2,"]"]},"line":2}');
 * ```
 */
export async function* readJsonArray(
  source: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>,
  options: JsonArrayOptions = {},
): AsyncGenerator<SourceItem> {
  const maxChars = options.maxElementChars ?? 16 * 1024 * 1024;
  const decoder = new TextDecoder("utf-8", { fatal: true });
  let line = 1;
  let state = "before" as "before" | "element" | "after" | "done";
  let depth = 0; // nesting inside the current element
  let inString = false;
  let escaped = false;
  let element = ""; // text of the current element carried over from earlier chunks
  let elementLine = 1;

  const finish = (text: string): SourceItem => {
    try {
      return { value: JSON.parse(text), line: elementLine };
    } catch (cause) {
      return {
        error: new InputError(`not valid JSON: ${(cause as Error).message}`, {
          line: elementLine,
          cause,
        }),
        raw: text,
      };
    }
  };

  for await (const bytes of source) {
    let chunk: string;
    try {
      chunk = decoder.decode(bytes, { stream: true });
    } catch (cause) {
      throw new InputError("invalid UTF-8", { line, cause });
    }
    let start = 0; // where the current element begins within this chunk
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk.charCodeAt(i);
      if (c === NEWLINE) line++;
      if (state === "element") {
        if (inString) {
          if (escaped) escaped = false;
          else if (c === BACKSLASH) escaped = true;
          else if (c === QUOTE) inString = false;
          continue;
        }
        if (c === QUOTE) inString = true;
        else if (c === OPEN_BRACE || c === OPEN_BRACKET) depth++;
        else if (depth > 0 && (c === CLOSE_BRACE || c === CLOSE_BRACKET)) depth--;
        else if (depth === 0 && (c === COMMA || c === CLOSE_BRACKET)) {
          yield finish(element + chunk.slice(start, i));
          element = "";
          state = c === COMMA ? "after" : "done";
        }
        continue;
      }
      if (c === 0x20 || c === 0x09 || c === 0x0d || c === NEWLINE) continue;
      if (state === "before") {
        if (c !== OPEN_BRACKET) {
          throw new InputError(`expected a JSON array ('['), found '${chunk[i]}'`, { line });
        }
        state = "after";
      } else if (state === "after") {
        if (c === CLOSE_BRACKET) {
          state = "done";
          continue;
        }
        state = "element";
        elementLine = line;
        start = i;
        depth = c === OPEN_BRACE || c === OPEN_BRACKET ? 1 : 0;
        inString = c === QUOTE;
      } else {
        throw new InputError(`unexpected '${chunk[i]}' after the end of the JSON array`, { line });
      }
    }
    if (state === "element") {
      element += chunk.slice(start);
      if (element.length > maxChars) {
        throw new InputError(`JSON array element longer than ${maxChars} characters`, {
          line: elementLine,
        });
      }
    }
  }
  if (state === "before") return; // an empty file replays nothing
  if (state !== "done") {
    throw new InputError("file ends inside the JSON array (missing ']')", { line });
  }
}
