/**
 * `edgepipe pattern`: event patterns per key (CEP) over event time, with the window stage's
 * checkpoints and acknowledgements.
 *
 * @module
 */
import { parseErrorPolicy } from "../lib/dead_letter.ts";
import { UsageError } from "../lib/errors.ts";
import { ExpressionError } from "../lib/expr/cel.ts";
import {
  openPatternCheckpoints,
  pattern,
  type PatternOptions,
} from "../lib/stages/pattern/pattern.ts";
import { type Command, parseDuration, parseFlags } from "./_command.ts";
import { runStateful, STATEFUL_FLAGS, statefulHelp } from "./_stateful_command.ts";

const help = `edgepipe pattern — find sequences of events per key (complex event processing)

Usage: edgepipe pattern --key <field|CEL> --define NAME=<CEL> … --pattern '<pattern>' --within D
                        [options]

A pattern is a sequence of conditions named with --define (CEL predicates over 'event'):
  a b c          a, then b, then c (other events may come between: relaxed contiguity)
  a{3}  a{2,}  a{2,4}  a+  a*  a?     quantifiers (greedy; the first and last step not optional)
  a !x b         no event matching x between a and b (a negation)
  a b !x         no event matching x after b until --within has passed (then the match is out)
Per key, events are matched in event-time order once the watermark (highest time seen -
--out-of-orderness) reaches them. Every event matching the first step starts a match; a match
dies if it would span more than --within. One result per match:
  {"key":"ORD","eventTime":<last>,"value":{"start":…,"end":…,"events":{"a":[…values…],…}}}
See docs/patterns.md for the exact rules and how they differ from Flink CEP.

Options:
  --within D                longest time from a match's first event to its last (required)
  --time PATH               event-time field (default eventTime, then publishTime)
  --out-of-orderness D      how far behind the highest time events may arrive (default 0)
  --contiguity C            relaxed (default): other events may come between the steps;
                            strict: any other event ends the match
  --skip S                  none (default): overlapping matches; past-last: after a match,
                            drop the matches that started in it
${statefulHelp("pattern", "older than the watermark")}

Examples:
  # three departures delayed more than 30 minutes within 2 hours, none on time between
  edgepipe replay flights.ndjson --time date \\
    | edgepipe pattern --key value.origin --within 2h --out-of-orderness 10m \\
        --define 'late=event.value.delay > 30' --define 'ontime=event.value.delay <= 0' \\
        --pattern 'late !ontime late !ontime late'
  # three or more declined payments, then an approved one, within ten minutes
  edgepipe consume payments -s fraud \\
    | edgepipe pattern --key value.card --within 10m --skip past-last \\
        --define 'declined=event.value.status == "declined"' \\
        --define 'approved=event.value.status == "approved"' \\
        --pattern 'declined{3,} approved' --checkpoint-dir ck/fraud \\
    | edgepipe produce fraud-alerts`;

function definitions(texts: string[]): Record<string, string> {
  const define: Record<string, string> = {};
  for (const text of texts) {
    const match = /^([A-Za-z][A-Za-z0-9_]*)=(.+)$/s.exec(text);
    if (!match) throw new UsageError(`--define must be NAME=<CEL>, got '${text}'`);
    if (match[1] in define) throw new UsageError(`--define: '${match[1]}' is defined twice`);
    define[match[1]] = match[2];
  }
  return define;
}

function oneOf<const T extends string>(text: string, flag: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(text)) {
    throw new UsageError(`${flag} must be ${allowed.join(" or ")}, got '${text}'`);
  }
  return text as T;
}

/** The `pattern` command. */
export const command: Command = {
  name: "pattern",
  summary: "Find event patterns per key (CEP)",
  help,
  async run(args) {
    const { values, positionals } = parseFlags("pattern", args, {
      key: { type: "string" },
      define: { type: "string", multiple: true },
      pattern: { type: "string" },
      within: { type: "string" },
      time: { type: "string" },
      "out-of-orderness": { type: "string", default: "0" },
      contiguity: { type: "string", default: "relaxed" },
      skip: { type: "string", default: "none" },
      ...STATEFUL_FLAGS,
    }, false);
    if (positionals.length > 0) throw new UsageError(`pattern: unexpected '${positionals[0]}'`);
    for (const flag of ["key", "pattern", "within"] as const) {
      if (values[flag] === undefined) throw new UsageError(`pattern: --${flag} is required`);
    }
    const options: PatternOptions = {
      pattern: values.pattern!,
      define: definitions(values.define ?? []),
      key: values.key!,
      within: parseDuration(values.within!, "--within"),
      time: values.time,
      outOfOrderness: parseDuration(values["out-of-orderness"]!, "--out-of-orderness"),
      contiguity: oneOf(values.contiguity!, "--contiguity", ["relaxed", "strict"]),
      skip: oneOf(values.skip!, "--skip", ["none", "past-last"]),
      onError: parseErrorPolicy(values["on-error"]!),
    };
    try {
      pattern(options);
    } catch (err) {
      if (err instanceof ExpressionError) throw new UsageError(err.message, { cause: err });
      throw err;
    }
    return await runStateful({
      name: "pattern",
      values,
      duration: parseDuration,
      open: (dir, restore) => openPatternCheckpoints(dir, options, undefined, restore),
      stage: (shared) => pattern({ ...options, ...shared }),
    });
  },
};
