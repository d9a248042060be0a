/**
 * The lookup-join flags `filter` and `map` share: `--join`, `--on`, `--as`, `--watch-interval`.
 *
 * @module
 */
import { UsageError } from "../lib/errors.ts";
import { join, parseJoinOn } from "../lib/stages/join.ts";
import { DEFAULT_WATCH_INTERVAL_MS, parseWatchInterval } from "../lib/stages/reference_file.ts";
import { type LiveReference, openReference } from "../lib/stages/topic_table.ts";
import type { Stage } from "../lib/stages/types.ts";

/** The flags, for `parseFlags`. */
export const JOIN_FLAGS = {
  join: { type: "string" },
  on: { type: "string" },
  as: { type: "string", default: "ref" },
  "watch-interval": { type: "string" },
} as const;

/** The flags' values, as `parseFlags` gives them. */
export interface JoinFlagValues {
  join?: string;
  on?: string;
  as?: string;
  "watch-interval"?: string;
}

/** The help lines of the flags, their descriptions starting at column `width`. */
export function joinHelp(width: number): string {
  const flag = (name: string, text: string) =>
    `  ${name.padEnd(width - 2)}${text.split("\n").join("\n" + " ".repeat(width))}`;
  return [
    flag(
      "--join FILE",
      "enrich each event first with the matching record of an NDJSON file, or\n" +
        "of topic:<topic>, a Pulsar topic read as a table (latest record per key,\n" +
        "updated while the pipe runs; broker from PULSAR_SERVICE_URL)",
    ),
    flag(
      "--on F[=R]",
      "join field of the event (dotted path) [= key field of the reference\n" +
        "records, or @key for a topic's message key; default: the last segment of F]",
    ),
    flag("--as NAME", "field that receives the reference record (default ref; null if no match)"),
    flag(
      "--watch-interval D",
      "how often the --join file is looked at (default 1s; off: read it once).\n" +
        "A change is read beside the current table once it has stayed the same for\n" +
        "one more look, and takes over between two events (one line on stderr:\n" +
        "reloaded FILE: N keys). A file that does not load (bad JSON, a missing or\n" +
        "duplicate key: a partly written file) is refused with one line and the\n" +
        "old table stays. Replace it atomically: write a temporary file in the same\n" +
        "directory, then rename it over the old one",
    ),
  ].join("\n");
}

/** The join stage the flags ask for (undefined without `--join`), and its reference to close. */
export async function openLookupJoin(
  command: string,
  values: JoinFlagValues,
): Promise<{ stage: Stage; reference: LiveReference } | undefined> {
  if (values.join === undefined) {
    if (values.on !== undefined) throw new UsageError(`${command}: --on needs --join <file>`);
    if (values["watch-interval"] !== undefined) {
      throw new UsageError(`${command}: --watch-interval needs --join <file>`);
    }
    return undefined;
  }
  if (values.on === undefined) throw new UsageError(`${command}: --join needs --on <field>`);
  const { eventPath, refPath } = parseJoinOn(values.on);
  const watchIntervalMs = values["watch-interval"] === undefined
    ? DEFAULT_WATCH_INTERVAL_MS
    : parseWatchInterval(values["watch-interval"], "--watch-interval");
  const reference = await openReference(values.join, refPath, {
    watchIntervalMs,
    log: (message) => console.error(`edgepipe ${command}: ${message}`),
  });
  return { stage: join(reference, { on: eventPath, as: values.as }), reference };
}
