/**
 * `edgepipe filter '<CEL>'`: keeps events for which the expression is true.
 *
 * @module
 */
import { parseErrorPolicy } from "../lib/dead_letter.ts";
import { UsageError } from "../lib/errors.ts";
import { filter } from "../lib/stages/filter.ts";
import { compileForCli } from "../lib/expr/cli.ts";
import { join, parseJoinOn } from "../lib/stages/join.ts";
import { type LiveReference, openReference } from "../lib/stages/topic_table.ts";
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
  --join FILE         enrich each event first with the matching record of an NDJSON file, or
                      of topic:<topic>, a Pulsar topic read as a table (latest record per key,
                      updated while the pipe runs; broker from PULSAR_SERVICE_URL)
  --on F[=R]          join field of the event (dotted path) [= key field of the reference
                      records, or @key for a topic's message key; default: the last segment of F]
  --as NAME           field that receives the reference record (default ref; null if no match)
  --max-line-bytes N  longest accepted input line (default 16 MiB)
${observeHelp(22)}

Examples:
  edgepipe filter 'event.value.delay > 15 && event.value.origin == "SFO"'
  edgepipe filter --join airports.ndjson --on value.origin=iata 'event.ref.state == "CA"'
  edgepipe filter --on-error dead-letter=bad.ndjson 'event.value.score.delayed > 0.8'`;

/** The `filter` command. */
export const command: Command = {
  name: "filter",
  summary: "Keep events matching a CEL expression",
  help,
  async run(args) {
    const { values, positionals } = parseFlags("filter", args, {
      "on-error": { type: "string", default: "fail" },
      join: { type: "string" },
      on: { type: "string" },
      as: { type: "string", default: "ref" },
      ...OBSERVE_FLAGS,
      "max-line-bytes": { type: "string" },
    });
    if (positionals.length !== 1) {
      throw new UsageError("filter: expected exactly one CEL expression (see --help)");
    }
    const onError = parseErrorPolicy(values["on-error"]!);
    const expression = compileForCli(positionals[0]);
    const stages: Stage[] = [];
    let reference: LiveReference | undefined;
    if (values.join !== undefined) {
      if (values.on === undefined) throw new UsageError("filter: --join needs --on <field>");
      const { eventPath, refPath } = parseJoinOn(values.on);
      reference = await openReference(values.join, refPath);
      stages.push(join(reference.table, { on: eventPath, as: values.as }));
    }
    if (expression.type !== "bool" && expression.type !== "dyn") {
      throw new UsageError(
        `filter: a filter must be a bool, '${expression.source}' is a ${expression.type}`,
      );
    }
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
      await reference?.close();
    }
  },
};
