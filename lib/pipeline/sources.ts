/**
 * The sources a pipeline file can name, as async iterables of items: `replay` (files, through the
 * same readers as `edgepipe replay`), `stdin` (NDJSON envelopes) and `consume` (a Pulsar
 * subscription, see `consume_source.ts`). Bad records follow the pipeline's error policy.
 *
 * @module
 */
import { deadLetterOf, type DeadLetterSink, type ErrorPolicy } from "../dead_letter.ts";
import { endRecord, type Envelope, getPath, type Item } from "../envelope.ts";
import { InputError } from "../errors.ts";
import { type ByteSource, NdjsonReader } from "../ndjson_reader.ts";
import { LineItems } from "../stage_input.ts";
import { toEventTime } from "../sources/event_time.ts";
import { openFile } from "../sources/open_file.ts";
import { isFailure, type SourceRecord } from "../sources/types.ts";
import type { SourcePlan } from "./plan.ts";

/** An open source. */
export interface PipelineSource {
  items: AsyncIterable<Item>;
  /** Releases connections (acknowledgements still in flight are flushed first). */
  close(): Promise<void>;
}

/** What a source does with a record it cannot read. */
export interface RejectHandling {
  policy: ErrorPolicy;
  deadLetters?: DeadLetterSink;
  log: (message: string) => void;
}

async function reject(
  stage: string,
  error: InputError,
  raw: string | Uint8Array | undefined,
  handling: RejectHandling,
): Promise<void> {
  if (handling.policy.kind === "fail") throw error;
  if (handling.deadLetters) {
    await handling.deadLetters.write(deadLetterOf(stage, error, undefined, raw));
  } else handling.log(`skipped: ${error.message}`);
}

/** Files replayed as envelopes, like `edgepipe replay`. */
export async function* replayItems(
  source: Extract<SourcePlan, { kind: "replay" }>,
  handling: RejectHandling,
): AsyncGenerator<Item> {
  let emitted = 0;
  const toEnvelope = (record: SourceRecord): Envelope => {
    const envelope: Envelope = record.envelope
      ? { ...(record.value as Envelope) }
      : { value: record.value };
    if (source.key !== undefined) {
      const key = getPath(envelope.value, source.key);
      envelope.key = key === undefined || key === null ? null : String(key);
    }
    if (source.time !== undefined) {
      try {
        envelope.eventTime = toEventTime(getPath(envelope.value, source.time), source.time);
      } catch (err) {
        throw new InputError((err as Error).message, { line: record.line });
      }
    }
    return envelope;
  };
  for (const file of source.files) {
    for await (const record of openFile(file, { format: source.format })) {
      if (isFailure(record)) {
        await reject("replay", record.error, record.raw, handling);
        continue;
      }
      let envelope: Envelope;
      try {
        envelope = toEnvelope(record);
      } catch (err) {
        if (!(err instanceof InputError)) throw err;
        await reject("replay", err, JSON.stringify(record.value), handling);
        continue;
      }
      yield envelope;
      if (source.count !== undefined && ++emitted >= source.count) return yield endRecord("run");
    }
  }
  // A bounded source that read all it was asked to: the end of the stream, said.
  yield endRecord("run");
}

/**
 * NDJSON envelopes and control records from a byte stream (stdin), read like every stage's input
 * (`lib/ndjson_reader.ts`): bad lines follow the policy, blank lines are skipped.
 */
export function ndjsonItems(input: ByteSource, handling: RejectHandling): AsyncIterable<Item> {
  return new LineItems(
    new NdjsonReader(input),
    (bad) => reject("run", bad.error, bad.bytes ?? bad.text, handling),
  );
}
