/**
 * `edgepipe score --model <dir>`: scores NDJSON events with an ONNX model.
 *
 * @module
 */
import { parseErrorPolicy } from "../lib/dead_letter.ts";
import { UsageError } from "../lib/errors.ts";
import { LineWriter } from "../lib/ndjson.ts";
import { checkScoreField } from "../lib/score/attach_scores.ts";
import { OnnxWorker } from "../lib/score/onnx_worker.ts";
import { type Command, EXIT, parseDuration, parseFlags, parsePositiveInt } from "./_command.ts";
import { OBSERVE_FLAGS, observeHelp, openDeadLetters, stdinItems } from "./_stage_runner.ts";
import { OTLP_FLAGS, otlpHelp, tracingFor } from "./_tracing.ts";
import { parseMetricsPort } from "../lib/observe/serve_metrics.ts";

const help = `edgepipe score — score events with an ONNX model

Usage: edgepipe score --model <dir> [options]

Reads NDJSON envelopes, maps their fields to the model's input columns as <dir>/spec.json says,
runs <dir>/model.onnx (onnxruntime, CPU, in a worker thread) on micro-batches and writes each
event with the outputs under 'score': class probabilities by class name and the label for a
classifier, the named value for a regressor. Order is kept; control records pass through in place.

Options:
  --model DIR          model directory: model.onnx + spec.json (+ README.md card)
  --batch N            events per model run (default 256); runs are padded to this shape
  --max-delay T        flush a partial batch after T (default 5ms; e.g. 2ms, 1s)
  --max-in-flight N    batches scored but not yet written before reading pauses (default 4)
  --as NAME            field that receives the outputs (default score); produce and the sinks
                       deliver it under that name beside the value's fields (docs/envelope.md).
                       Not one of the envelope's own fields (value, id, key, eventTime, …)
  --threads N          onnxruntime intra-op threads (default 1)
  --workers N          N onnxruntime sessions in N worker threads, batches handed out in turn,
                       output in input order (default 1). Helps when the model's run costs more
                       than encoding a batch and a core is free (bench/score_results.md)
  --watch              reload <dir> when its model.onnx / spec.json change (write each to a
                       temporary name and rename it into place, or repoint a symlink): the new
                       pair is checked and started beside the old one and takes over between two
                       batches; nothing is lost or scored twice. A pair that fails a check is
                       refused with one line on stderr and the old model keeps scoring. Each
                       score record then names its model: score.model = sha256:<16 hex digits>
                       of model.onnx (also printed by 'edgepipe models check')
  --watch-interval T   how often --watch looks (default 1s); a change is loaded once it has
                       stayed the same for one more look
  --on-error P         fail (default) | skip | dead-letter=<file>: events that cannot be scored
                       (missing feature, wrong type, NaN, unknown category) and bad lines. Skipped
                       and dead-lettered events are acknowledged in-band with an ack record.
  --max-line-bytes N   longest accepted input line (default 16 MiB)
${observeHelp(23)}
                       (also each model run's rows and duration, as histograms)
${otlpHelp(23)}
                       (a span per model run: its events, the model's name and version)

Needs --allow-read --allow-ffi --allow-env (onnxruntime is a native addon).

Examples:
  edgepipe score --model models/flight-delay < models/flight-delay/sample.ndjson
  edgepipe consume persistent://public/default/flights -s scorer \\
    | edgepipe score --model models/flight-delay --on-error dead-letter=bad.ndjson \\
    | edgepipe filter 'event.score.delayed > 0.5'
  edgepipe score --model models/flight-delay --as risk < flights.ndjson | edgepipe produce scored
  edgepipe score --model models/flight-delay --workers 2 --batch 512 < flights.ndjson
  edgepipe consume sensors -s scorer | edgepipe score --model /srv/models/current --watch \\
    | edgepipe produce scored
  # elsewhere, to swap: cp new/model.onnx /srv/models/current/.new && mv /srv/models/current/.new /srv/models/current/model.onnx
  edgepipe consume images -s cam --payload base64 | edgepipe score --model my-image-model
  edgepipe replay readings.ndjson \\
    | edgepipe window --key key --count 24 --agg 'collect(value.temperature, 24) as temperature,
        collect(value.pressure, 24) as pressure' \\
    | edgepipe score --model models/temperature-anomaly`;

/** The `score` command. */
export const command: Command = {
  name: "score",
  summary: "Score events with an ONNX model (micro-batched, in a worker)",
  help,
  async run(args) {
    const { values, positionals } = parseFlags("score", args, {
      model: { type: "string" },
      batch: { type: "string", default: "256" },
      "max-delay": { type: "string", default: "5ms" },
      "max-in-flight": { type: "string", default: "4" },
      as: { type: "string", default: "score" },
      threads: { type: "string", default: "1" },
      workers: { type: "string", default: "1" },
      watch: { type: "boolean", default: false },
      "watch-interval": { type: "string", default: "1s" },
      "on-error": { type: "string", default: "fail" },
      "max-line-bytes": { type: "string" },
      ...OBSERVE_FLAGS,
      ...OTLP_FLAGS,
    });
    if (positionals.length > 0) {
      throw new UsageError(`score: unexpected argument '${positionals[0]}' (see --help)`);
    }
    if (values.model === undefined) throw new UsageError("score: --model <dir> is required");
    checkScoreField(values.as!);
    const onError = parseErrorPolicy(values["on-error"]!);
    const batchSize = parsePositiveInt(values.batch!, "--batch");
    const maxDelayMs = parseDuration(values["max-delay"]!, "--max-delay");
    const maxInFlight = parsePositiveInt(values["max-in-flight"]!, "--max-in-flight");
    const threads = parsePositiveInt(values.threads!, "--threads");
    const workers = parsePositiveInt(values.workers!, "--workers");
    if (workers > 64) throw new UsageError("score: --workers is at most 64");
    const maxLineBytes = values["max-line-bytes"] === undefined
      ? undefined
      : parsePositiveInt(values["max-line-bytes"], "--max-line-bytes");
    const watchIntervalMs = parseDuration(values["watch-interval"]!, "--watch-interval");
    if (watchIntervalMs <= 0) throw new UsageError("score: --watch-interval must be above 0");
    // The Workers start now: onnxruntime's import, most of the start-up, runs while the model is
    // read and checked and the first input is parsed (issue 13).
    // The modules behind the stage (zod, the encoders…) load after that, beside it.
    OnnxWorker.prewarm(workers);
    let model;
    let scoreBatches;
    try {
      const [{ loadModel }, stage] = await Promise.all([
        import("../lib/score/load_model.ts"),
        import("../lib/score/score.ts"),
      ]);
      scoreBatches = stage.scoreBatches;
      model = await loadModel(values.model);
    } catch (err) {
      OnnxWorker.dropPrewarmed();
      throw err;
    }

    const deadLetters = await openDeadLetters(onError);
    const items = stdinItems({ name: "score", onError, deadLetters, maxLineBytes });

    const output = new LineWriter();
    const tracing = await tracingFor(values.otlp, "score");
    const observer = values.metrics === undefined && !values.stats
      ? undefined
      : (await import("../lib/observe/score_observer.ts")).observeScore({
        metricsPort: values.metrics === undefined ? undefined : parseMetricsPort(values.metrics),
        stats: values.stats,
      });
    try {
      const batches = scoreBatches(observer ? observer.input(items) : items, {
        model,
        batchSize,
        maxDelayMs,
        maxInFlight,
        as: values.as,
        threads,
        workers,
        watch: values.watch
          ? {
            intervalMs: watchIntervalMs,
            onSwap: (next) =>
              console.error(
                `edgepipe score: now serving ${next.version} (${next.spec.name} ${next.spec.version}) from ${next.dir}`,
              ),
          }
          : undefined,
        onError,
        deadLetters,
        lineOf: items.lineOfItem,
        ...(observer ? { onBatch: observer.onBatch } : {}),
        ...(tracing ? { onScored: tracing.scored("score") } : {}),
      });
      // Each batch is written out as soon as it is scored, so latency stays near --max-delay on
      // a slow stream; one write is in flight while the next batch is serialised, so a fast
      // stream does not wait for every write either, and a slow reader still holds us back.
      let writing: Promise<void> = Promise.resolve();
      try {
        for await (const batch of batches) {
          observer?.output(batch);
          for (const item of batch) await output.write(item);
          await writing;
          writing = output.flush();
          writing.catch(() => {}); // awaited on the next batch or below
        }
      } catch (err) {
        // What was scored before a failure reaches stdout before the failure ends the process.
        await writing.catch(() => {});
        await output.flush().catch(() => {});
        throw err;
      }
      await writing;
      await output.flush();
    } finally {
      await observer?.stop();
      await deadLetters?.close();
      await tracing?.shutdown();
    }
    return EXIT.ok;
  },
};
