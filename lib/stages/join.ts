/**
 * `join`: an enrichment join with a reference table loaded from an NDJSON file. Each event gets
 * the reference record whose key matches the event's join field, under `ref` (or another name);
 * an event without a match gets `ref: null` and goes on, so nothing is dropped by the join
 * itself (follow it with `filter 'event.ref != null'` to keep matches only).
 *
 * @module
 */
import { getPath, isControl, type Item } from "../envelope.ts";
import { InputError } from "../errors.ts";
import { readLines } from "../ndjson.ts";
import type { Stage } from "./types.ts";

/** Reference records by join key. */
export type ReferenceTable = Map<string, unknown>;

/** A problem with the reference file: unreadable, bad JSON, missing or duplicate key. */
export class ReferenceFileError extends InputError {}

/** Turns a join field's value into a lookup key: strings and numbers match by text. */
export function joinKeyOf(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return undefined;
}

/**
 * Loads an NDJSON reference file, keyed by the field at `keyPath` of each record. Missing keys and
 * duplicate keys are errors naming the line.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadReference } from "./join.ts";
 * const path = await Deno.makeTempFile();
 * await Deno.writeTextFile(path, '{"iata":"SFO","city":"San Francisco"}\n');
 * const table = await loadReference(path, "iata");
 * assert.ok(table.has("SFO"));
 * ```
 */
export async function loadReference(path: string, keyPath: string): Promise<ReferenceTable> {
  const table: ReferenceTable = new Map();
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path);
  } catch (cause) {
    throw new ReferenceFileError(`cannot read reference file ${path}`, { cause });
  }
  try {
    for await (const line of readLines(file.readable)) {
      if (line.text.trim() === "") continue;
      let plain: unknown;
      try {
        plain = JSON.parse(line.text);
      } catch (cause) {
        throw new ReferenceFileError(`${path}: not valid JSON`, { line: line.number, cause });
      }
      const key = joinKeyOf(getPath(plain, keyPath));
      if (key === undefined) {
        throw new ReferenceFileError(`${path}: record has no string or number '${keyPath}'`, {
          line: line.number,
        });
      }
      if (table.has(key)) {
        throw new ReferenceFileError(`${path}: duplicate key '${key}'`, { line: line.number });
      }
      table.set(key, plain);
    }
  } catch (err) {
    if (err instanceof ReferenceFileError) throw err;
    throw new ReferenceFileError(`cannot read reference file ${path}`, { cause: err });
  }
  return table;
}

/** Options of {@linkcode join}. */
export interface JoinOptions {
  /** Dotted path of the join field in the event (e.g. `value.origin`). */
  on: string;
  /** Field that receives the matching record (default `ref`). */
  as?: string;
}

/** A table that may be replaced while the stage runs: read once per event. */
export interface ReferenceSource {
  /** The table in force now. */
  readonly table: ReferenceTable;
}

/**
 * A stage that adds the matching reference record to each event. Given a
 * {@linkcode ReferenceSource} (a reference file that reloads, a topic table), each event is
 * joined against the table in force when the event's turn comes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { join } from "./join.ts";
 * const airports = new Map([["SFO", { city: "San Francisco" }]]);
 * const enrich = join(airports, { on: "value.origin", as: "airport" });
 * const out = await Array.fromAsync(enrich(ReadableStream.from([{ value: { origin: "SFO" } }])));
 * assert.equal(out.length, 1);
 * assert.ok(JSON.stringify(out[0]).includes("San Francisco"));
 * ```
 */
export function join(
  reference: ReferenceTable | ReferenceSource,
  { on, as = "ref" }: JoinOptions,
): Stage {
  const current = reference instanceof Map ? () => reference : () => reference.table;
  return async function* (input: AsyncIterable<Item>): AsyncGenerator<Item> {
    for await (const item of input) {
      if (isControl(item)) {
        yield item;
        continue;
      }
      // One version of the table for the whole event.
      const table = current();
      const key = joinKeyOf(getPath(item, on));
      yield { ...item, [as]: key === undefined ? null : table.get(key) ?? null };
    }
  };
}

/**
 * Parses `--on <eventPath>[=<refPath>]`. Without `=`, the reference key is the last segment of
 * the event path (`value.origin` matches a reference record's `origin`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseJoinOn } from "./join.ts";
 * assert.equal(parseJoinOn("value.origin=iata").refPath, "iata");
 * assert.equal(parseJoinOn("value.origin").refPath, "origin");
 * ```
 */
export function parseJoinOn(text: string): { eventPath: string; refPath: string } {
  const [eventPath, refPath = eventPath.split(".").at(-1)!] = text.split("=", 2);
  if (eventPath === "" || refPath === "") {
    throw new InputError(`--on: expected <event field>[=<reference field>], got '${text}'`);
  }
  return { eventPath, refPath };
}
