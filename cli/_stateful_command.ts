/**
 * What the stateful stage commands (`window`, `join`) share: the flags for late events,
 * checkpoints, the ack relay and the output file, and running the stage with them — opening the
 * checkpoint directory, truncating `--output` to the checkpoint, relaying acks behind consume.
 *
 * @module
 */
import { type ErrorPolicy, parseErrorPolicy } from "../lib/dead_letter.ts";
import { UsageError } from "../lib/errors.ts";
import { type ByteSink, LineWriter } from "../lib/ndjson.ts";
import type { Metrics } from "../lib/observe/metrics.ts";
import type { CheckpointStore, Restored, RestoreOptions } from "../lib/checkpoint/store.ts";
import type { SharedCheckpointStore } from "../lib/checkpoint/shared_store.ts";
import type { SharedCheckpointing } from "../lib/stages/window/window_options.ts";
import { CheckpointError } from "../lib/checkpoint/store.ts";
import type { LatePolicy, StatefulCheckpointing } from "../lib/stages/keyed/stateful_options.ts";
import type { Stage } from "../lib/stages/types.ts";
import type { DeadLetterSink } from "../lib/dead_letter.ts";
import type { Envelope } from "../lib/envelope.ts";
import { StateMetrics, type StateObserver } from "../lib/observe/state_metrics.ts";
import { AckRelay } from "../lib/delivery/ack_relay.ts";
import { closeStdout } from "../lib/delivery/close_stdout.ts";
import { parseDuration, parsePositiveInt } from "./_command.ts";
import {
  OBSERVE_FLAGS,
  observeHelp,
  openDeadLetters,
  runStage,
  stdinItems,
} from "./_stage_runner.ts";

/** Bytes of stdin read at once (see `run`). */
const READ_BYTES = 64 * 1024;

/** The flags every stateful command takes (for `parseFlags`). */
export const STATEFUL_FLAGS = {
  late: { type: "string", default: "drop" },
  "checkpoint-dir": { type: "string" },
  "checkpoint-interval": { type: "string", default: "1s" },
  "checkpoint-fallback": { type: "boolean", default: false },
  "max-outbox": { type: "string" },
  "ack-relay": { type: "string", default: "auto" },
  "ack-timeout": { type: "string", default: "30s" },
  output: { type: "string" },
  "on-error": { type: "string", default: "fail" },
  "max-line-bytes": { type: "string" },
  ...OBSERVE_FLAGS,
} as const;

/** Their values, as `parseFlags` returns them. */
export interface StatefulFlagValues {
  late?: string;
  "checkpoint-dir"?: string;
  "checkpoint-store"?: string;
  "checkpoint-interval"?: string;
  "checkpoint-fallback"?: boolean;
  "max-outbox"?: string;
  "ack-relay"?: string;
  "ack-timeout"?: string;
  output?: string;
  "on-error"?: string;
  "max-line-bytes"?: string;
  metrics?: string;
  stats?: boolean;
}

/** Help lines for the shared flags; `what` names the state ("window state", "join state"). */
export function statefulHelp(stage: string, tooLate: string): string {
  return `  --late P                  events ${tooLate}: drop (default: acknowledged and counted on
                            stderr), dead-letter=<file> (a side output), or emit (sent on
                            with "late": true, mixed with the results)
  --checkpoint-dir DIR      checkpoint the state there and resume from it on start
  --checkpoint-interval D   time between checkpoints (default 1s)
  --checkpoint-fallback     if the newest checkpoint is corrupt, restore the previous one
                            instead of stopping. Cost: behind consume, the events absorbed
                            between the two were acknowledged already and are missing from
                            the restored state; with replayed files (no hello) nothing is lost
  --max-outbox N            behind the ack relay, most results waiting for the terminal's
                            report (default 100000); when full, ${stage} stops reading
  --ack-relay M             auto (default): with --checkpoint-dir behind an acknowledging source
                            (consume's hello), relay acks and keep undelivered results in the
                            checkpoint until the terminal stage reports them; off: pass the
                            hello on (a terminal crash after a checkpoint can lose results)
  --ack-timeout D           at exit, how long to wait for the terminal's last reports (30s)
  --output FILE             write results to FILE instead of stdout; with --checkpoint-dir a
                            restart truncates FILE to the checkpoint, so a replay restarted after
                            a crash produces exactly the output of an uninterrupted run
  --on-error P              fail (default) | skip | dead-letter=<file>, for events the stage
                            cannot use, and for unparseable lines
  --max-line-bytes N        longest accepted input line (default 16 MiB)
${observeHelp(28)}`;
}

/** What the command gives {@linkcode runStateful}. */
export interface StatefulCommand {
  /** The command name, in messages. */
  name: string;
  values: StatefulFlagValues;
  /** Parses a duration flag within the command's limits. */
  duration: (text: string, flag: string) => number;
  /** Opens the stage's checkpoint directory (kind and settings checked). */
  open: (
    dir: string,
    restore: RestoreOptions,
  ) => Promise<{ store: CheckpointStore; restored?: Restored; outputPosition: number }>;
  /** Opens `--checkpoint-store` (only commands that keep state per partition take it). */
  openShared?: (spec: string) => Promise<SharedCheckpointStore>;
  /** Builds the stage with the shared settings. */
  stage: (shared: SharedStageSettings) => Stage;
}

/** The settings the command runner works out for the stage. */
export interface SharedStageSettings {
  onError: ErrorPolicy;
  deadLetters?: DeadLetterSink;
  lineOf: (event: Envelope) => number | undefined;
  late: LatePolicy;
  checkpoint?: StatefulCheckpointing;
  /** `--checkpoint-store`: state per source partition in a shared store. */
  sharedCheckpoint?: SharedCheckpointing;
  flushWhenIdle: LineWriter;
  /** Late events, checkpoints and the state, for `--metrics`. */
  observer: StateObserver;
}

function parseLate(
  text: string,
): { kind: "drop" | "emit" } | { kind: "dead-letter"; target: string } {
  if (text === "emit" || text === "drop") return { kind: text };
  const match = /^dead-letter=(.+)$/.exec(text);
  if (match) return { kind: "dead-letter", target: match[1] };
  throw new UsageError(`--late must be drop, emit or dead-letter=<file>, got '${text}'`);
}

/** Counts the bytes that reach a sink, for checkpointed output positions. */
class CountingSink implements ByteSink {
  bytes: number;
  #inner: ByteSink;
  constructor(inner: ByteSink, start = 0) {
    this.#inner = inner;
    this.bytes = start;
  }
  async write(bytes: Uint8Array): Promise<number> {
    const n = await this.#inner.write(bytes);
    this.bytes += n;
    return n;
  }
}

/** The parsed settings, checked before any file is touched. */
interface Settings {
  onError: ErrorPolicy;
  latePolicy: ReturnType<typeof parseLate>;
  intervalMs: number;
  maxOutbox?: number;
  relayMode: string;
  ackTimeoutMs: number;
  maxLineBytes?: number;
}

/** Parses the shared flags (usage errors before anything is opened). */
export function statefulSettings(cmd: StatefulCommand): Settings {
  const values = cmd.values;
  const intervalMs = cmd.duration(values["checkpoint-interval"] ?? "1s", "--checkpoint-interval");
  if (intervalMs <= 0) throw new UsageError("--checkpoint-interval: must be more than 0");
  const relayMode = values["ack-relay"] ?? "auto";
  if (relayMode !== "auto" && relayMode !== "off") {
    throw new UsageError(`--ack-relay must be auto or off, got '${relayMode}'`);
  }
  return {
    onError: parseErrorPolicy(values["on-error"] ?? "fail"),
    latePolicy: parseLate(values.late ?? "drop"),
    intervalMs,
    maxOutbox: values["max-outbox"] === undefined
      ? undefined
      : parsePositiveInt(values["max-outbox"], "--max-outbox"),
    relayMode,
    ackTimeoutMs: cmd.duration(values["ack-timeout"] ?? "30s", "--ack-timeout"),
    maxLineBytes: values["max-line-bytes"] === undefined
      ? undefined
      : parsePositiveInt(values["max-line-bytes"], "--max-line-bytes"),
  };
}

/** Opens `--output` (truncated to the checkpoint's position on a restart) or stdout. */
async function openOutput(
  path: string | undefined,
  dir: string | undefined,
  restored: boolean,
  outputPosition: number,
): Promise<{ file?: Deno.FsFile; sink: CountingSink }> {
  if (path === undefined) return { sink: new CountingSink(Deno.stdout) };
  const file = await Deno.open(path, { read: true, write: true, create: true });
  const size = (await file.stat()).size;
  if (restored && size < outputPosition) {
    file.close();
    throw new CheckpointError(
      `${path} has ${size} bytes but the checkpoint wrote ${outputPosition}: ` +
        `it is not the output this checkpoint belongs to (restore it, or start over by ` +
        `moving ${dir} away)`,
    );
  }
  const start = restored ? outputPosition : 0;
  await file.truncate(start);
  await file.seek(start, Deno.SeekMode.Start);
  return { file, sink: new CountingSink(file, start) };
}

/** Runs a stateful stage command from stdin to stdout (or `--output`); the exit code. */
export async function runStateful(cmd: StatefulCommand): Promise<number> {
  const settings = statefulSettings(cmd);
  const values = cmd.values;
  const dir = values["checkpoint-dir"];
  let checkpoint: StatefulCheckpointing | undefined;
  let outputPosition = 0;
  const shared = await openShared(cmd, settings);
  if (dir !== undefined) {
    const opened = await cmd.open(dir, { fallback: values["checkpoint-fallback"] });
    checkpoint = {
      store: opened.store,
      restored: opened.restored,
      intervalMs: settings.intervalMs,
      maxOutbox: settings.maxOutbox,
    };
    outputPosition = opened.outputPosition;
  }
  let opened: Awaited<ReturnType<typeof openOutput>>;
  try {
    opened = await openOutput(
      values.output,
      dir,
      checkpoint?.restored !== undefined,
      outputPosition,
    );
  } catch (error) {
    checkpoint?.store.close();
    shared?.store.close();
    throw error;
  }
  const { file, sink } = opened;
  const output = new LineWriter(sink);
  if (checkpoint) {
    checkpoint.flushOutput = async () => {
      await output.flush();
      return sink.bytes;
    };
    if (file) checkpoint.syncOutput = () => file!.sync();
  }
  const { onError, latePolicy, ackTimeoutMs } = settings;
  const deadLetters = await openDeadLetters(onError);
  const lateSink = latePolicy.kind === "dead-letter"
    ? await openDeadLetters({ kind: "dead-letter", target: latePolicy.target })
    : undefined;
  const late: LatePolicy = lateSink
    ? { kind: "dead-letter", sink: lateSink }
    : { kind: latePolicy.kind as "drop" | "emit" };
  const relays: AckRelay[] = [];
  if (checkpoint && !file && settings.relayMode === "auto") {
    relayAcks(cmd.name, checkpoint, output, relays, ackTimeoutMs);
  }
  if (shared && settings.relayMode === "auto") {
    relayAcks(cmd.name, shared, output, relays, ackTimeoutMs);
  }
  let finished = false;
  const state = new StateMetrics();
  try {
    // 64 KiB reads: a batch of parsed lines lives until the stage has taken all of them, and
    // 1 MiB batches (~17k events) survived young-generation collections into the old one,
    // doubling a window's peak RSS (1M events: 180 MB at 1 MiB, 92 MB at 64 KiB, same CPU).
    const input = {
      name: cmd.name,
      onError,
      deadLetters,
      output,
      maxLineBytes: settings.maxLineBytes,
      chunkBytes: READ_BYTES,
      observe: {
        metrics: values.metrics,
        stats: values.stats,
        extend: (metrics: Metrics) => state.register(metrics, { windows: cmd.name === "window" }),
      },
    };
    const items = stdinItems(input);
    const stage = cmd.stage({
      onError,
      deadLetters,
      lineOf: items.lineOf,
      late,
      checkpoint,
      sharedCheckpoint: shared,
      // Results go out at once when the input goes quiet, and before reading pauses.
      flushWhenIdle: output,
      observer: state,
    });
    const code = await runStage(stage, input, items);
    finished = true;
    return code;
  } finally {
    // On failure the source hears at once that nothing more will be reported from here.
    if (!finished) { for (const relay of relays) await relay.close(0, 0).catch(() => {}); }
    checkpoint?.store.close();
    shared?.store.close();
    await deadLetters?.close();
    await lateSink?.close();
    if (file) {
      await output.flush().catch(() => {});
      await file.sync().catch(() => {});
      file.close();
    }
  }
}

/** `--checkpoint-store`, checked against the flags it cannot go with, and opened. */
async function openShared(
  cmd: StatefulCommand,
  settings: Settings,
): Promise<SharedCheckpointing | undefined> {
  const spec = cmd.values["checkpoint-store"];
  if (spec === undefined || cmd.openShared === undefined) return undefined;
  for (const flag of ["checkpoint-dir", "output"] as const) {
    if (cmd.values[flag] !== undefined) {
      throw new UsageError(`--checkpoint-store cannot be combined with --${flag}`);
    }
  }
  if (cmd.values["checkpoint-fallback"]) {
    throw new UsageError("--checkpoint-fallback applies to --checkpoint-dir only");
  }
  return {
    store: await cmd.openShared(spec),
    intervalMs: settings.intervalMs,
    maxOutbox: settings.maxOutbox,
  };
}

/** Into a pipe behind consume, a checkpointed stage relays acks (docs/checkpoints.md). */
function relayAcks(
  name: string,
  checkpoint: Pick<StatefulCheckpointing, "relay" | "drain">,
  output: LineWriter,
  relays: AckRelay[],
  ackTimeoutMs: number,
): void {
  checkpoint.relay = async (upstream, routes) => {
    const relay = await AckRelay.open(upstream, { stage: name, ...routes });
    relays.push(relay);
    return relay;
  };
  // After the last result: the terminal finishes (and reports its last ids) only once it reads
  // end of input; what it reported then leaves the outbox before the last checkpoint.
  checkpoint.drain = async () => {
    await output.flush();
    const closed = closeStdout();
    const relay = relays.pop();
    if (relay === undefined) return;
    const wait = await relay.close(
      closed ? ackTimeoutMs : Math.min(ackTimeoutMs, 1000),
      closed ? Math.min(ackTimeoutMs, 5000) : 0,
    );
    if (wait === "timeout") {
      console.error(
        `edgepipe ${name}: the terminal stage did not finish reporting within --ack-timeout; ` +
          "what it did not report is redelivered or re-emitted after a restart",
      );
    }
  };
}

export { parseDuration };
