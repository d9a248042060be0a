/**
 * Runs a stage as a shell command: NDJSON items from stdin, through the stage, NDJSON items to
 * stdout. Unparseable lines follow the `--on-error` policy; control records flow through.
 *
 * @module
 */
import type { Item } from "../lib/envelope.ts";
import { InputError } from "../lib/errors.ts";
import { LineWriter, parseItem, readLines } from "../lib/ndjson.ts";
import { deadLetterOf, type DeadLetterSink, type ErrorPolicy } from "../lib/dead_letter.ts";
import type { Stage } from "../lib/stages/types.ts";
import { EXIT } from "./_command.ts";

/** Options shared by every stage command. */
export interface StageRunOptions {
  /** The stage name used in errors and dead letters. */
  name: string;
  onError: ErrorPolicy;
  maxLineBytes?: number;
  input?: ReadableStream<Uint8Array>;
  output?: LineWriter;
}

/**
 * Opens the dead-letter sink a policy names, the same way in every stage: a file path, `file:dir/`,
 * `s3://bucket/prefix` or a Pulsar topic (see `lib/sinks/dead_letter_sinks.ts`).
 */
export async function openDeadLetters(policy: ErrorPolicy): Promise<DeadLetterSink | undefined> {
  if (policy.kind !== "dead-letter") return undefined;
  const { openDeadLetterSink } = await import("../lib/sinks/dead_letter_sinks.ts");
  return await openDeadLetterSink(policy.target);
}

/** Parses stdin into items; bad lines are skipped, dead-lettered or thrown per policy. */
export async function* stdinItems(options: StageRunOptions, deadLetters?: DeadLetterSink) {
  const input = options.input ?? Deno.stdin.readable;
  for await (const line of readLines(input, { maxLineBytes: options.maxLineBytes })) {
    let item: Item;
    try {
      item = parseItem(line);
    } catch (err) {
      if (!(err instanceof InputError) || options.onError.kind === "fail") throw err;
      if (deadLetters) {
        await deadLetters.write(deadLetterOf(options.name, err, undefined, line.text));
      } else console.error(`edgepipe ${options.name}: skipped: ${err.message}`);
      continue;
    }
    yield item;
  }
}

/** Runs `stage` from stdin to stdout and returns the exit code. */
export async function runStage(stage: Stage, options: StageRunOptions): Promise<number> {
  const deadLetters = await openDeadLetters(options.onError);
  const output = options.output ?? new LineWriter();
  try {
    for await (const item of stage(stdinItems(options, deadLetters))) await output.write(item);
    await output.flush();
  } finally {
    await deadLetters?.close();
  }
  return EXIT.ok;
}
