/**
 * `edgepipe window`: keyed event-time windows with aggregations, late-event side output and
 * file-backed checkpoints.
 *
 * @module
 */
import { parseErrorPolicy } from "../lib/dead_letter.ts";
import { UsageError } from "../lib/errors.ts";
import { type ByteSink, LineWriter } from "../lib/ndjson.ts";
import type { WindowShape } from "../lib/stages/window/assign.ts";
import {
  type LatePolicy,
  openWindowCheckpoints,
  window,
  type WindowCheckpointing,
  type WindowOptions,
} from "../lib/stages/window/window.ts";
import { CheckpointError } from "../lib/checkpoint/store.ts";
import { AckRelay } from "../lib/delivery/ack_relay.ts";
import { closeStdout } from "../lib/delivery/close_stdout.ts";
import { ExpressionError } from "../lib/expr/cel.ts";
import { type Command, parseDuration, parseFlags, parsePositiveInt } from "./_command.ts";
import { openDeadLetters, runStage, stdinItems } from "./_stage_runner.ts";

const help = `edgepipe window — keyed event-time windows with aggregations and checkpoints

Usage: edgepipe window --key <field|CEL> <shape> [--agg '<list>'] [options]

Shapes (one of):
  --tumbling D             fixed windows of D (5m, 1h), aligned to the epoch (+ --offset D)
  --sliding D --every S    windows of D starting every S
  --session GAP            per-key sessions that close after GAP without events
  --count N                per-key windows of N events (arrival order)

Aggregations (--agg, default 'count()'): count(), count(x), sum(x), avg(x), min(x), max(x),
pNN(x) (exact quantile, e.g. p95), distinct(x), first(x), last(x), each optionally 'as name'.
x is a dotted path (value.delay; a path not found on the envelope is looked up under value) or a
CEL expression. Default result names: count, avg_value_delay, p95_value_delay, …

Event time: --time <path> (default eventTime, falling back to publishTime); epoch milliseconds or
ISO-8601 (no offset = UTC). Watermark = highest event time seen - --out-of-orderness. A window
[start, end) is emitted when the watermark reaches end, as
  {"key":"SFO","window":{"start":…,"end":…},"value":{…},"eventTime":end-1,"timing":"on_time"}
At the end of the stream every open window is emitted. Behind an edgepipe source (the input
starts with a "hello") only the source's "end" record ends the stream: an input that stops
without it means the process feeding window died, so nothing is fired, the state is kept (in
--checkpoint-dir) and window exits 1 with one line on stderr. Plain NDJSON: end of input is the
end. Same input, same output, byte for byte.

Per-partition watermarks: behind consume, each source partition (the envelope's topic and
partition) has its own watermark and the window's is their minimum, so a partition that lags in
event time holds windows back instead of having its events turned late; a partition that has
not sent an event yet is not waited for. Events without topic and partition are one partition.

Options:
  --time PATH               event-time field (default eventTime, then publishTime)
  --out-of-orderness D      how far behind the highest time events may arrive (default 0)
  --watermark W             partition (default): per source partition, combined as their
                            minimum; global: one watermark over all events
  --idle-timeout D          a partition without events for D (wall clock) stops holding the
                            watermark back until it has events again (default: never).
                            Results then depend on timing
  --idle-advance D          once the whole input has been quiet for D (wall clock), the
                            watermark moves on with the wall clock from the highest event time,
                            so the last windows close without new events (default: never).
                            Results then depend on timing
  --allowed-lateness D      keep windows D longer; later events re-emit them (timing "late")
  --late P                  events beyond that: drop (default: acknowledged and counted on
                            stderr), dead-letter=<file> (a side output), or emit (sent on
                            with "late": true, mixed with the results)
  --early-every N           also emit a window's result every N events (timing "early")
  --idle-key-ttl D          flush a key's count window after D of event time without events
  --checkpoint-dir DIR      checkpoint the state there and resume from it on start
  --checkpoint-interval D   time between checkpoints (default 1s)
  --checkpoint-fallback     if the newest checkpoint is corrupt, restore the previous one
                            instead of stopping. Cost: behind consume, the events absorbed
                            between the two were acknowledged already and are missing from
                            the restored state (their windows come out short); with replayed
                            files (no hello) nothing is lost
  --max-outbox N            behind the ack relay, most results waiting for the terminal's
                            report (default 100000); when full, window stops reading
  --ack-relay M             auto (default): with --checkpoint-dir behind an acknowledging source
                            (consume's hello), relay acks and keep undelivered results in the
                            checkpoint until the terminal stage reports them; off: pass the
                            hello on (a terminal crash after a checkpoint can lose results)
  --ack-timeout D           at exit, how long to wait for the terminal's last reports (30s)
  --output FILE             write results to FILE instead of stdout; with --checkpoint-dir a
                            restart truncates FILE to the checkpoint, so a replay restarted after
                            a crash produces exactly the output of an uninterrupted run
  --on-error P              fail (default) | skip | dead-letter=<file>, for events without key,
                            time or with a bad value, and for unparseable lines
  --max-line-bytes N        longest accepted input line (default 16 MiB)

Examples:
  edgepipe window --key origin --tumbling 1h --time value.date \\
    --agg 'count(), avg(value.delay), p95(value.delay)' --out-of-orderness 10m
  edgepipe window --key value.user --session 30m --agg 'count(), sum(value.amount)' \\
    --checkpoint-dir /var/lib/edgepipe/sessions
  edgepipe window --key origin --tumbling 1h --late dead-letter=late.ndjson \\
    --checkpoint-dir ck --checkpoint-fallback
  edgepipe consume sensors -s hourly --type failover \\
    | edgepipe window --key value.sensor --tumbling 1h --idle-timeout 5m --idle-advance 30m \\
    | edgepipe produce hourly`;

/** Bytes of stdin read at once (see `run`). */
const WINDOW_READ_BYTES = 64 * 1024;

/** Longest duration a window setting may have: the range of event times (±8.64e15 ms). */
const MAX_DURATION_MS = 8.64e15;
/** Most windows one event may fall into (--sliding / --every). */
const MAX_WINDOWS_PER_EVENT = 10_000;

/** A duration flag that is finite and within the range of event times. */
function duration(text: string, flag: string): number {
  const ms = parseDuration(text, flag);
  if (!(ms <= MAX_DURATION_MS)) {
    throw new UsageError(`${flag}: '${text}' is longer than any event time range (273,790 years)`);
  }
  return ms;
}

function shapeOf(values: Record<string, string | undefined>): WindowShape {
  const given = ["tumbling", "sliding", "session", "count"].filter((k) => values[k] !== undefined);
  if (given.length !== 1) {
    throw new UsageError(
      "window: give exactly one of --tumbling, --sliding (with --every), --session, --count",
    );
  }
  const offset = values.offset === undefined ? 0 : duration(values.offset, "--offset");
  const positive = (text: string, flag: string) => {
    const ms = duration(text, flag);
    if (ms <= 0) throw new UsageError(`${flag}: must be more than 0`);
    return ms;
  };
  switch (given[0]) {
    case "tumbling":
      return { kind: "tumbling", size: positive(values.tumbling!, "--tumbling"), offset };
    case "sliding": {
      if (values.every === undefined) throw new UsageError("window: --sliding needs --every");
      const size = positive(values.sliding!, "--sliding");
      const slide = positive(values.every, "--every");
      if (slide > size) throw new UsageError("window: --every must not exceed --sliding");
      if (size / slide > MAX_WINDOWS_PER_EVENT) {
        throw new UsageError(
          `window: --sliding ${values.sliding!} --every ${values.every} puts each event in ` +
            `${
              Math.ceil(size / slide)
            } windows (at most ${MAX_WINDOWS_PER_EVENT}); use a longer --every`,
        );
      }
      return { kind: "sliding", size, slide, offset };
    }
    case "session":
      return { kind: "session", gap: positive(values.session!, "--session") };
    default:
      return { kind: "count", size: parsePositiveInt(values.count!, "--count") };
  }
}

function parseLate(
  text: string,
): { kind: "drop" | "emit" } | { kind: "dead-letter"; target: string } {
  if (text === "emit" || text === "drop") return { kind: text };
  const match = /^dead-letter=(.+)$/.exec(text);
  if (match) return { kind: "dead-letter", target: match[1] };
  throw new UsageError(`--late must be drop, emit or dead-letter=<file>, got '${text}'`);
}

/** --watermark, --idle-timeout and --idle-advance. */
function watermarkOptions(
  values: Record<string, string | boolean | undefined>,
): Pick<WindowOptions, "watermark" | "idleTimeoutMs" | "idleAdvanceMs"> {
  const watermark = values.watermark as string;
  if (watermark !== "partition" && watermark !== "global") {
    throw new UsageError(`--watermark must be partition or global, got '${watermark}'`);
  }
  const positive = (flag: string) => {
    const text = values[flag] as string | undefined;
    if (text === undefined) return 0;
    if (watermark === "global") throw new UsageError(`--${flag} needs --watermark partition`);
    const ms = duration(text, `--${flag}`);
    if (ms <= 0) throw new UsageError(`--${flag}: must be more than 0`);
    return ms;
  };
  const idleTimeoutMs = positive("idle-timeout");
  const idleAdvanceMs = positive("idle-advance");
  return {
    watermark,
    ...(idleTimeoutMs > 0 ? { idleTimeoutMs } : {}),
    ...(idleAdvanceMs > 0 ? { idleAdvanceMs } : {}),
  };
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

/** The `window` command. */
export const command: Command = {
  name: "window",
  summary: "Keyed event-time windows with checkpoints",
  help,
  async run(args) {
    const { values, positionals } = parseFlags("window", args, {
      key: { type: "string" },
      tumbling: { type: "string" },
      sliding: { type: "string" },
      every: { type: "string" },
      session: { type: "string" },
      count: { type: "string" },
      offset: { type: "string" },
      agg: { type: "string", default: "count()" },
      time: { type: "string" },
      "out-of-orderness": { type: "string", default: "0" },
      "allowed-lateness": { type: "string", default: "0" },
      late: { type: "string", default: "drop" },
      "early-every": { type: "string" },
      "idle-key-ttl": { type: "string" },
      watermark: { type: "string", default: "partition" },
      "idle-timeout": { type: "string" },
      "idle-advance": { type: "string" },
      "checkpoint-dir": { type: "string" },
      "checkpoint-interval": { type: "string", default: "1s" },
      "checkpoint-fallback": { type: "boolean", default: false },
      "max-outbox": { type: "string" },
      "ack-relay": { type: "string", default: "auto" },
      "ack-timeout": { type: "string", default: "30s" },
      output: { type: "string" },
      "on-error": { type: "string", default: "fail" },
      "max-line-bytes": { type: "string" },
    }, false);
    if (positionals.length > 0) throw new UsageError(`window: unexpected '${positionals[0]}'`);
    if (values.key === undefined) throw new UsageError("window: --key <field|CEL> is required");
    const onError = parseErrorPolicy(values["on-error"]!);
    const latePolicy = parseLate(values.late!);
    const options: WindowOptions = {
      key: values.key,
      shape: shapeOf({ ...values, "checkpoint-fallback": undefined }),
      aggregates: values.agg!,
      time: values.time,
      outOfOrderness: duration(values["out-of-orderness"]!, "--out-of-orderness"),
      allowedLateness: duration(values["allowed-lateness"]!, "--allowed-lateness"),
      earlyEvery: values["early-every"] === undefined
        ? 0
        : parsePositiveInt(values["early-every"], "--early-every"),
      idleKeyTtl: values["idle-key-ttl"] === undefined
        ? 0
        : duration(values["idle-key-ttl"], "--idle-key-ttl"),
      onError,
      ...watermarkOptions(values),
    };
    const intervalMs = duration(values["checkpoint-interval"]!, "--checkpoint-interval");
    const maxOutbox = values["max-outbox"] === undefined
      ? undefined
      : parsePositiveInt(values["max-outbox"], "--max-outbox");
    if (intervalMs <= 0) throw new UsageError("--checkpoint-interval: must be more than 0");
    const relayMode = values["ack-relay"]!;
    if (relayMode !== "auto" && relayMode !== "off") {
      throw new UsageError(`--ack-relay must be auto or off, got '${relayMode}'`);
    }
    const ackTimeoutMs = duration(values["ack-timeout"]!, "--ack-timeout");
    // Build once up front so that a bad --key or --agg is a usage error before any file is touched.
    try {
      window(options);
    } catch (err) {
      if (err instanceof ExpressionError) throw new UsageError(err.message, { cause: err });
      throw err;
    }

    let checkpoint: WindowCheckpointing | undefined;
    let outputPosition = 0;
    if (values["checkpoint-dir"] !== undefined) {
      const opened = await openWindowCheckpoints(values["checkpoint-dir"], options, undefined, {
        fallback: values["checkpoint-fallback"],
      });
      checkpoint = { store: opened.store, restored: opened.restored, intervalMs, maxOutbox };
      outputPosition = opened.outputPosition;
    }

    let file: Deno.FsFile | undefined;
    let sink: CountingSink;
    if (values.output !== undefined) {
      file = await Deno.open(values.output, { read: true, write: true, create: true });
      const size = (await file.stat()).size;
      if (checkpoint?.restored && size < outputPosition) {
        file.close();
        throw new CheckpointError(
          `${values.output} has ${size} bytes but the checkpoint wrote ${outputPosition}: ` +
            `it is not the output this checkpoint belongs to (restore it, or start over by ` +
            `moving ${values["checkpoint-dir"]} away)`,
        );
      }
      const start = checkpoint?.restored ? outputPosition : 0;
      await file.truncate(start);
      await file.seek(start, Deno.SeekMode.Start);
      sink = new CountingSink(file, start);
    } else {
      sink = new CountingSink(Deno.stdout);
    }
    const output = new LineWriter(sink);
    if (checkpoint) {
      checkpoint.flushOutput = async () => {
        await output.flush();
        return sink.bytes;
      };
      if (file) checkpoint.syncOutput = () => file!.sync();
    }

    const maxLineBytes = values["max-line-bytes"] === undefined
      ? undefined
      : parsePositiveInt(values["max-line-bytes"], "--max-line-bytes");
    const deadLetters = await openDeadLetters(onError);
    const lateSink = latePolicy.kind === "dead-letter"
      ? await openDeadLetters({ kind: "dead-letter", target: latePolicy.target })
      : undefined;
    const late: LatePolicy = lateSink
      ? { kind: "dead-letter", sink: lateSink }
      : { kind: latePolicy.kind as "drop" | "emit" };
    // Into a pipe behind consume, a checkpointed window relays acks (docs/checkpoints.md).
    const relays: AckRelay[] = [];
    if (checkpoint && !file && relayMode === "auto") {
      checkpoint.relay = async (upstream, routes) => {
        const relay = await AckRelay.open(upstream, { stage: "window", ...routes });
        relays.push(relay);
        return relay;
      };
      // After the last result: the terminal finishes (and reports its last ids) only once it
      // reads end of input; what it reported then leaves the outbox before the last checkpoint.
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
            "edgepipe window: the terminal stage did not finish reporting within --ack-timeout; " +
              "what it did not report is redelivered or re-emitted after a restart",
          );
        }
      };
    }
    let finished = false;
    try {
      // flushWhenIdle: results go out at once when the input goes quiet (the writer bounds their
      // delay anyway), and before reading pauses.
      // 64 KiB reads: a batch of parsed lines lives until the window has taken all of them, and
      // 1 MiB batches (~17k events) survived young-generation collections into the old one,
      // doubling peak RSS (1M events: 180 MB at 1 MiB, 92 MB at 64 KiB, same CPU).
      const input = {
        name: "window",
        onError,
        deadLetters,
        output,
        maxLineBytes,
        chunkBytes: WINDOW_READ_BYTES,
      };
      const items = stdinItems(input);
      const lineOf = items.lineOf;
      const stage = window({
        ...options,
        deadLetters,
        lineOf,
        late,
        checkpoint,
        flushWhenIdle: output,
      });
      const code = await runStage(stage, input, items);
      finished = true;
      return code;
    } finally {
      // On failure the source hears at once that nothing more will be reported from here.
      if (!finished) { for (const relay of relays) await relay.close(0, 0).catch(() => {}); }
      checkpoint?.store.close();
      await deadLetters?.close();
      await lateSink?.close();
      if (file) {
        await output.flush().catch(() => {});
        await file.sync().catch(() => {});
        file.close();
      }
    }
  },
};
