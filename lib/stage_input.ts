/**
 * A stage's input as items: {@linkcode NdjsonReader} batches, with bad lines handed to the
 * stage's `--on-error` policy in their place, the same way in every stage. It also knows the line
 * number of the item it handed out last, so a stage that fails on an event can name its line.
 *
 * @module
 */
import { deadLetterOfLine, type DeadLetterSink, type ErrorPolicy } from "./dead_letter.ts";
import type { Item } from "./envelope.ts";
import { BadLine, type LineBatch, type NdjsonReader } from "./ndjson_reader.ts";
import type { LineWriter } from "./ndjson.ts";

/** What to do with a bad line: throw (fail), or resolve once it is skipped or dead-lettered. */
export type BadLineHandler = (bad: BadLine) => Promise<void> | void;

/**
 * The `--on-error` policy for bad input lines of `stage`: `fail` throws the line's error (its
 * message names the line), `skip` says so on stderr, `dead-letter` writes the raw line.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { badLinePolicy } from "./stage_input.ts";
 * import { BadLine } from "./ndjson_reader.ts";
 * import { InputError } from "./errors.ts";
 * const bad = new BadLine(3, new InputError("not valid JSON", { line: 3 }), "nope", undefined);
 * assert.throws(() => badLinePolicy("map", { kind: "fail" })(bad), /line 3: not valid JSON/);
 * const said: string[] = [];
 * badLinePolicy("map", { kind: "skip" }, undefined, (m) => said.push(m))(bad);
 * assert.deepEqual(said, ["edgepipe map: skipped: line 3: not valid JSON"]);
 * ```
 */
export function badLinePolicy(
  stage: string,
  policy: ErrorPolicy,
  deadLetters?: DeadLetterSink,
  log: (message: string) => void = console.error,
): BadLineHandler {
  if (policy.kind === "fail") {
    return (bad) => {
      throw bad.error;
    };
  }
  if (policy.kind === "dead-letter") {
    if (deadLetters === undefined) {
      throw new TypeError(`${stage}: a dead-letter policy needs a DeadLetterSink`);
    }
    return (bad) => deadLetters.write(deadLetterOfLine(stage, bad));
  }
  return (bad) => log(`edgepipe ${stage}: skipped: ${bad.error.message}`);
}

const DONE: IteratorResult<Item> = { done: true, value: undefined };

/**
 * The items of a reader, bad lines handled by `onBadLine`. Written by hand rather than as an async
 * generator: an item costs one resolved promise, a batch one read.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { NdjsonReader } from "./ndjson_reader.ts";
 * import { LineItems } from "./stage_input.ts";
 * const bytes = new TextEncoder().encode('{"id":"a","value":1}\n[]\n{"id":"b","value":2}\n');
 * const skipped: number[] = [];
 * const items = new LineItems(new NdjsonReader(ReadableStream.from([bytes])), (bad) => {
 *   skipped.push(bad.number);
 * });
 * const lines: number[] = [];
 * for await (const _ of items) lines.push(items.line);
 * assert.deepEqual(lines, [1, 3]);
 * assert.deepEqual(skipped, [2]);
 * ```
 */
export class LineItems implements AsyncIterableIterator<Item> {
  readonly #reader: NdjsonReader;
  readonly #onBadLine: BadLineHandler;
  #batch: LineBatch | undefined;
  #index = 0;
  #line = 0;
  #item: unknown;
  #done = false;

  /** Items of `reader`; each bad line goes to `onBadLine` (which throws, or resolves). */
  constructor(reader: NdjsonReader, onBadLine: BadLineHandler) {
    this.#reader = reader;
    this.#onBadLine = onBadLine;
  }

  /** The line number of the item handed out last (0 before the first). */
  get line(): number {
    return this.#line;
  }

  /**
   * The line of the item handed out last, for the `lineOf` option of stages that handle each
   * event as soon as it is read (filter, map, window; also behind a join, which copies events).
   */
  readonly lineOf = (): number | undefined => this.#line === 0 ? undefined : this.#line;

  /** The line of `item` if it is the item handed out last, for stages that batch (score). */
  readonly lineOfItem = (item: unknown): number | undefined =>
    item === this.#item ? this.#line : undefined;

  /** This iterator. */
  [Symbol.asyncIterator](): this {
    return this;
  }

  /**
   * The next item when it is read already (no promise is made), else `undefined`: then `next()`
   * gives it. Lets a stage that handles items one by one run through a batch in a plain loop.
   */
  pull(): Item | undefined {
    const batch = this.#batch;
    if (batch === undefined) return undefined;
    const i = this.#index;
    if (i >= batch.values.length) return undefined;
    const value = batch.values[i];
    if (value instanceof BadLine) return undefined;
    this.#index = i + 1;
    this.#line = batch.numbers[i];
    this.#item = value;
    return value as Item;
  }

  /** The next item; rejects with a bad line's error under `fail`. */
  next(): Promise<IteratorResult<Item>> {
    try {
      return this.#next();
    } catch (error) {
      return Promise.reject(error);
    }
  }

  #next(): Promise<IteratorResult<Item>> {
    const batch = this.#batch;
    if (batch !== undefined) {
      const values = batch.values;
      while (this.#index < values.length) {
        const i = this.#index++;
        const value = values[i];
        if (value instanceof BadLine) {
          const handled = this.#onBadLine(value);
          if (handled !== undefined) return handled.then(() => this.next());
          continue;
        }
        this.#line = batch.numbers[i];
        this.#item = value;
        return Promise.resolve({ done: false, value: value as Item });
      }
      this.#batch = undefined;
    }
    if (this.#done) return Promise.resolve(DONE);
    return this.#reader.next().then((next) => {
      if (next === null) {
        this.#done = true;
        return DONE;
      }
      this.#batch = next;
      this.#index = 0;
      return this.next();
    });
  }

  /** Stops: nothing more is read. */
  return(): Promise<IteratorResult<Item>> {
    this.#done = true;
    this.#batch = undefined;
    return Promise.resolve(DONE);
  }
}

/**
 * Writes every item of `items` to `output` and flushes it; when `items` fails, what came before
 * the failure is still flushed before the error is passed on.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { writeAll } from "./stage_input.ts";
 * import { LineWriter } from "./ndjson.ts";
 * const chunks: string[] = [];
 * const out = new LineWriter({ write: (b) => Promise.resolve(chunks.push(new TextDecoder().decode(b)) && b.length) });
 * async function* items() { yield { value: 1 }; throw new Error("line 2: bad"); }
 * await assert.rejects(writeAll(items(), out), /line 2: bad/);
 * assert.deepEqual(chunks, ['{"value":1}\n']);
 * ```
 */
export async function writeAll(items: AsyncIterable<Item>, output: LineWriter): Promise<void> {
  try {
    for await (const item of items) await output.write(item);
  } catch (error) {
    await output.flush().catch(() => {}); // the first error says why
    throw error;
  }
  await output.flush();
}

/**
 * Waits for `work` (which writes to `output`), then flushes `output`, also when `work` fails:
 * what was written before a failure is delivered before the error is passed on.
 */
export async function flushAfter(work: Promise<void>, output: LineWriter): Promise<void> {
  try {
    await work;
  } catch (error) {
    await output.flush().catch(() => {}); // the first error says why
    throw error;
  }
  await output.flush();
}
