/**
 * The `filter` command's own loop, for when events pass unchanged: it decodes input in whole
 * chunks, parses each line once, and writes a kept line out as it came, without serialising it
 * again. Same contract as the `filter` stage (see `filter_core.ts`) — dropped ids acknowledged
 * in-band in batches, never ahead of the data before them; control records passed on in order;
 * unparseable lines and failing expressions per the error policy.
 *
 * @module
 */
import { deadLetterOf, type DeadLetterSink, type ErrorPolicy } from "../dead_letter.ts";
import { ackRecord, type Envelope, isControl } from "../envelope.ts";
import { InputError } from "../errors.ts";
import { type CompiledExpression, EvaluationError } from "../expr/cel.ts";
import { DEFAULT_MAX_LINE_BYTES, type LineWriter, parseItem } from "../ndjson.ts";
import { TICK, withIdleTicks } from "./window/idle_ticks.ts";
import { Rejects } from "./window/rejects.ts";

/** Options of {@linkcode filterLines}. */
export interface FilterLinesOptions {
  onError?: ErrorPolicy;
  deadLetters?: DeadLetterSink;
  /** Longest accepted line, counted in UTF-16 units of the decoded text (default 16 Mi). */
  maxLineBytes?: number;
  ackIdleMs?: number;
  maxAckBatch?: number;
}

const BAD = Symbol("bad");

/**
 * Filters NDJSON lines from `input` to `output`. Kept lines are written byte for byte as read.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { filterLines } from "./filter_lines.ts";
 * import { compileExpression } from "../expr/cel.ts";
 * import { LineWriter } from "../ndjson.ts";
 * const chunks: Uint8Array[] = [];
 * const out = new LineWriter({ write: (b) => Promise.resolve(chunks.push(b.slice()) && b.length) });
 * const input = new TextEncoder().encode('{"id":"a","value":1}\n{"id":"b","value":5}\n');
 * await filterLines(ReadableStream.from([input]), out, compileExpression("event.value > 2.0"));
 * await out.flush();
 * const text = new TextDecoder().decode(chunks[0]);
 * assert.equal(text, '{"id":"b","value":5}\n{"$edgepipe":"ack","ids":["a"]}\n');
 * ```
 */
export async function filterLines(
  input: AsyncIterable<Uint8Array>,
  output: LineWriter,
  expression: CompiledExpression,
  options: FilterLinesOptions = {},
): Promise<void> {
  const policy = options.onError ?? { kind: "fail" };
  const rejects = new Rejects("filter", policy, options.deadLetters);
  const maxLine = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  const maxAckBatch = options.maxAckBatch ?? 1000;
  const decoder = new TextDecoder("utf-8", { fatal: true });
  let pending: string[] = [];
  let number = 0;
  // Output of the current chunk, written with one call: most lines need no await at all.
  const lines: string[] = [];
  const drain = async () => {
    if (lines.length === 0) return;
    const text = lines.join("\n");
    lines.length = 0;
    await output.writeLine(text);
  };
  const takeAcks = () => {
    if (pending.length === 0) return;
    lines.push(JSON.stringify(ackRecord(pending)));
    pending = [];
  };
  const drop = (id: unknown) => {
    if (typeof id !== "string") return;
    pending.push(id);
    if (pending.length >= maxAckBatch) takeAcks();
  };

  const badLine = async (text: string) => {
    try {
      parseItem({ text, number }); // throws the same error the stage runner would
      throw new InputError("expected a JSON object", { line: number });
    } catch (err) {
      if (!(err instanceof InputError) || policy.kind === "fail") throw err;
      if (options.deadLetters) {
        await options.deadLetters.write(deadLetterOf("filter", err, undefined, text));
      } else console.error(`edgepipe filter: skipped: ${err.message}`);
    }
  };

  /** Handles one line; returns a promise only when it must wait (errors, dead letters). */
  const handle = (text: string): Promise<void> | undefined => {
    number++;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = BAD;
    }
    if (parsed === BAD || parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
      return badLine(text);
    }
    if (isControl(parsed)) {
      takeAcks();
      lines.push(text);
      return;
    }
    const wrapped = !("value" in parsed);
    const event = (wrapped ? { value: parsed } : parsed) as Envelope;
    let keep: unknown;
    try {
      keep = expression.evaluate(event);
    } catch (error) {
      return rejects.reject(event, error).then(() => drop(event.id));
    }
    if (keep === true) lines.push(wrapped ? JSON.stringify(event) : text);
    else if (keep === false) drop(event.id);
    else {
      const error = new EvaluationError(
        `filter expression '${expression.source}' returned ${
          JSON.stringify(keep)
        }, expected a bool`,
      );
      return rejects.reject(event, error).then(() => drop(event.id));
    }
  };

  let carry = "";
  const decode = (chunk?: Uint8Array) => {
    try {
      return chunk === undefined ? decoder.decode() : decoder.decode(chunk, { stream: true });
    } catch (cause) {
      throw new InputError("invalid UTF-8", { line: number + 1, cause });
    }
  };
  // Idle: send out pending acks, and kept lines still in the output buffer.
  const wantsTick = () => pending.length > 0 || output.buffered > 0;
  try {
    for await (const chunk of withIdleTicks(input, options.ackIdleMs ?? 200, wantsTick)) {
      if (chunk === TICK) {
        takeAcks();
        await drain();
        await output.flush();
        continue;
      }
      const text = carry + decode(chunk);
      let start = 0;
      while (true) {
        const end = text.indexOf("\n", start);
        if (end === -1) break;
        const line = end > start && text.charCodeAt(end - 1) === 13
          ? text.slice(start, end - 1)
          : text.slice(start, end);
        start = end + 1;
        if (line.length > maxLine) throw tooLong(number + 1, maxLine);
        const waiting = handle(line);
        if (waiting !== undefined) {
          await drain();
          await waiting;
        }
      }
      carry = text.slice(start);
      if (carry.length > maxLine) throw tooLong(number + 1, maxLine);
      await drain();
    }
    carry += decode();
    if (carry.length > 0) await handle(carry);
    takeAcks();
  } finally {
    // What was decided before a failure still goes out (its acks too: they are true).
    await drain();
  }
}

function tooLong(line: number, max: number): InputError {
  return new InputError(`line longer than ${max} bytes (raise it with --max-line-bytes)`, { line });
}
