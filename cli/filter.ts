/**
 * `edgepipe filter '<CEL>'`: keeps events for which the expression is true.
 *
 * @module
 */
import { parseErrorPolicy } from "../lib/dead_letter.ts";
import { UsageError } from "../lib/errors.ts";
import { filter } from "../lib/stages/filter.ts";
import { compileForCli } from "../lib/expr/cli.ts";
import { JOIN_FLAGS, joinHelp, openLookupJoin } from "./_lookup_join.ts";
import type { Stage } from "../lib/stages/types.ts";
import type { Item } from "../lib/envelope.ts";
import { type Command, EXIT, parseFlags, parsePositiveInt } from "./_command.ts";
import { LineWriter } from "../lib/ndjson.ts";
import { filterLines } from "../lib/stages/filter_lines.ts";
import {
  OBSERVE_FLAGS,
  observeHelp,
  openDeadLetters,
  runStage,
  stdinItems,
} from "./_stage_runner.ts";
import { flushAfter } from "../lib/stage_input.ts";

const help = `edgepipe filter — keep events for which a CEL expression is true

Usage: edgepipe filter '<CEL expression>' [options]

The expression sees the envelope as 'event' (event.value, event.key, event.eventTime, …). JSON
numbers are CEL doubles: compare freely (event.value.delay > 15), but write 1.0 in arithmetic.
Dropped events are acknowledged in-band; control records pass through in order.

Options:
  --on-error P        fail (default) | skip | dead-letter=<file>, for events the expression
                      fails on (missing field, wrong type) and for unparseable lines
${joinHelp(22)}
  --max-line-bytes N  longest accepted input line (default 16 MiB)
${observeHelp(22)}

Examples:
  edgepipe filter 'event.value.delay > 15 && event.value.origin == "SFO"'
  edgepipe filter --join airports.ndjson --on value.origin=iata 'event.ref.state == "CA"'
  edgepipe filter --on-error dead-letter=bad.ndjson 'event.value.score.delayed > 0.8'
  edgepipe consume flights -s west | edgepipe filter --join airports.ndjson \\
    --on value.origin=iata --watch-interval 5s 'event.ref.state == "CA"' | edgepipe produce west
  # elsewhere, to update the airports while the pipe runs:
  cp new-airports.ndjson airports.ndjson.tmp && mv airports.ndjson.tmp airports.ndjson`;

/** The `filter` command. */
export const command: Command = {
  name: "filter",
  summary: "Keep events matching a CEL expression",
  help,
  async run(args) {
    const { values, positionals } = parseFlags("filter", args, {
      "on-error": { type: "string", default: "fail" },
      ...JOIN_FLAGS,
      ...OBSERVE_FLAGS,
      "max-line-bytes": { type: "string" },
    });
    if (positionals.length !== 1) {
      throw new UsageError("filter: expected exactly one CEL expression (see --help)");
    }
    const onError = parseErrorPolicy(values["on-error"]!);
    const expression = compileForCli(positionals[0]);
    if (expression.type !== "bool" && expression.type !== "dyn") {
      throw new UsageError(
        `filter: a filter must be a bool, '${expression.source}' is a ${expression.type}`,
      );
    }
    const stages: Stage[] = [];
    const lookup = await openLookupJoin("filter", values);
    if (lookup) stages.push(lookup.stage);
    const maxLineBytes = values["max-line-bytes"] === undefined
      ? undefined
      : parsePositiveInt(values["max-line-bytes"], "--max-line-bytes");
    // One dead-letter sink for bad lines and failing events alike.
    const deadLetters = await openDeadLetters(onError);
    const output = new LineWriter();
    try {
      // Observed, events go through the stage path, where they are counted.
      if (stages.length === 0 && values.metrics === undefined && !values.stats) {
        // Events pass unchanged: the line loop writes kept lines as they came.
        await flushAfter(
          filterLines(Deno.stdin, output, expression, {
            onError,
            deadLetters,
            maxLineBytes,
          }),
          output,
        );
        return EXIT.ok;
      }
      const items = stdinItems({ name: "filter", onError, deadLetters, maxLineBytes });
      stages.push(filter(expression, { onError, deadLetters, lineOf: items.lineOf }));
      return await runStage(
        (input) => stages.reduce<AsyncIterable<Item>>((s, stage) => stage(s), input),
        { name: "filter", output, onError, deadLetters, observe: values },
        items,
      );
    } finally {
      await deadLetters?.close();
      await lookup?.reference.close();
    }
  },
};
