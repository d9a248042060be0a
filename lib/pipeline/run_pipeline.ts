/**
 * Runs a resolved pipeline in one process: source → stages → sink, with the same stage code, the
 * same terminal delivery ({@linkcode deliverAll}) and so the same guarantees as the shell pipeline
 * of separate commands: an event is acknowledged at its source only after everything derived
 * from it was delivered, dropped or absorbed into checkpointed state.
 *
 * @module
 */
import type { DeadLetterSink, ErrorPolicy } from "../dead_letter.ts";
import { deliverAll, type DeliveryReport } from "../delivery/terminal.ts";
import type { Item } from "../envelope.ts";
import { openDeadLetterSink } from "../sinks/dead_letter_sinks.ts";
import {
  openPulsarTopic,
  openSink,
  type PulsarSinkFactory,
  type SinkSpec,
} from "../sinks/open_sink.ts";
import type { Sink } from "../sinks/types.ts";
import { encryptorFromFiles } from "../sources/encryption_flags.ts";
import { RoutingSink } from "../stages/route.ts";
import type { Stage } from "../stages/types.ts";
import type { ScoreOptions } from "../score/score.ts";
import type { StatefulStageOptions } from "../stages/keyed/stateful_options.ts";
import type { CheckpointStore, Restored } from "../checkpoint/store.ts";
import type { Plan, SinkPlan, StagePlan } from "./plan.ts";
import { OutputBarriers } from "./output_barrier.ts";
import { ndjsonItems, type PipelineSource, replayItems } from "./sources.ts";
import type { S3Connection } from "../sinks/s3.ts";
import type { Metrics } from "../observe/metrics.ts";
import { type PipelineObserveOptions, PipelineObserver } from "../observe/pipeline_observer.ts";
import { scoreBatchHistograms } from "../observe/score_observer.ts";

/** Options of {@linkcode runPipeline}. */
export interface RunPipelineOptions {
  /** Stops reading the source; what is in flight is still delivered and acknowledged. */
  signal?: AbortSignal;
  /** Where notices go (default: stderr). */
  log?: (message: string) => void;
  /** The `stdin` source's bytes (default `Deno.stdin.readable`). */
  stdin?: ReadableStream<Uint8Array>;
  /** Metrics and stats of every stage (default: the plan's `observe`). */
  observe?: PipelineObserveOptions;
  /** `--otlp`: a span per scored batch and per delivered batch. */
  tracing?: PipelineTracing;
}

/** What `run` traces with (`lib/observe/tracing.ts` makes one from `--otlp`). */
export interface PipelineTracing {
  /** The hook of a score stage named `stage`: a span per model run. */
  scored(stage: string): NonNullable<ScoreOptions["onScored"]>;
  /** `sink` with a span per delivered batch. */
  traceSink(sink: Sink, stage: string): Sink;
}

/** Opens whatever the plan names, runs it to the end of the source, closes everything. */
export async function runPipeline(
  plan: Plan,
  options: RunPipelineOptions = {},
): Promise<DeliveryReport> {
  const log = options.log ?? ((message: string) => console.error(`edgepipe run: ${message}`));
  const closers: (() => Promise<unknown>)[] = [];
  const encryption = await encryptorFromFiles(
    plan.pulsar.encryptKeys ?? [],
    "encryption.encryptKeys",
  );
  // Pulsar destinations connect where the plan says (a consume source's broker), and wait for it.
  const pulsar: PulsarSinkFactory = (topic, payload, schema) =>
    openPulsarTopic(topic, {
      ...(payload ? { payload } : {}),
      ...(schema ? { schema } : {}),
      ...(encryption ? { encryption } : {}),
      ...(plan.pulsar.serviceUrl ? { serviceUrl: plan.pulsar.serviceUrl } : {}),
      connection: plan.pulsar.connection,
      sendTimeoutMs: plan.pulsar.sendTimeoutMs,
      log,
    });
  const deadLetterSinks = new Map<string, Promise<DeadLetterSink>>();
  const deadLettersFor = (policy: ErrorPolicy): Promise<DeadLetterSink | undefined> => {
    if (policy.kind !== "dead-letter") return Promise.resolve(undefined);
    let opened = deadLetterSinks.get(policy.target);
    if (!opened) {
      opened = openDeadLetterSink(policy.target, pulsar);
      deadLetterSinks.set(policy.target, opened);
      closers.push(async () => (await opened!).close());
    }
    return opened;
  };

  const observing = options.observe ?? plan.observe;
  const observer = observing.metricsPort !== undefined || observing.stats
    ? new PipelineObserver(observing)
    : undefined;
  let report: DeliveryReport | undefined;
  let failure: { error: unknown } | undefined;
  try {
    const handling = { policy: plan.onError, deadLetters: await deadLettersFor(plan.onError), log };
    const source = await openSource(plan, handling, options);
    closers.push(() => source.close());
    const barriers = new OutputBarriers();
    // Stage labels: the source is 0, the stages 1…n in file order, the sink n + 1.
    let stream: AsyncIterable<Item> = observer
      ? observer.source(`0:${plan.source.kind}`, source.items)
      : source.items;
    for (const [i, stagePlan] of plan.stages.entries()) {
      const label = `${i + 1}:${stagePlan.kind === "streamJoin" ? "join" : stagePlan.kind}`;
      const metrics = observer?.metricsFor(label);
      const stage = await buildStage(stagePlan, deadLettersFor, log, barriers, {
        metrics,
        onScored: options.tracing?.scored(`run ${label}`),
      });
      stream = (observer ? observer.stage(label, stage) : stage)(stream);
    }
    const opened = await openPlanSink(plan.sink, pulsar, plan.s3);
    closers.push(() => opened.close());
    const sinkLabel = `${plan.stages.length + 1}:${plan.sink.kind === "route" ? "route" : "sink"}`;
    const traced = options.tracing ? options.tracing.traceSink(opened, `run ${sinkLabel}`) : opened;
    const { items, sink } = barriers.atSink(stream, traced);
    const observerHooks = observer ? { observer: observer.delivery(sinkLabel) } : {};
    observer?.start();
    report = await deliverAll(items, sink, {
      ...observerHooks,
      stage: "run",
      onError: plan.onError,
      deadLetters: handling.deadLetters,
      maxInFlight: plan.maxInFlight,
      signal: options.signal,
      log,
    });
  } catch (error) {
    failure = { error };
  }
  // Sink first, then source (its acknowledgements), then dead letters: reverse opening order.
  // After a failure the first error says why; a later one from closing must not replace it.
  for (const close of closers.reverse()) {
    try {
      await close();
    } catch (error) {
      failure ??= { error };
    }
  }
  // The final stats lines count everything, closing included.
  await observer?.stop();
  if (failure) throw failure.error;
  return report!;
}

function openSource(
  plan: Plan,
  handling: Parameters<typeof replayItems>[1],
  options: RunPipelineOptions,
): Promise<PipelineSource> {
  const source = plan.source;
  switch (source.kind) {
    case "replay":
      return Promise.resolve({
        items: replayItems(source, handling),
        close: () => Promise.resolve(),
      });
    case "stdin":
      return Promise.resolve({
        items: ndjsonItems(options.stdin ?? Deno.stdin.readable, handling),
        close: () => Promise.resolve(),
      });
    case "consume":
      return import("./consume_source.ts").then(({ openConsumeSource }) =>
        openConsumeSource(source, handling, plan.pulsar.connection)
      );
    case "mqtt":
      return import("./mqtt_source.ts").then(({ openMqttSource }) =>
        openMqttSource(source, handling)
      );
  }
}

async function buildStage(
  plan: StagePlan,
  deadLettersFor: (policy: ErrorPolicy) => Promise<DeadLetterSink | undefined>,
  log: (message: string) => void,
  barriers: OutputBarriers,
  observe: { metrics?: Metrics; onScored?: ScoreOptions["onScored"] },
): Promise<Stage> {
  const { metrics, onScored } = observe;
  const deadLetters = await deadLettersFor(plan.kind === "join" ? { kind: "fail" } : plan.onError);
  switch (plan.kind) {
    case "filter": {
      const { filter } = await import("../stages/filter.ts");
      return filter(plan.expression, { onError: plan.onError, deadLetters });
    }
    case "map": {
      const { map } = await import("../stages/map.ts");
      return map(plan.expression, { set: plan.set, onError: plan.onError, deadLetters });
    }
    case "join": {
      const { join } = await import("../stages/join.ts");
      const { openReference } = await import("../stages/topic_table.ts");
      const reference = await openReference(plan.file, plan.refPath, {
        watchIntervalMs: plan.watchIntervalMs,
        log,
      });
      const enrich = join(reference, { on: plan.eventPath, as: plan.as });
      return async function* (input) {
        try {
          yield* enrich(input);
        } finally {
          await reference.close();
        }
      };
    }
    case "score": {
      const { score } = await import("../score/score.ts");
      const onBatch = metrics ? scoreBatchHistograms(metrics).onBatch : undefined;
      return (input) =>
        score(input, {
          model: plan.model,
          batchSize: plan.batchSize,
          maxDelayMs: plan.maxDelayMs,
          as: plan.as,
          threads: plan.threads,
          onError: plan.onError,
          deadLetters,
          warn: log,
          ...(onBatch ? { onBatch } : {}),
          ...(onScored ? { onScored } : {}),
        });
    }
    case "window": {
      const { openWindowCheckpoints, window } = await import("../stages/window/window.ts");
      return stateful(plan, window, openWindowCheckpoints, deadLetters, log, barriers);
    }
    case "pattern": {
      const { openPatternCheckpoints, pattern } = await import("../stages/pattern/pattern.ts");
      return stateful(plan, pattern, openPatternCheckpoints, deadLetters, log, barriers);
    }
    case "process": {
      const { openProcessCheckpoints, processStage } = await import(
        "../stages/process/keyed_function.ts"
      );
      return stateful(plan, processStage, openProcessCheckpoints, deadLetters, log, barriers);
    }
    case "streamJoin": {
      const { openJoinCheckpoints, streamJoin } = await import(
        "../stages/stream_join/stream_join.ts"
      );
      return stateful(plan, streamJoin, openJoinCheckpoints, deadLetters, log, barriers);
    }
  }
}

/** A stateful stage (window, join, pattern), checkpointed when the plan names a directory. */
async function stateful<O extends Omit<StatefulStageOptions, "name">>(
  plan: { options: O; checkpointDir?: string },
  make: (options: O) => Stage,
  open: (
    dir: string,
    options: O,
    warn: (message: string) => void,
  ) => Promise<{ store: CheckpointStore; restored?: Restored }>,
  deadLetters: DeadLetterSink | undefined,
  log: (message: string) => void,
  barriers: OutputBarriers,
): Promise<Stage> {
  if (plan.checkpointDir === undefined) return make({ ...plan.options, deadLetters });
  const opened = await open(plan.checkpointDir, plan.options, log);
  // Results emitted before a checkpoint must be delivered before it counts.
  const { stage, flushOutput, syncOutput } = barriers.forWindow();
  return stage(make({
    ...plan.options,
    deadLetters,
    checkpoint: { store: opened.store, restored: opened.restored, flushOutput, syncOutput },
  }));
}

async function openPlanSink(
  plan: SinkPlan,
  pulsar: PulsarSinkFactory,
  s3: S3Connection,
): Promise<Sink> {
  if (plan.kind === "single") return await openSink(plan.spec, pulsar, s3);
  const opened = new Map<string, Promise<Sink>>();
  const open = (text: string, spec: SinkSpec) => {
    let sink = opened.get(text);
    if (!sink) {
      sink = openSink(spec, pulsar, s3);
      opened.set(text, sink);
    }
    return sink;
  };
  try {
    const routes = [];
    for (const rule of plan.rules) {
      routes.push({ when: rule.when, sink: await open(rule.text, rule.spec) });
    }
    const fallback = plan.fallback ? await open(plan.fallback.text, plan.fallback.spec) : undefined;
    return new RoutingSink(routes, { fallback, fanOut: plan.fanOut });
  } catch (err) {
    await Promise.allSettled([...opened.values()].map(async (s) => (await s).close()));
    throw err;
  }
}
