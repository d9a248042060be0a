/**
 * `edgepipe run pipeline.yaml`: a whole pipeline in one process.
 *
 * @module
 */
import { UsageError } from "../lib/errors.ts";
import { loadPipeline, PipelineFileError } from "../lib/pipeline/load_pipeline.ts";
import { describePlan, type Plan, resolvePlan } from "../lib/pipeline/plan.ts";
import { Shutdown } from "../lib/delivery/shutdown.ts";
import { parseMetricsPort } from "../lib/observe/serve_metrics.ts";
import { type Command, EXIT, parseFlags } from "./_command.ts";
import { OBSERVE_FLAGS } from "./_stage_runner.ts";
import { OTLP_FLAGS, otlpHelp, tracingFor } from "./_tracing.ts";

const help = `edgepipe run — run a pipeline file in one process

Usage: edgepipe run <pipeline.yaml> [--dry-run] [--metrics <port>] [--stats]

Runs source → stages → sink in one process with the same stage code, acknowledgements and
checkpoints as the shell pipeline of separate commands, without serialising events between
processes. Relative paths in the file are taken from the file's directory. See docs/pipelines.md
and the runnable examples in examples/.

  source:                               # one of
    replay: { files: [flights.ndjson], key: origin, time: date }
    stdin: {}
  stages:                               # in order; each takes its command's settings
    - filter: 'event.value.delay > 15.0'
    - map: '{"origin": event.value.origin, "late": event.value.delay > 15.0}'
    - join: { file: airports.ndjson, on: value.origin=iata, as: airport }
    - join: { left: 'event.value.kind == "dep"', right: 'event.value.kind == "arr"',
              key: value.airport, within: { from: -5m, to: 10m }, type: left }
    - pattern: { key: value.origin, within: 2h, pattern: late !ontime late,
                 define: { late: "event.value.delay > 30", ontime: "event.value.delay <= 0" } }
    - score: { model: ../models/flight-delay }
    - window: { key: value.origin, tumbling: 1h, aggregates: "count(), avg(value.delay)",
                checkpoint: .state/window }
  sink: s3://lake/flights/date=%Y-%m-%d/?format=parquet     # or stdout, file:dir/, a topic,
  # sink: { route: { rules: [{ when: <CEL>, to: <destination> }], default: stdout } }
  onError: fail                         # or skip, dead-letter=<file|s3://…|file:dir|topic>
  metrics: 9464                         # as --metrics; stats: true as --stats

Options:
  --dry-run           check the file and print the resolved plan; open nothing
  --metrics <port>    Prometheus metrics of every stage on 127.0.0.1:<port>/metrics, each
                      sample labelled stage="<index>:<kind>" (0 the source, then the
                      stages, the sink last), e.g. stage="2:score"
  --stats             a summary line per stage on stderr every 5 s and at the end
${otlpHelp(22)}
                      (score's model runs and the sink's deliveries)
  -h, --help          this help

Exit codes: 0 done, 1 failure, 2 invalid pipeline file or usage, 130/143 stopped by a signal.`;

/** The `run` command. */
export const command: Command = {
  name: "run",
  summary: "Run a pipeline file (source → stages → sink) in one process",
  help,
  async run(args) {
    const { values, positionals } = parseFlags("run", args, {
      "dry-run": { type: "boolean", default: false },
      ...OBSERVE_FLAGS,
      ...OTLP_FLAGS,
    });
    if (positionals.length !== 1) throw new UsageError("run: expected one pipeline file");
    let plan: Plan;
    try {
      plan = resolvePlan(await loadPipeline(positionals[0]), positionals[0]);
    } catch (err) {
      if (err instanceof PipelineFileError) throw new UsageError(err.message, { cause: err });
      throw err;
    }
    // The flags win over the file's `metrics:` and `stats:`.
    if (values.metrics !== undefined) plan.observe.metricsPort = parseMetricsPort(values.metrics);
    if (values.stats) plan.observe.stats = true;
    if (values["dry-run"]) {
      console.log(describePlan(plan).join("\n"));
      return EXIT.ok;
    }
    const { runPipeline } = await import("../lib/pipeline/run_pipeline.ts");
    const tracing = await tracingFor(values.otlp, "run");
    const shutdown = new Shutdown("run");
    try {
      const report = await runPipeline(plan, {
        signal: shutdown.signal,
        ...(tracing ? { tracing } : {}),
      });
      if (report.skipped + report.deadLettered > 0) {
        console.error(
          `edgepipe run: ${report.delivered} delivered, ${report.skipped} skipped, ${report.deadLettered} dead-lettered`,
        );
      }
      return shutdown.exitCode(EXIT.ok);
    } finally {
      shutdown.dispose();
      await tracing?.shutdown();
    }
  },
};
