/**
 * `edgepipe map [<CEL>]`: rewrites each event's value (or its whole envelope) with a CEL
 * expression, optionally after an enrichment join.
 *
 * @module
 */
import { parseErrorPolicy } from "../lib/dead_letter.ts";
import { UsageError } from "../lib/errors.ts";
import { compileForCli } from "../lib/expr/cli.ts";
import { JOIN_FLAGS, joinHelp, openLookupJoin } from "./_lookup_join.ts";
import { map } from "../lib/stages/map.ts";
import type { Stage } from "../lib/stages/types.ts";
import type { Item } from "../lib/envelope.ts";
import { type Command, parseFlags, parsePositiveInt } from "./_command.ts";
import {
  OBSERVE_FLAGS,
  observeHelp,
  openDeadLetters,
  runStage,
  stdinItems,
} from "./_stage_runner.ts";

const help = `edgepipe map — rewrite events with a CEL expression

Usage: edgepipe map ['<CEL expression>'] [options]

The expression sees the envelope as 'event'. Its result becomes the event's value (--set value,
the default) or the whole envelope (--set document: the result must be a map; envelope metadata
it does not set — topic, partition, key, publishTime, eventTime, properties, redeliveryCount — is
kept, and id is always kept so the event can still be acknowledged). Without an expression, map
only performs the --join. JSON numbers are CEL doubles: write 1.0, not 1, in arithmetic.

Options:
  --set value|document  what the result replaces (default value)
  --on-error P          fail (default) | skip | dead-letter=<file>
${joinHelp(24)}
  --max-line-bytes N    longest accepted input line (default 16 MiB)
${observeHelp(24)}

Examples:
  edgepipe map '{"origin": event.value.origin, "late": event.value.delay > 15}'
  edgepipe map --set document '{"key": event.value.origin, "value": event.value}'
  edgepipe map --join airports.ndjson --on value.origin=iata \\
    '{"delay": event.value.delay, "city": event.ref.city}'
  edgepipe consume flights -s enrich | edgepipe map --join airports.ndjson \\
    --on value.origin=iata '{"delay": event.value.delay, "city": event.ref.city}'
  # elsewhere: the airports change under the running pipe (picked up within about 2 s)
  cp new-airports.ndjson airports.ndjson.tmp && mv airports.ndjson.tmp airports.ndjson`;

/** The `map` command. */
export const command: Command = {
  name: "map",
  summary: "Rewrite events with a CEL expression, enrich from a reference file",
  help,
  async run(args) {
    const { values, positionals } = parseFlags("map", args, {
      set: { type: "string", default: "value" },
      "on-error": { type: "string", default: "fail" },
      ...JOIN_FLAGS,
      ...OBSERVE_FLAGS,
      "max-line-bytes": { type: "string" },
    });
    if (positionals.length > 1) throw new UsageError("map: expected at most one CEL expression");
    if (positionals.length === 0 && values.join === undefined) {
      throw new UsageError("map: expected a CEL expression or --join (see --help)");
    }
    const set = values.set;
    if (set !== "value" && set !== "document") {
      throw new UsageError(`map: --set must be value or document, got '${set}'`);
    }
    const onError = parseErrorPolicy(values["on-error"]!);
    const expression = positionals.length === 1 ? compileForCli(positionals[0]) : undefined;
    const stages: Stage[] = [];
    const lookup = await openLookupJoin("map", values);
    if (lookup) stages.push(lookup.stage);
    const maxLineBytes = values["max-line-bytes"] === undefined
      ? undefined
      : parsePositiveInt(values["max-line-bytes"], "--max-line-bytes");
    // One dead-letter sink for bad lines and failing events alike.
    const deadLetters = await openDeadLetters(onError);
    try {
      const items = stdinItems({ name: "map", onError, deadLetters, maxLineBytes });
      if (expression) {
        stages.push(map(expression, { set, onError, deadLetters, lineOf: items.lineOf }));
      }
      return await runStage(
        (input) => stages.reduce<AsyncIterable<Item>>((s, stage) => stage(s), input),
        { name: "map", onError, deadLetters, observe: values },
        items,
      );
    } finally {
      await deadLetters?.close();
      await lookup?.reference.close();
    }
  },
};
