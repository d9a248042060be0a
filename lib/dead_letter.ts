/**
 * What a stage does with an event it cannot process: `fail` (stop with a clear error, the
 * default), `skip` (count it, say it on stderr, acknowledge it) or `dead-letter=<target>` (write the
 * event with its error to a file or topic, then acknowledge it). Nothing is dropped silently.
 *
 * @module
 */
import { describeError, InputError, UsageError } from "./errors.ts";
import type { Envelope } from "./envelope.ts";
import type { BadLine } from "./ndjson_reader.ts";

/** A parsed `--on-error` value. */
export type ErrorPolicy =
  | { kind: "fail" }
  | { kind: "skip" }
  | { kind: "dead-letter"; target: string };

/** Parses `fail`, `skip` or `dead-letter=<target>`. */
export function parseErrorPolicy(text: string): ErrorPolicy {
  if (text === "fail" || text === "skip") return { kind: text };
  const match = /^dead-letter=(.+)$/.exec(text);
  if (match) return { kind: "dead-letter", target: match[1] };
  throw new UsageError(`--on-error must be fail, skip or dead-letter=<topic|file>, got '${text}'`);
}

/** The record written to a dead-letter target: the rejected event plus why and where. */
export interface DeadLetter extends Envelope {
  /** Why and where the event was rejected: the stage, the error, the input line and when (epoch ms). */
  deadLetter: {
    stage: string;
    error: string;
    line?: number;
    /** The raw input line, when the event could not even be parsed. */
    raw?: string;
    /** The raw input line's bytes in base64, when they are not valid UTF-8. */
    rawBase64?: string;
    at: number;
  };
}

/**
 * Builds the dead-letter record for an event (or a raw line: text, or bytes that are not UTF-8,
 * kept in base64) rejected by `stage`; `inputLine` is
 * the event's input line when the stage knows it (else the error's line, if any).
 */
export function deadLetterOf(
  stage: string,
  error: unknown,
  event: Envelope | undefined,
  raw?: string | Uint8Array,
  inputLine?: number,
): DeadLetter {
  const line = inputLine ?? (error instanceof InputError ? error.line : undefined);
  return {
    ...(event ?? { value: null }),
    deadLetter: {
      stage,
      error: describeError(error),
      ...(line === undefined ? {} : { line }),
      ...(raw === undefined
        ? {}
        : typeof raw === "string"
        ? { raw }
        : { rawBase64: toBase64(raw) }),
      at: Date.now(),
    },
  };
}

/**
 * The dead-letter record for an input line that could not be read: its number, the reason, and
 * its raw text (or, when it is not UTF-8, its bytes in base64).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { deadLetterOfLine } from "./dead_letter.ts";
 * import { BadLine } from "./ndjson_reader.ts";
 * import { InputError } from "./errors.ts";
 * const bad = new BadLine(7, new InputError("not valid UTF-8", { line: 7 }), undefined, new Uint8Array([0xff]));
 * const record = deadLetterOfLine("map", bad);
 * assert.equal(record.deadLetter.line, 7);
 * assert.equal(record.deadLetter.rawBase64, "/w==");
 * ```
 */
export function deadLetterOfLine(stage: string, bad: BadLine): DeadLetter {
  return deadLetterOf(stage, bad.error, undefined, bad.bytes ?? bad.text);
}

function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

/** Where dead letters go. `write` resolves once the record is durable. */
export interface DeadLetterSink {
  /** Stores one dead letter durably; resolves once it is stored. */
  write(record: DeadLetter): Promise<void>;
  /** Flushes and releases the target. */
  close(): Promise<void>;
}

/** Appends dead letters as NDJSON to a file, fsynced before `write` resolves. */
export class FileDeadLetterSink implements DeadLetterSink {
  #file: Promise<Deno.FsFile>;
  #encoder = new TextEncoder();

  constructor(path: string) {
    this.#file = Deno.open(path, { append: true, create: true, mode: 0o600 });
  }

  async write(record: DeadLetter): Promise<void> {
    const file = await this.#file;
    const bytes = this.#encoder.encode(JSON.stringify(record) + "\n");
    let offset = 0;
    while (offset < bytes.length) offset += await file.write(bytes.subarray(offset));
    await file.sync();
  }

  async close(): Promise<void> {
    (await this.#file).close();
  }
}
