/**
 * The `filter` command's own loop, for when events pass unchanged: it reads batches of parsed
 * lines from the shared input layer (`lib/ndjson_reader.ts`), and writes a kept line out as it
 * came, without serialising it again. Same contract as the `filter` stage (see `filter_core.ts`) — dropped ids acknowledged
 * in-band in batches, never ahead of the data before them; control records passed on in order;
 * unparseable lines and failing expressions per the error policy.
 *
 * @module
 */
import type { DeadLetterSink, ErrorPolicy } from "../dead_letter.ts";
import { ackRecord, type Envelope, isControl } from "../envelope.ts";
import { type CompiledExpression, EvaluationError } from "../expr/cel.ts";
import type { LineWriter } from "../ndjson.ts";
import {
  BadLine,
  type ByteSource,
  type LineBatch,
  NdjsonReader,
  toItem,
} from "../ndjson_reader.ts";
import { badLinePolicy } from "../stage_input.ts";
import { TICK, withIdleTicks } from "./idle_ticks.ts";
import { DueFlag } from "./due_flag.ts";
import { Rejects } from "./window/rejects.ts";

/** Options of {@linkcode filterLines}. */
export interface FilterLinesOptions {
  onError?: ErrorPolicy;
  deadLetters?: DeadLetterSink;
  /** Longest accepted line in bytes (default 16 MiB). */
  maxLineBytes?: number;
  ackIdleMs?: number;
  maxAckBatch?: number;
}

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
  input: ByteSource,
  output: LineWriter,
  expression: CompiledExpression,
  options: FilterLinesOptions = {},
): Promise<void> {
  const policy = options.onError ?? { kind: "fail" };
  let number = 0;
  const rejects = new Rejects("filter", policy, options.deadLetters, () => number);
  const badLine = badLinePolicy("filter", policy, options.deadLetters);
  const maxAckBatch = options.maxAckBatch ?? 1000;
  const reader = new NdjsonReader(input, { maxLineBytes: options.maxLineBytes, mode: "json" });
  let pending: string[] = [];
  // A steady stream of dropped events is never idle: its acks must not wait for a full batch.
  const ackIdleMs = options.ackIdleMs ?? 200;
  const ackDue = new DueFlag(ackIdleMs);
  // Output of the current batch, written with one call: most lines need no await at all.
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
    ackDue.clear();
  };
  const drop = (id: unknown) => {
    if (typeof id !== "string") return;
    pending.push(id);
    if (pending.length === 1) ackDue.arm();
    if (pending.length >= maxAckBatch) takeAcks();
  };

  /** Handles one line; returns a promise only when it must wait (errors, dead letters). */
  const handle = (value: unknown, text: string): Promise<void> | void => {
    const item = value instanceof BadLine ? value : toItem(value, number, text);
    if (item instanceof BadLine) return badLine(item);
    if (isControl(item)) {
      takeAcks();
      lines.push(text);
      return;
    }
    const event = item as Envelope;
    let keep: unknown;
    try {
      keep = expression.evaluate(event);
    } catch (error) {
      return rejects.reject(event, error).then(() => drop(event.id));
    }
    if (keep === true) lines.push(item === value ? text : JSON.stringify(event));
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

  // Idle: send out pending acks (kept lines leave the output buffer in time by themselves).
  const wantsTick = () => pending.length > 0;
  try {
    for await (const batch of withIdleTicks(batches(reader), ackIdleMs, wantsTick)) {
      if (batch === TICK) {
        takeAcks();
        await drain();
        await output.flush();
        continue;
      }
      const { values, numbers, texts } = batch;
      for (let i = 0; i < values.length; i++) {
        number = numbers[i];
        const waiting = handle(values[i], texts[i]);
        if (waiting !== undefined) {
          await drain();
          await waiting;
        }
      }
      if (ackDue.due) takeAcks();
      await drain();
    }
    takeAcks();
  } finally {
    // What was decided before a failure still goes out (its acks too: they are true).
    ackDue.clear();
    await drain();
  }
}

async function* batches(reader: NdjsonReader): AsyncGenerator<LineBatch> {
  for (let batch = await reader.next(); batch !== null; batch = await reader.next()) yield batch;
}
