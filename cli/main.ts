/**
 * The `edgepipe` entry point: global flags and subcommand dispatch. Commands load lazily so that a
 * process starts in milliseconds and pulls in only what its command needs.
 *
 * @module
 */
import denoJson from "../deno.json" with { type: "json" };
import { describeError, UsageError } from "../lib/errors.ts";
import { BrokenPipeError } from "../lib/ndjson.ts";
import { type Command, EXIT } from "./_command.ts";

/** Every subcommand, in `--help` order. Add a line here when a command lands. */
const COMMANDS: Record<string, { summary: string; load: () => Promise<{ command: Command }> }> = {
  consume: { summary: "Read Pulsar topics to stdout", load: () => import("./consume.ts") },
  produce: { summary: "Write stdin to a Pulsar topic", load: () => import("./produce.ts") },
  replay: { summary: "Replay data files as envelopes", load: () => import("./replay.ts") },
  score: { summary: "Score events with an ONNX model", load: () => import("./score.ts") },
  models: { summary: "Inspect and check ONNX models", load: () => import("./models.ts") },
  filter: { summary: "Keep events matching a CEL expression", load: () => import("./filter.ts") },
  map: { summary: "Rewrite events with a CEL expression", load: () => import("./map.ts") },
  window: { summary: "Keyed event-time windows, checkpoints", load: () => import("./window.ts") },
  join: { summary: "Join two streams by key and event time", load: () => import("./join.ts") },
  pattern: { summary: "Find event patterns per key (CEP)", load: () => import("./pattern.ts") },
  process: { summary: "Run a keyed function in TypeScript", load: () => import("./process.ts") },
  route: { summary: "Send events to sinks by CEL conditions", load: () => import("./route.ts") },
  sink: { summary: "Deliver events to S3, files or stdout", load: () => import("./sink.ts") },
  top: { summary: "Live view of a running pipe's stages", load: () => import("./top.ts") },
  run: { summary: "Run a pipeline file in one process", load: () => import("./run.ts") },
  demo: {
    summary: "Run the bundled example pipeline (no servers needed)",
    load: () => import("./demo.ts"),
  },
};

const HELP = `edgepipe ${denoJson.version} — stream processing for the edge

Pipes Apache Pulsar topics and files through ONNX scoring, filters and keyed windows, and
delivers the results to Pulsar, S3 or stdout. Every command reads and writes NDJSON envelopes,
so they compose in a shell pipeline.

Usage: edgepipe <command> [options]

Commands:
${Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`).join("\n")}

Options:
  -h, --help       Show help (also: edgepipe <command> --help)
  -V, --version    Print the version

Examples:
  edgepipe demo
  edgepipe consume persistent://public/default/flights -s scorer \\
    | edgepipe score --model models/flight-delay \\
    | edgepipe produce persistent://public/default/scored

Exit codes: 0 ok, 1 failure, 2 usage error, 130/143 stopped by SIGINT/SIGTERM after draining.
Docs: docs/cli.md`;

/** Runs one command line; returns the process exit code. */
export async function main(args: string[]): Promise<number> {
  const [name, ...rest] = args;
  if (name === undefined || name === "-h" || name === "--help" || name === "help") {
    if (name === "help" && rest[0] !== undefined) return main([rest[0], "--help"]);
    console.log(HELP);
    return EXIT.ok;
  }
  if (name === "-V" || name === "--version") {
    console.log(`edgepipe ${denoJson.version}`);
    return EXIT.ok;
  }
  const entry = COMMANDS[name];
  if (!entry) {
    console.error(`edgepipe: unknown command '${name}' (see edgepipe --help)`);
    return EXIT.usage;
  }
  const { command } = await entry.load();
  if (rest.includes("-h") || rest.includes("--help")) {
    console.log(command.help);
    return EXIT.ok;
  }
  try {
    return await command.run(rest);
  } catch (err) {
    if (err instanceof BrokenPipeError) return EXIT.ok;
    console.error(`edgepipe ${name}: ${describeError(err)}`);
    return err instanceof UsageError ? EXIT.usage : EXIT.failure;
  }
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
