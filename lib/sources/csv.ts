/**
 * A streaming CSV reader (RFC 4180): a header row names the fields; quoted fields may hold the
 * delimiter, doubled quotes and newlines. Numbers, booleans and empty fields are typed.
 *
 * @module
 */
import { InputError } from "../errors.ts";
import { type Line, readLines } from "../ndjson.ts";
import type { SourceItem } from "./types.ts";

/** Options of {@linkcode readCsv}. */
export interface CsvOptions {
  /** Field separator (default `,`). */
  delimiter?: string;
  /** Longest physical line accepted. */
  maxLineBytes?: number;
  /** Keep every field a string (default: numbers, `true`/`false` and empty fields are typed). */
  raw?: boolean;
}

const NUMBER = /^-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/**
 * Reads CSV rows as objects keyed by the header. A row with the wrong number of fields, or a
 * stray or unterminated quote, is yielded as a failure naming its line; reading continues.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readCsv } from "./csv.ts";
 * const bytes = new TextEncoder().encode('origin,delay\nSFO,12\n"LA, X",-3\n');
 * const rows = [];
 * for await (const item of readCsv(ReadableStream.from([bytes]))) rows.push(item);
 * assert.equal(JSON.stringify(rows[1]), '{"value":{"origin":"LA, X","delay":-3},"line":3}');
 * ```
 */
export async function* readCsv(
  source: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>,
  options: CsvOptions = {},
): AsyncGenerator<SourceItem> {
  const delimiter = options.delimiter ?? ",";
  if (delimiter.length !== 1 || delimiter === '"' || delimiter === "\n") {
    throw new InputError(`CSV delimiter must be one character other than a quote or newline`);
  }
  const typed = !options.raw;
  let header: string[] | undefined;
  let pending: { text: string; line: number } | undefined;

  for await (const line of readLines(source, { maxLineBytes: options.maxLineBytes })) {
    const record: Line = pending
      ? { text: `${pending.text}\n${line.text}`, number: pending.line }
      : line;
    const parsed = parseRecord(record.text, delimiter);
    if (parsed === UNTERMINATED) {
      pending = { text: record.text, line: record.number };
      continue;
    }
    pending = undefined;
    if (typeof parsed === "string") {
      yield { error: new InputError(parsed, { line: record.number }), raw: record.text };
      continue;
    }
    if (!header) {
      if (parsed.length === 1 && parsed[0] === "") {
        throw new InputError("CSV header row is empty", { line: record.number });
      }
      header = parsed;
      continue;
    }
    if (parsed.length === 1 && parsed[0] === "") continue; // blank line
    if (parsed.length !== header.length) {
      yield {
        error: new InputError(
          `CSV row has ${parsed.length} fields, the header has ${header.length}`,
          { line: record.number },
        ),
        raw: record.text,
      };
      continue;
    }
    const row: Record<string, unknown> = {};
    for (let i = 0; i < header.length; i++) {
      row[header[i]] = typed ? typeField(parsed[i]) : parsed[i];
    }
    yield { value: row, line: record.number };
  }
  if (pending) {
    yield {
      error: new InputError("CSV quoted field is never closed", { line: pending.line }),
      raw: pending.text,
    };
  }
}

function typeField(text: string): unknown {
  if (text === "") return null;
  if (text === "true") return true;
  if (text === "false") return false;
  if (NUMBER.test(text)) {
    const n = Number(text);
    if (Number.isFinite(n) && (Number.isSafeInteger(n) || !Number.isInteger(n))) return n;
  }
  return text;
}

const UNTERMINATED = Symbol("unterminated");

/** Splits one record; returns an error message for a stray quote. */
function parseRecord(text: string, delimiter: string): string[] | string | typeof UNTERMINATED {
  if (!text.includes('"')) return text.split(delimiter);
  const fields: string[] = [];
  let i = 0;
  while (true) {
    if (text[i] === '"') {
      let value = "";
      let start = ++i;
      while (true) {
        const quote = text.indexOf('"', i);
        if (quote === -1) return UNTERMINATED;
        if (text[quote + 1] === '"') {
          value += text.slice(start, quote + 1);
          i = start = quote + 2;
          continue;
        }
        value += text.slice(start, quote);
        i = quote + 1;
        break;
      }
      fields.push(value);
      if (i === text.length) return fields;
      if (text[i] !== delimiter) return `CSV field has text after its closing quote`;
      i++;
    } else {
      const end = text.indexOf(delimiter, i);
      const field = end === -1 ? text.slice(i) : text.slice(i, end);
      if (field.includes('"')) return `CSV field has a quote inside an unquoted value`;
      fields.push(field);
      if (end === -1) return fields;
      i = end + 1;
    }
  }
}
