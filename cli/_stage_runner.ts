/**
 * Runs a stage as a shell command: NDJSON items from stdin (`lib/stage_input.ts`: bad lines per
 * the `--on-error` policy, the same way in every stage), through the stage, NDJSON items to
 * stdout. Control records flow through.
 *
 * @module
 */
import type { DeadLetterSink, ErrorPolicy } from "../lib/dead_letter.ts";
import type { Item } from "../lib/envelope.ts";
import { type ByteSource, LineWriter, NdjsonReader, type ParseMode } from "../lib/ndjson.ts";
import { badLinePolicy, LineItems, writeAll } from "../lib/stage_input.ts";
import { EXIT } from "./_command.ts";
import type { Metrics } from "../lib/observe/metrics.ts";
import { observeStage } from "../lib/observe/stage_observer.ts";
import { parseMetricsPort } from "../lib/observe/serve_metrics.ts";

/** Options shared by every stage command. */
export interface StageRunOptions {
  /** The stage name used in errors and dead letters. */
  name: string;
  onError: ErrorPolicy;
  /** The sink the command opened for a `dead-letter` policy: one per target, shared. */
  deadLetters?: DeadLetterSink;
  maxLineBytes?: number;
  /** What a line becomes (default `item`). */
  mode?: ParseMode;
  /** Bytes read from stdin at once (default 1 MiB; see `NdjsonReaderOptions.chunkBytes`). */
  chunkBytes?: number;
  input?: ByteSource;
  output?: LineWriter;
  /** `--metrics <port>` and `--stats` of the command. */
  observe?: ObserveFlagValues;
}

/** The flags every stage command takes for observing it (for `parseFlags`). */
export const OBSERVE_FLAGS = {
  metrics: { type: "string" },
  stats: { type: "boolean", default: false },
} as const;

/** Their values. */
export interface ObserveFlagValues {
  metrics?: string;
  stats?: boolean;
  /** The stage's own metrics, added to the command's. */
  extend?: (metrics: Metrics) => void;
}

/** Help lines for {@linkcode OBSERVE_FLAGS}, the descriptions starting at `column`. */
export function observeHelp(column: number): string {
  const line = (flag: string, text: string[]) =>
    [`  ${flag}`.padEnd(column) + text[0], ...text.slice(1).map((t) => " ".repeat(column) + t)]
      .join("\n");
  return [
    line("--metrics <port>", [
      "Prometheus metrics on 127.0.0.1:<port>/metrics (events in",
      "and out, acks, event-time lag); 'edgepipe top' shows them",
    ]),
    line("--stats", ["one-line summary on stderr every 5 s and at the end"]),
  ].join("\n");
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

/** Stdin as items; bad lines are skipped, dead-lettered (to `options.deadLetters`) or thrown. */
export function stdinItems(options: StageRunOptions): LineItems {
  const reader = new NdjsonReader(options.input ?? Deno.stdin, {
    maxLineBytes: options.maxLineBytes,
    mode: options.mode,
    chunkBytes: options.chunkBytes,
  });
  return new LineItems(reader, badLinePolicy(options.name, options.onError, options.deadLetters));
}

/**
 * Runs `stage` from stdin to stdout and returns the exit code. `items` is stdin as the stage
 * reads it, when the command made it first (to give the stage its `lineOf`).
 */
export async function runStage(
  stage: (input: AsyncIterable<Item>) => AsyncIterable<Item>,
  options: StageRunOptions,
  items: LineItems = stdinItems(options),
): Promise<number> {
  const observe = options.observe;
  if (observe?.metrics === undefined && !observe?.stats) {
    await writeAll(stage(items), options.output ?? new LineWriter());
    return EXIT.ok;
  }
  const observed = observeStage(options.name, stage, {
    metricsPort: observe.metrics === undefined ? undefined : parseMetricsPort(observe.metrics),
    stats: observe.stats,
    ...(observe.extend ? { extend: observe.extend } : {}),
  });
  try {
    await writeAll(observed.stage(items), options.output ?? new LineWriter());
  } finally {
    await observed.stop();
  }
  return EXIT.ok;
}
