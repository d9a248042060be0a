/**
 * What a stage does with an event it cannot process: `fail` (stop with a clear error, the
 * default), `skip` (count it, say it on stderr, acknowledge it) or `dead-letter=<target>` (write the
 * event with its error to a file or topic, then acknowledge it). Nothing is dropped silently.
 *
 * @module
 */
import { describeError, InputError, UsageError } from "./errors.ts";
import type { Envelope } from "./envelope.ts";

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
  deadLetter: {
    stage: string;
    error: string;
    line?: number;
    /** The raw input line, when the event could not even be parsed. */
    raw?: string;
    at: number;
  };
}

/** Builds the dead-letter record for an event (or a raw line) rejected by `stage`. */
export function deadLetterOf(
  stage: string,
  error: unknown,
  event: Envelope | undefined,
  raw?: string,
): DeadLetter {
  const line = error instanceof InputError ? error.line : undefined;
  return {
    ...(event ?? { value: null }),
    deadLetter: {
      stage,
      error: describeError(error),
      ...(line === undefined ? {} : { line }),
      ...(raw === undefined ? {} : { raw }),
      at: Date.now(),
    },
  };
}

/** Where dead letters go. `write` resolves once the record is durable. */
export interface DeadLetterSink {
  write(record: DeadLetter): Promise<void>;
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
