/**
 * `edgepipe window`: keyed event-time windows with aggregations, late-event side output and
 * file-backed checkpoints.
 *
 * @module
 */
import { parseErrorPolicy } from "../lib/dead_letter.ts";
import { UsageError } from "../lib/errors.ts";
import type { WindowShape } from "../lib/stages/window/assign.ts";
import { openWindowCheckpoints, window, type WindowOptions } from "../lib/stages/window/window.ts";
import { ExpressionError } from "../lib/expr/cel.ts";
import { openSharedStore } from "../lib/checkpoint/open_shared_store.ts";
import { type Command, parseDuration, parseFlags, parsePositiveInt } from "./_command.ts";
import { runStateful, STATEFUL_FLAGS, statefulHelp } from "./_stateful_command.ts";

const help = `edgepipe window — keyed event-time windows with aggregations and checkpoints

Usage: edgepipe window --key <field|CEL> <shape> [--agg '<list>'] [options]

Shapes (one of):
  --tumbling D             fixed windows of D (5m, 1h), aligned to the epoch (+ --offset D)
  --sliding D --every S    windows of D starting every S
  --session GAP            per-key sessions that close after GAP without events
  --count N                per-key windows of N events (arrival order)

Aggregations (--agg, default 'count()'): count(), count(x), sum(x), avg(x), min(x), max(x),
pNN(x) (exact quantile, e.g. p95), distinct(x), first(x), last(x), collect(x, N) (array of the
last N values in event-time order, for a model's tensor feature), each optionally 'as name'.
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

State that follows its partition (--checkpoint-store DIR|s3://bucket/prefix): behind consume
--type failover --announce-partitions, the windows of each source partition are kept apart (one
watermark each) and checkpointed, partition by partition, to a store every instance shares: a
directory on a shared volume, or an S3 bucket (AWS or a server with conditional writes, such as
MinIO; endpoint and credentials as sink s3 takes them: S3_ENDPOINT or AWS_ENDPOINT_URL,
AWS_REGION, AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or AWS_PROFILE). A partition handed to this instance is restored from its newest checkpoint before its
events are absorbed; a partition taken away gets a final checkpoint and is dropped. Events are
acknowledged once a checkpoint of their partition is durable. A key must live in one partition
(produce routes by the message key). Not with --checkpoint-dir, --output, --watermark global,
--idle-timeout or --idle-advance (docs/scaling.md).

Options:
  --checkpoint-store WHERE  state per source partition in WHERE, shared by the instances: a
                            directory, or s3://bucket/prefix
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
  --early-every N           also emit a window's result every N events (timing "early")
  --idle-key-ttl D          flush a key's count window after D of event time without events
${statefulHelp("window", "beyond --allowed-lateness")}

Examples:
  edgepipe window --key origin --tumbling 1h --time value.date \\
    --agg 'count(), avg(value.delay), p95(value.delay)' --out-of-orderness 10m
  edgepipe window --key value.user --session 30m --agg 'count(), sum(value.amount)' \\
    --checkpoint-dir /var/lib/edgepipe/sessions
  edgepipe window --key origin --tumbling 1h --late dead-letter=late.ndjson \\
    --checkpoint-dir ck --checkpoint-fallback
  edgepipe window --key key --count 24 --agg 'collect(value.temperature, 24) as temps' \\
    | edgepipe score --model models/temperature-anomaly
  edgepipe consume sensors -s hourly --type failover \\
    | edgepipe window --key value.sensor --tumbling 1h --idle-timeout 5m --idle-advance 30m \\
    | edgepipe produce hourly
  # on each of several boxes, the same pipe; /shared is a volume they all mount
  edgepipe consume flights -s hourly --type failover --announce-partitions \\
    | edgepipe window --key value.origin --tumbling 1h --checkpoint-store /shared/hourly \\
    | edgepipe produce hourly-by-origin
  # the same, with the state in S3
  edgepipe consume flights -s hourly --type failover --announce-partitions \\
    | edgepipe window --key value.origin --tumbling 1h --checkpoint-store s3://state/hourly \\
    | edgepipe produce hourly-by-origin`;

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
      "early-every": { type: "string" },
      "idle-key-ttl": { type: "string" },
      ...STATEFUL_FLAGS,
      "checkpoint-store": { type: "string" },
      watermark: { type: "string", default: "partition" },
      "idle-timeout": { type: "string" },
      "idle-advance": { type: "string" },
    }, false);
    if (positionals.length > 0) throw new UsageError(`window: unexpected '${positionals[0]}'`);
    if (values.key === undefined) throw new UsageError("window: --key <field|CEL> is required");
    const options: WindowOptions = {
      key: values.key,
      shape: shapeOf({ ...values, "checkpoint-fallback": undefined, stats: undefined }),
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
      onError: parseErrorPolicy(values["on-error"]!),
      ...watermarkOptions(values),
    };
    if (values["checkpoint-store"] !== undefined) {
      const bad = (["idle-timeout", "idle-advance"] as const).find((flag) =>
        values[flag] !== undefined
      );
      if (bad !== undefined || values.watermark !== "partition") {
        throw new UsageError(
          `--checkpoint-store keeps one watermark per partition's state: not with ` +
            `${bad === undefined ? "--watermark global" : `--${bad}`}`,
        );
      }
    }
    // Build once up front so that a bad --key or --agg is a usage error before any file is touched.
    try {
      window(options);
    } catch (err) {
      if (err instanceof ExpressionError) throw new UsageError(err.message, { cause: err });
      throw err;
    }

    return await runStateful({
      name: "window",
      values,
      duration,
      open: (dir, restore) => openWindowCheckpoints(dir, options, undefined, restore),
      openShared: openSharedStore,
      stage: (shared) => window({ ...options, ...shared }),
    });
  },
};
