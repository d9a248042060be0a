/**
 * Planning a pipeline file's lookup join (`join: { file, on, as, watchInterval }`): the reference
 * file's path resolved beside the pipeline file, and how often it is looked at for changes.
 *
 * @module
 */
import { DEFAULT_WATCH_INTERVAL_MS, parseWatchInterval } from "../stages/reference_file.ts";

/** A lookup-join stage, ready to build. */
export interface LookupJoinPlan {
  kind: "join";
  /** The reference file's path, or `topic:<topic>`. */
  file: string;
  eventPath: string;
  refPath: string;
  as: string;
  /** A file: milliseconds between looks at it (reloaded when it changes); undefined: read once. */
  watchIntervalMs?: number;
}

/** The lookup-join settings of a pipeline file, as the schema checked them. */
export interface LookupJoinConfig {
  file: string;
  on: string;
  as: string;
  watchInterval?: number | string;
}

/** The plan of a lookup join; `path` resolves a file named in the pipeline file. */
export function lookupJoinPlan(j: LookupJoinConfig, path: (p: string) => string): LookupJoinPlan {
  const [eventPath, refPath = eventPath.split(".").at(-1)!] = j.on.split("=");
  const topic = j.file.startsWith("topic:");
  const watchIntervalMs = topic
    ? undefined
    : j.watchInterval === undefined
    ? DEFAULT_WATCH_INTERVAL_MS
    : parseWatchInterval(j.watchInterval, "watchInterval");
  return {
    kind: "join",
    file: topic ? j.file : path(j.file),
    eventPath,
    refPath,
    as: j.as,
    watchIntervalMs,
  };
}
