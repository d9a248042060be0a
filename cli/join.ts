/**
 * `edgepipe join`: stream-stream joins — interval and tumbling-window, inner and left-outer —
 * with the window stage's checkpoints and acknowledgements.
 *
 * @module
 */
import { parseErrorPolicy } from "../lib/dead_letter.ts";
import { UsageError } from "../lib/errors.ts";
import { ExpressionError } from "../lib/expr/cel.ts";
import {
  type JoinRule,
  openJoinCheckpoints,
  streamJoin,
  type StreamJoinOptions,
} from "../lib/stages/stream_join/stream_join.ts";
import { type Command, parseDuration, parseFlags } from "./_command.ts";
import { runStateful, STATEFUL_FLAGS, statefulHelp } from "./_stateful_command.ts";

const help = `edgepipe join — pair the events of two streams by key and event time

Usage: edgepipe join --left <CEL> --right <CEL> --key <field|CEL>
                     (--within=A,B | --tumbling D | --sliding D --every S)
                     [--type inner|left] [--as NAME] [options]

Both streams arrive mixed in one input (consume a b, or replay of two files); --left and --right
are CEL predicates over 'event' telling them apart (an event matching both is a left one; one
matching neither follows --on-error). Events of the same key pair when:
  --within=A,B     the right event's time is in [left time + A, left time + B], e.g.
                   --within=-5m,10m (write the '=' when A is negative)
  --tumbling D     both fall into the same tumbling window of D (+ --offset D)
  --sliding D --every S   both fall into a window of D starting every S: one result per
                   window they share
Each pair is one result: the left event's value, its key, the right event's value under "right"
(or --as NAME), eventTime = the later of the two, and for window joins the window:
  {"key":"SFO","eventTime":…,"value":{…left…},"right":{…right…}}
--type left (left-outer) also emits each left event that found no partner, with "right": null,
once the watermark shows that none can come. Watermark = highest event time seen -
--out-of-orderness; an event older than the watermark is late. State holds only what can still
pair: its size is bounded by the event rate times the interval (or window) plus the disorder.

Options:
  --time PATH               event-time field (default eventTime, then publishTime)
  --out-of-orderness D      how far behind the highest time events may arrive (default 0)
${statefulHelp("join", "older than the watermark")}

Examples:
  # departures at an airport with the arrivals there from 5 minutes before to 10 minutes after
  # (one file holds both kinds of events, in event-time order give or take 10 minutes)
  edgepipe replay movements.ndjson \\
    | edgepipe join --left 'event.value.kind == "dep"' --right 'event.value.kind == "arr"' \\
        --key value.airport --within=-5m,10m --out-of-orderness 10m --type left
  # orders and payments of the same order within an hour, checkpointed behind consume
  edgepipe consume orders payments -s joiner \\
    | edgepipe join --left 'event.topic.endsWith("/orders")' --right 'event.topic.endsWith("/payments")' \\
        --key value.order --within=0s,1h --checkpoint-dir ck/join \\
    | edgepipe produce paid-orders`;

function signedDuration(text: string, flag: string): number {
  const trimmed = text.trim();
  const negative = trimmed.startsWith("-");
  const ms = parseDuration(negative || trimmed.startsWith("+") ? trimmed.slice(1) : trimmed, flag);
  return negative ? -ms : ms;
}

function ruleOf(
  values: { within?: string; tumbling?: string; sliding?: string; every?: string; offset?: string },
): JoinRule {
  const given = [values.within, values.tumbling, values.sliding].filter((v) => v !== undefined);
  if (given.length !== 1) {
    throw new UsageError(
      "join: give exactly one of --within=A,B, --tumbling D and --sliding D --every S",
    );
  }
  const positive = (text: string, flag: string) => {
    const ms = parseDuration(text, flag);
    if (ms <= 0) throw new UsageError(`${flag}: must be more than 0`);
    return ms;
  };
  const offset = values.offset === undefined ? 0 : parseDuration(values.offset, "--offset");
  if (values.tumbling !== undefined) {
    return { kind: "window", size: positive(values.tumbling, "--tumbling"), offset };
  }
  if (values.sliding !== undefined) {
    if (values.every === undefined) throw new UsageError("join: --sliding needs --every");
    const size = positive(values.sliding, "--sliding");
    const slide = positive(values.every, "--every");
    if (slide > size) throw new UsageError("join: --every must not exceed --sliding");
    if (size / slide > 10_000) {
      throw new UsageError(
        "join: a pair would share more than 10,000 windows; use a longer --every",
      );
    }
    return { kind: "window", size, slide, offset };
  }
  const parts = values.within!.split(",");
  if (parts.length !== 2) {
    throw new UsageError(
      `--within must be two durations A,B (e.g. --within=-5m,10m), got '${values.within}'`,
    );
  }
  const lower = signedDuration(parts[0], "--within");
  const upper = signedDuration(parts[1], "--within");
  if (lower > upper) {
    throw new UsageError(`--within ${values.within}: the first bound must not be above the second`);
  }
  return { kind: "interval", lower, upper };
}

/** The `join` command. */
export const command: Command = {
  name: "join",
  summary: "Join two streams by key and event time",
  help,
  async run(args) {
    const { values, positionals } = parseFlags("join", args, {
      left: { type: "string" },
      right: { type: "string" },
      key: { type: "string" },
      within: { type: "string" },
      tumbling: { type: "string" },
      sliding: { type: "string" },
      every: { type: "string" },
      offset: { type: "string" },
      type: { type: "string", default: "inner" },
      as: { type: "string", default: "right" },
      time: { type: "string" },
      "out-of-orderness": { type: "string", default: "0" },
      ...STATEFUL_FLAGS,
    }, false);
    if (positionals.length > 0) throw new UsageError(`join: unexpected '${positionals[0]}'`);
    for (const flag of ["left", "right", "key"] as const) {
      if (values[flag] === undefined) throw new UsageError(`join: --${flag} is required`);
    }
    if (values.type !== "inner" && values.type !== "left") {
      throw new UsageError(`--type must be inner or left, got '${values.type}'`);
    }
    const options: StreamJoinOptions = {
      left: values.left!,
      right: values.right!,
      key: values.key!,
      rule: ruleOf(values),
      type: values.type,
      as: values.as,
      time: values.time,
      outOfOrderness: parseDuration(values["out-of-orderness"]!, "--out-of-orderness"),
      onError: parseErrorPolicy(values["on-error"]!),
    };
    try {
      streamJoin(options);
    } catch (err) {
      if (err instanceof ExpressionError) throw new UsageError(err.message, { cause: err });
      throw err;
    }
    return await runStateful({
      name: "join",
      values,
      duration: parseDuration,
      open: (dir, restore) => openJoinCheckpoints(dir, options, undefined, restore),
      stage: (shared) => streamJoin({ ...options, ...shared }),
    });
  },
};
