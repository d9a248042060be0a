/**
 * `edgepipe process`: a keyed function in TypeScript (state, event-time and processing-time
 * timers) as a stage, sandboxed in a Worker.
 *
 * @module
 */
import { parseErrorPolicy } from "../lib/dead_letter.ts";
import { UsageError } from "../lib/errors.ts";
import {
  type ModulePermissions,
  openProcessCheckpoints,
  type ProcessOptions,
  processStage,
} from "../lib/stages/process/keyed_function.ts";
import { type Command, parseDuration, parseFlags } from "./_command.ts";
import { runStateful, STATEFUL_FLAGS, statefulHelp } from "./_stateful_command.ts";

const help = `edgepipe process — run a keyed function in TypeScript on every event

Usage: edgepipe process <module.ts> --key <field|CEL> [--allow-read=…] [options]

The module's default export is a KeyedFunction (types in mod.ts):
  export default {
    onEvent(event, ctx) { … },      // per event, in arrival order per key
    onTimer(time, ctx) { … },       // per due timer
  };
ctx.key, ctx.time, ctx.watermark; ctx.state (this key's JSON state: assign to change it,
undefined to drop it); ctx.timers.setEventTime(t) / deleteEventTime(t) (fire once the
watermark reaches t), setProcessingTime(t) / deleteProcessingTime(t) (wall clock, epoch ms);
ctx.emit(record) writes {"key":…,"eventTime":<ctx.time>,"value":record}. Both functions are
synchronous. The watermark (highest event time seen - --out-of-orderness) moves when an event
arrives, before the event is handled: timers due by then fire first. At the end of the input
every event-time timer fires.

The module runs in a Worker that may read the module file and nothing else, unless the flags
below allow more. State and timers are checkpointed with --checkpoint-dir like window's.

Options:
  --allow-read=PATHS        comma-separated paths the module may read
  --allow-write=PATHS       … write
  --allow-net=HOSTS         hosts (host:port) it may reach
  --allow-env=NAMES         environment variables it may read
  --time PATH               event-time field (default eventTime, then publishTime)
  --out-of-orderness D      how far behind the highest time events may arrive (default 0)
${statefulHelp("process", "older than the watermark")}

Examples:
  edgepipe replay flights.ndjson --time date \\
    | edgepipe process examples/functions/quiet_hour.ts --key value.origin
  edgepipe consume payments -s velocity \\
    | edgepipe process examples/functions/card_velocity.ts --key value.card \\
        --checkpoint-dir ck/velocity \\
    | edgepipe produce card-alerts`;

function list(text: string | undefined): string[] | undefined {
  if (text === undefined) return undefined;
  return text.split(",").map((s) => s.trim()).filter((s) => s !== "");
}

/** The `process` command. */
export const command: Command = {
  name: "process",
  summary: "Run a keyed function in TypeScript",
  help,
  async run(args) {
    const { values, positionals } = parseFlags("process", args, {
      key: { type: "string" },
      time: { type: "string" },
      "out-of-orderness": { type: "string", default: "0" },
      "allow-read": { type: "string" },
      "allow-write": { type: "string" },
      "allow-net": { type: "string" },
      "allow-env": { type: "string" },
      ...STATEFUL_FLAGS,
    });
    if (positionals.length !== 1) {
      throw new UsageError("process: give one module, e.g. edgepipe process rule.ts --key …");
    }
    if (values.key === undefined) throw new UsageError("process: --key <field|CEL> is required");
    const permissions: ModulePermissions = {
      read: list(values["allow-read"]),
      write: list(values["allow-write"]),
      net: list(values["allow-net"]),
      env: list(values["allow-env"]),
    };
    const options: ProcessOptions = {
      module: positionals[0],
      key: values.key,
      time: values.time,
      outOfOrderness: parseDuration(values["out-of-orderness"]!, "--out-of-orderness"),
      permissions,
      onError: parseErrorPolicy(values["on-error"]!),
    };
    return await runStateful({
      name: "process",
      values,
      duration: parseDuration,
      open: (dir, restore) => openProcessCheckpoints(dir, options, undefined, restore),
      stage: (shared) => processStage({ ...options, ...shared }),
    });
  },
};
