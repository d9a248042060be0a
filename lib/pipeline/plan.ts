/**
 * Turns a validated pipeline file into a plan: durations in milliseconds, paths resolved against
 * the file's directory, destinations parsed, CEL expressions compiled, window settings checked.
 * Nothing is opened or connected, so `edgepipe run --dry-run` can print the plan of a pipeline
 * whose servers are not up.
 *
 * @module
 */
import { isAbsolute, resolve } from "node:path";
import { parseDuration } from "../units.ts";
import { type LookupJoinPlan, lookupJoinPlan } from "./plan_lookup.ts";
import { type ErrorPolicy, parseErrorPolicy } from "../dead_letter.ts";
import { describeError, InputError } from "../errors.ts";
import type { SubscriptionType } from "../pulsar/mod.ts";
import { parseStartPosition, type StartPosition } from "../sources/consume/open_receiver.ts";
import { type CompiledExpression, compileExpression } from "../expr/cel.ts";
import { defaultInFlight, fileSpec, type SinkPlan, sinkPlan } from "./plan_sink.ts";
import type { WindowShape } from "../stages/window/assign.ts";
import { window, type WindowOptions } from "../stages/window/window.ts";
import {
  type PatternPlan,
  patternPlan,
  type ProcessPlan,
  processPlan,
  type StreamJoinPlan,
  streamJoinPlan,
} from "./plan_keyed.ts";
import { PipelineFileError } from "./load_pipeline.ts";
import type { ConnectionFlagValues } from "../sources/pulsar_connect.ts";
import type { S3Connection } from "../sinks/s3.ts";
import { pulsarConnectionFlags, s3ConnectionOf } from "./connection_plan.ts";
import type { PipelineConfig, SourceConfig, StageConfig } from "./schema.ts";

/** Where events come from. */
export type SourcePlan =
  | {
    kind: "replay";
    files: string[];
    format?: "ndjson" | "json" | "csv" | "tsv" | "parquet";
    time?: string;
    key?: string;
    count?: number;
  }
  | {
    kind: "consume";
    topics: string[];
    pattern?: string;
    subscription: string;
    /** Default Exclusive. */
    type?: SubscriptionType;
    serviceUrl: string;
    initialPosition: "earliest" | "latest";
    /** Default: `initialPosition`. */
    start?: StartPosition;
    announcePartitions?: boolean;
    exitAtEnd: boolean;
    /** Default auto. */
    schema?: "auto" | "none";
    /** Private key files that decrypt its messages (`encryption.decryptKeys`). */
    decryptKeys?: string[];
  }
  | {
    kind: "mqtt";
    url: string;
    clientId?: string;
    qos: 0 | 1 | 2;
    mqttVersion: "5" | "3.1.1";
    username?: string;
    passwordFile?: string;
    tlsCa?: string;
    tlsCert?: string;
    tlsKey?: string;
    payload: "json" | "string" | "base64";
    timeField?: string;
    idleExitMs?: number;
    count?: number;
  }
  | { kind: "stdin" };

/** One stage, ready to build. */
export type StagePlan =
  | { kind: "filter"; expression: CompiledExpression; onError: ErrorPolicy }
  | {
    kind: "map";
    expression: CompiledExpression;
    set: "value" | "document";
    onError: ErrorPolicy;
  }
  | LookupJoinPlan
  | {
    kind: "score";
    model: string;
    batchSize?: number;
    maxDelayMs?: number;
    as?: string;
    threads?: number;
    onError: ErrorPolicy;
  }
  | { kind: "window"; options: WindowOptions; checkpointDir?: string; onError: ErrorPolicy }
  | StreamJoinPlan
  | PatternPlan
  | ProcessPlan;

/** How the pipeline's Pulsar destinations (sinks, dead-letter topics) connect. */
export interface PulsarPlan {
  /**
   * The broker: a consume source's `serviceUrl` when it names one (its sinks go to the same
   * broker); otherwise unset, and `PULSAR_SERVICE_URL` (then the local default) applies.
   */
  serviceUrl?: string;
  /** `sendTimeout` in ms: give up on a message the broker has not acknowledged (0: never). */
  sendTimeoutMs: number;
  /** Public keys every Pulsar destination encrypts for (`encryption.encryptKeys`). */
  encryptKeys?: { name: string; file: string }[];
  /** How every Pulsar part connects and authenticates (the file's `pulsar:` block). */
  connection: ConnectionFlagValues;
}

/** A resolved pipeline. */
export interface Plan {
  name: string;
  source: SourcePlan;
  stages: StagePlan[];
  sink: SinkPlan;
  onError: ErrorPolicy;
  maxInFlight: number;
  pulsar: PulsarPlan;
  /** Profile, endpoint and region of S3 sinks (the file's `s3:` block). */
  s3: S3Connection;
  /** `metrics:` and `stats:` of the file (`run --metrics` and `--stats` override them). */
  observe: { metricsPort?: number; stats: boolean };
}

/** Resolves `config` read from `file` (relative paths are taken from the file's directory). */
export function resolvePlan(config: PipelineConfig, file: string): Plan {
  const baseDir = resolve(file, "..");
  const at = <T>(path: string, build: () => T): T => {
    try {
      return build();
    } catch (err) {
      if (err instanceof PipelineFileError) throw err;
      throw new PipelineFileError([`${file}: ${path}: ${describeError(err)}`], { cause: err });
    }
  };
  const path = (p: string) => isAbsolute(p) ? p : resolve(baseDir, p);
  const onError = at("onError", () => policyFor(config.onError, path));
  const consumeUrl = "consume" in config.source ? config.source.consume.serviceUrl : undefined;
  const sink = at("sink", () => sinkPlan(config.sink, path));
  const stages = config.stages.map((stage, i) =>
    at(`stages[${i}].${Object.keys(stage)[0]}`, () => stagePlan(stage, onError, path))
  );
  return {
    name: config.name ?? file,
    source: at(
      "source",
      () => sourcePlan(config.source, path, config.encryption, config.pulsar?.serviceUrl),
    ),
    stages,
    sink,
    onError,
    maxInFlight: config.maxInFlight ?? defaultInFlight(sink),
    pulsar: {
      ...(consumeUrl ?? config.pulsar?.serviceUrl
        ? { serviceUrl: consumeUrl ?? config.pulsar?.serviceUrl }
        : {}),
      sendTimeoutMs: config.sendTimeout === undefined
        ? 0
        : at("sendTimeout", () => ms(config.sendTimeout!, "sendTimeout")),
      ...(config.encryption?.encryptKeys
        ? {
          encryptKeys: Object.entries(config.encryption.encryptKeys).map(([name, file]) => ({
            name,
            file: path(file),
          })),
        }
        : {}),
      connection: pulsarConnectionFlags(config.pulsar, consumeUrl, path),
    },
    s3: s3ConnectionOf(config.s3),
    observe: {
      ...(config.metrics !== undefined ? { metricsPort: config.metrics } : {}),
      stats: config.stats ?? false,
    },
  };
}

function policyFor(text: string, path: (p: string) => string): ErrorPolicy {
  const policy = parseErrorPolicy(text);
  if (policy.kind === "dead-letter" && !/^[a-z0-9+-]+:/.test(policy.target)) {
    return { kind: "dead-letter", target: path(policy.target) };
  }
  if (policy.kind === "dead-letter" && policy.target.startsWith("file:")) {
    return { kind: "dead-letter", target: fileSpec(policy.target, path) };
  }
  return policy;
}

function sourcePlan(
  source: SourceConfig,
  path: (p: string) => string,
  encryption: PipelineConfig["encryption"],
  pulsarUrl: string | undefined,
): SourcePlan {
  if ("replay" in source) {
    const r = source.replay;
    const files = (Array.isArray(r.files) ? r.files : [r.files]).map((f) =>
      f === "-" ? f : path(f)
    );
    return { kind: "replay", files, format: r.format, time: r.time, key: r.key, count: r.count };
  }
  if ("consume" in source) {
    const c = source.consume;
    let start: StartPosition = { kind: c.initialPosition };
    if (c.start !== undefined) {
      try {
        start = parseStartPosition(c.start);
      } catch (cause) {
        throw new InputError(
          `start: expected earliest, latest, a message id or s@<epoch ms>, got '${c.start}'`,
          { cause },
        );
      }
    }
    const type = SUBSCRIPTION_TYPES[c.type];
    if (type === undefined) {
      throw new InputError(
        `type: expected exclusive, shared, failover or key_shared, got '${c.type}'`,
      );
    }
    return {
      kind: "consume",
      topics: c.topic === undefined ? [] : Array.isArray(c.topic) ? c.topic : [c.topic],
      ...(c.pattern !== undefined ? { pattern: c.pattern } : {}),
      subscription: c.subscription,
      type,
      serviceUrl: c.serviceUrl ?? pulsarUrl ?? Deno.env.get("PULSAR_SERVICE_URL") ??
        "pulsar://127.0.0.1:6650",
      initialPosition: c.initialPosition,
      start,
      announcePartitions: c.announcePartitions,
      exitAtEnd: c.exitAtEnd,
      schema: c.schema,
      ...(encryption?.decryptKeys
        ? { decryptKeys: [encryption.decryptKeys].flat().map(path) }
        : {}),
    };
  }
  if ("mqtt" in source) {
    const m = source.mqtt;
    const file = (f: string | undefined) => f === undefined ? undefined : path(f);
    return {
      ...m,
      kind: "mqtt",
      passwordFile: file(m.passwordFile),
      tlsCa: file(m.tlsCa),
      tlsCert: file(m.tlsCert),
      tlsKey: file(m.tlsKey),
      idleExitMs: m.idleExit === undefined ? undefined : ms(m.idleExit, "idleExit"),
    };
  }
  return { kind: "stdin" };
}

const ms = (value: number | string, name: string) =>
  typeof value === "number" ? value : parseDuration(value, name);

function stagePlan(
  stage: StageConfig,
  pipelineOnError: ErrorPolicy,
  path: (p: string) => string,
): StagePlan {
  const policy = (text: string | undefined) =>
    text === undefined ? pipelineOnError : policyFor(text, path);
  if ("filter" in stage) {
    const f = typeof stage.filter === "string" ? { expr: stage.filter } : stage.filter;
    return {
      kind: "filter",
      expression: compileExpression(f.expr),
      onError: policy((f as { onError?: string }).onError),
    };
  }
  if ("map" in stage) {
    const m = typeof stage.map === "string"
      ? { expr: stage.map, set: "value" as const, onError: undefined }
      : stage.map;
    return {
      kind: "map",
      expression: compileExpression(m.expr),
      set: m.set,
      onError: policy(m.onError),
    };
  }
  if ("join" in stage) {
    const j = stage.join;
    if ("left" in j) return streamJoinPlan(j, policy(j.onError), path);
    return lookupJoinPlan(j, path);
  }
  if ("score" in stage) {
    const s = stage.score;
    return {
      kind: "score",
      model: path(s.model),
      batchSize: s.batchSize,
      maxDelayMs: s.maxDelay === undefined ? undefined : ms(s.maxDelay, "maxDelay"),
      as: s.as,
      threads: s.threads,
      onError: policy(s.onError),
    };
  }
  if ("pattern" in stage) return patternPlan(stage.pattern, policy(stage.pattern.onError), path);
  if ("process" in stage) return processPlan(stage.process, policy(stage.process.onError), path);
  const w = stage.window;
  let shape: WindowShape;
  if (w.tumbling !== undefined) shape = { kind: "tumbling", size: ms(w.tumbling, "tumbling") };
  else if (w.sliding !== undefined) {
    shape = {
      kind: "sliding",
      size: ms(w.sliding.size, "sliding.size"),
      slide: ms(w.sliding.every, "sliding.every"),
    };
  } else if (w.count !== undefined) shape = { kind: "count", size: w.count };
  else shape = { kind: "session", gap: ms(w.session!, "session") };
  const onError = policy(w.onError);
  const options: WindowOptions = {
    key: w.key,
    shape,
    aggregates: w.aggregates,
    time: w.time,
    outOfOrderness: w.outOfOrderness === undefined ? 0 : ms(w.outOfOrderness, "outOfOrderness"),
    allowedLateness: w.allowedLateness === undefined ? 0 : ms(w.allowedLateness, "allowedLateness"),
    ...(w.late !== undefined ? { late: { kind: w.late } } : {}),
    ...(w.earlyEvery !== undefined ? { earlyEvery: w.earlyEvery } : {}),
    ...(w.idleKeyTtl !== undefined ? { idleKeyTtl: ms(w.idleKeyTtl, "idleKeyTtl") } : {}),
    ...(w.watermark !== undefined ? { watermark: w.watermark } : {}),
    ...(w.idleTimeout !== undefined ? { idleTimeoutMs: ms(w.idleTimeout, "idleTimeout") } : {}),
    ...(w.idleAdvance !== undefined ? { idleAdvanceMs: ms(w.idleAdvance, "idleAdvance") } : {}),
    onError,
  };
  // Building the stage checks the key and the aggregations now, not after the source opened.
  window(options);
  return {
    kind: "window",
    options,
    checkpointDir: w.checkpoint === undefined ? undefined : path(w.checkpoint),
    onError,
  };
}

const SUBSCRIPTION_TYPES: Record<string, SubscriptionType> = {
  exclusive: "Exclusive",
  shared: "Shared",
  failover: "Failover",
  key_shared: "Key_Shared",
};

export { describePlan } from "./plan_describe.ts";
export type { SinkPlan } from "./plan_sink.ts";
