/**
 * `edgepipe demo`: the main job on bundled data, no servers needed. Real flights (every departure
 * in the US on the morning of 2001-03-12) are scored by the bundled flight-delay model and
 * summarised per origin airport per hour, in one process, results on stdout.
 *
 * @module
 */
import { LineWriter, parseItem, readLines } from "../lib/ndjson.ts";
import { score } from "../lib/score/score.ts";
import { window } from "../lib/stages/window/window.ts";
import { isControl, type Item } from "../lib/envelope.ts";
import { type Command, EXIT, parseFlags } from "./_command.ts";

const root = new URL("../", import.meta.url);
const DATA = new URL("examples/data/flights-2001-03-12-morning.ndjson", root).pathname;
const MODEL = new URL("models/flight-delay", root).pathname;

const help = `edgepipe demo — run the bundled example pipeline

Reads ${"examples/data/flights-2001-03-12-morning.ndjson"} (3,417 real flights), scores each with
models/flight-delay, and prints one result per origin airport and hour: the number of flights,
the mean predicted delay probability, the highest one, and the mean actual delay.

The same pipeline as separate commands:
  edgepipe replay examples/data/flights-2001-03-12-morning.ndjson \\
    | edgepipe score --model models/flight-delay \\
    | edgepipe window --key value.origin --tumbling 1h \\
        --agg 'count(), avg(score.delayed), max(score.delayed), avg(value.delay)'

Options:
  --scored     print every scored flight instead of the hourly summary
  -h, --help   this help`;

async function run(args: string[]): Promise<number> {
  const { values } = parseFlags("demo", args, { scored: { type: "boolean" } }, false);
  const file = await Deno.open(DATA);
  async function* events(): AsyncGenerator<Item> {
    for await (const line of readLines(file.readable)) yield parseItem(line);
  }
  let stream: AsyncIterable<Item> = score(events(), { model: MODEL });
  if (!values.scored) {
    stream = window({
      key: "value.origin",
      shape: { kind: "tumbling", size: 3_600_000 },
      aggregates: "count(), avg(score.delayed), max(score.delayed), avg(value.delay)",
    })(stream);
  }
  const out = new LineWriter();
  // The demo is its own terminal stage: acknowledgements have no source to go back to.
  for await (const item of stream) if (!isControl(item)) await out.write(item);
  await out.flush();
  return EXIT.ok;
}

export const command: Command = {
  name: "demo",
  summary: "Run the bundled example pipeline (no servers needed)",
  help,
  run,
};
