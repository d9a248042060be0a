/**
 * `edgepipe replay <file…>`: files (NDJSON, JSON arrays, CSV, Parquet) as a stream of envelopes,
 * as fast as possible or paced, for batch replays and tests.
 *
 * @module
 */
import { endRecord, type Envelope, getPath } from "../lib/envelope.ts";
import { InputError, UsageError } from "../lib/errors.ts";
import { deadLetterOf, parseErrorPolicy } from "../lib/dead_letter.ts";
import { DEFAULT_MAX_LINE_BYTES, LineWriter } from "../lib/ndjson.ts";
import { Shutdown } from "../lib/delivery/shutdown.ts";
import { reportClientStatus } from "../lib/observe/client_status_log.ts";
import { Metrics } from "../lib/observe/metrics.ts";
import { ProgressBar } from "../lib/observe/progress_bar.ts";
import { parseMetricsPort, serveMetrics } from "../lib/observe/serve_metrics.ts";
import { StatsLine } from "../lib/observe/stats_line.ts";
import { toEventTime } from "../lib/sources/event_time.ts";
import { type FileFormat, FORMATS, openFile } from "../lib/sources/open_file.ts";
import { type Pace, Pacer, parseRate } from "../lib/sources/pacer.ts";
import { isFailure, type ReadProgress, type SourceRecord } from "../lib/sources/types.ts";
import { type Command, EXIT, parseFlags, parsePositiveInt } from "./_command.ts";
import { openDeadLetters } from "./_stage_runner.ts";
import type { DeadLetterSink, ErrorPolicy } from "../lib/dead_letter.ts";

const HELP = `edgepipe replay — replay files as a stream of envelopes

Usage: edgepipe replay <file…> [options]

Reads NDJSON (.ndjson, .jsonl), JSON (.json: one array, or one value per line), CSV (.csv, .tsv,
also gzipped: .csv.gz) and Parquet (.parquet) files in order and writes one envelope per record
to stdout: {"key":…,"eventTime":…,"value":<the record>}. NDJSON lines that already are envelopes
(objects with a "value" field, as 'edgepipe consume' writes them) pass as they are. Files are
streamed: Parquet one row group at a time, text files line by line.

Options:
  --format <f>          ndjson | json | csv | tsv | parquet (default: from the file name)
  --time <field>        event time from this field of the record: epoch ms, an ISO-8601
                        string, or a Parquet timestamp (dotted paths: a.b)
  --key <field>         key from this field of the record
  --rate <N/s>          at most N events per second (also N/m, N/h)
  --speedup <X>         replay event time X times faster than it happened (needs --time)
  -c, --count <N>       stop after N events
  --on-error <policy>   bad record: fail (default) | skip | dead-letter=<file>
                        | dead-letter=topic:<topic> (broker from PULSAR_SERVICE_URL…)
  --max-line-bytes <N>  longest accepted line (default ${DEFAULT_MAX_LINE_BYTES})
  --delimiter <c>       CSV field separator (default , and tab for .tsv)
  --csv-raw             keep CSV fields as strings (default: numbers, booleans, empty → null)
  --no-progress         no progress bar (it is drawn on stderr only when stderr is a terminal)
  --stats               print a one-line summary on stderr every 5 s and at the end
  --metrics <port>      serve Prometheus metrics on 127.0.0.1:<port>/metrics

Examples:
  edgepipe replay flights-3m.parquet --time date --key origin -c 1000
  edgepipe replay flights-3m.parquet --time date --speedup 3600 | edgepipe produce flights
  edgepipe replay events.csv --rate 200/s | edgepipe score --model models/flight-delay

Exit codes: 0 done (also when the reader of stdout goes away), 1 bad input or a failure,
2 usage error, 130/143 stopped by SIGINT/SIGTERM (output flushed first).`;

/** The `replay` command. */
export const command: Command = {
  name: "replay",
  summary: "Replay NDJSON, JSON, CSV or Parquet files as envelopes",
  help: HELP,
  run,
};

async function run(args: string[]): Promise<number> {
  const { values, positionals: files } = parseFlags("replay", args, {
    format: { type: "string" },
    time: { type: "string" },
    key: { type: "string" },
    rate: { type: "string" },
    speedup: { type: "string" },
    count: { type: "string", short: "c" },
    "on-error": { type: "string", default: "fail" },
    "max-line-bytes": { type: "string" },
    delimiter: { type: "string" },
    "csv-raw": { type: "boolean", default: false },
    "no-progress": { type: "boolean", default: false },
    stats: { type: "boolean", default: false },
    metrics: { type: "string" },
  });
  if (files.length === 0) throw new UsageError("replay: name at least one file (see --help)");
  const format = values.format as FileFormat | undefined;
  if (format !== undefined && !FORMATS.includes(format)) {
    throw new UsageError(`--format must be one of ${FORMATS.join(", ")}, got '${format}'`);
  }
  if (values.rate !== undefined && values.speedup !== undefined) {
    throw new UsageError("--rate and --speedup cannot be combined");
  }
  let pace: Pace = { kind: "none" };
  if (values.rate !== undefined) pace = { kind: "rate", perSecond: parseRate(values.rate) };
  if (values.speedup !== undefined) {
    const factor = Number(values.speedup);
    if (!(factor > 0)) throw new UsageError(`--speedup: expected a positive number`);
    if (values.time === undefined) throw new UsageError("--speedup needs --time <field>");
    pace = { kind: "speedup", factor };
  }
  const limit = values.count === undefined ? Infinity : parsePositiveInt(values.count, "--count");
  const maxLineBytes = values["max-line-bytes"] === undefined
    ? DEFAULT_MAX_LINE_BYTES
    : parsePositiveInt(values["max-line-bytes"], "--max-line-bytes");
  const policy = parseErrorPolicy(values["on-error"]!);
  const timeField = values.time;
  const keyField = values.key;

  const metrics = new Metrics("replay");
  reportClientStatus("replay", metrics);
  const eventsOut = metrics.counter("events_out_total", "Events written to stdout");
  const errors = metrics.counter("errors_total", "Bad records (failed, skipped or dead-lettered)");
  const stopMetrics = values.metrics === undefined
    ? undefined
    : serveMetrics(metrics, parseMetricsPort(values.metrics));
  const stats = values.stats
    ? new StatsLine("replay", { out: () => eventsOut.value, errors: () => errors.value })
    : undefined;
  const bar = !values["no-progress"] && ProgressBar.wanted() ? new ProgressBar() : undefined;
  const shutdown = new Shutdown("replay");
  const deadLetters = await openReplayDeadLetters(policy);
  const output = new LineWriter();
  const pacer = new Pacer(pace);

  const toEnvelope = (record: SourceRecord): Envelope => {
    const envelope: Envelope = record.envelope
      ? { ...(record.value as Envelope) }
      : { value: record.value };
    const fields = envelope.value;
    if (keyField !== undefined) {
      const key = getPath(fields, keyField);
      envelope.key = key === undefined || key === null ? null : String(key);
    }
    if (timeField !== undefined) {
      try {
        envelope.eventTime = toEventTime(getPath(fields, timeField), timeField);
      } catch (err) {
        throw new InputError((err as Error).message, { line: record.line });
      }
    }
    return envelope;
  };

  const reject = async (file: string, error: InputError, raw?: string | Uint8Array) => {
    errors.inc();
    // The message already carries the cause's text; the line number stays on `error`.
    const located = new InputError(`${file}: ${error.message}`);
    if (policy.kind === "fail") throw located;
    if (deadLetters) await deadLetters.write(deadLetterOf("replay", error, undefined, raw));
    else console.error(`edgepipe replay: skipped: ${located.message}`);
  };

  let written = 0;
  let lastProgress: { label: string; progress: ReadProgress } | undefined;
  try {
    files: for (const file of files) {
      for await (
        const item of openFile(file, {
          format,
          maxLineBytes,
          delimiter: values.delimiter,
          onProgress: bar && ((progress) => {
            lastProgress = { label: file, progress };
            bar.update(file, progress, written);
          }),
          onControl: (line) =>
            console.error(
              `edgepipe replay: ${file}: line ${line}: left out a control record (stale outside its pipe)`,
            ),
        })
      ) {
        if (written >= limit || shutdown.signal.aborted) break files;
        if (isFailure(item)) {
          await reject(file, item.error, item.raw);
          continue;
        }
        let envelope: Envelope;
        try {
          envelope = toEnvelope(item);
        } catch (err) {
          if (!(err instanceof InputError)) throw err;
          await reject(file, err, JSON.stringify(item.value));
          continue;
        }
        if (pacer.active) {
          const wait = pacer.due(envelope.eventTime);
          if (wait > 0) {
            // Paced events must reach the next stage when due, not when the buffer fills.
            await output.flush();
            await new Promise((resolve) => setTimeout(resolve, wait));
          }
        }
        await output.write(envelope);
        written++;
        eventsOut.inc();
      }
    }
    // All files read (or --count reached): the stream really ends here, and says so. Not after
    // a signal or an error: downstream stateful stages must not take that for the end.
    if (!shutdown.signal.aborted) await output.write(endRecord("replay"));
  } finally {
    // Whatever was read before an error or a signal still reaches the next stage.
    await output.flush();
    if (bar && lastProgress) bar.update(lastProgress.label, lastProgress.progress, written, true);
    bar?.done();
    stats?.stop();
    shutdown.dispose();
    await deadLetters?.close();
    await stopMetrics?.();
  }
  return shutdown.exitCode(EXIT.ok);
}

/** Dead letters to a file, or to a topic (the Pulsar client loads only then). */
async function openReplayDeadLetters(policy: ErrorPolicy): Promise<DeadLetterSink | undefined> {
  if (policy.kind !== "dead-letter") return undefined;
  const { isTopicTarget, topicOfTarget, PulsarDeadLetterSink } = await import(
    "../lib/sinks/pulsar.ts"
  );
  if (!isTopicTarget(policy.target)) return await openDeadLetters(policy);
  const { PulsarClient } = await import("../lib/pulsar/mod.ts");
  const { clientOptions } = await import("../lib/sources/pulsar_connect.ts");
  const client = new PulsarClient(await clientOptions({}));
  const sink = new PulsarDeadLetterSink(client, topicOfTarget(policy.target));
  return {
    write: (record) => sink.write(record),
    close: async () => {
      await sink.close();
      await client.close();
    },
  };
}
