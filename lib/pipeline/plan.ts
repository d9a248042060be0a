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
import { type ErrorPolicy, parseErrorPolicy } from "../dead_letter.ts";
import { describeError } from "../errors.ts";
import { type CompiledExpression, compileExpression } from "../expr/cel.ts";
import { describeSinkSpec, parseSinkSpec, type SinkSpec } from "../sinks/open_sink.ts";
import type { WindowShape } from "../stages/window/assign.ts";
import { window, type WindowOptions } from "../stages/window/window.ts";
import { PipelineFileError } from "./load_pipeline.ts";
import type { PipelineConfig, SinkConfig, SourceConfig, StageConfig } from "./schema.ts";

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
    subscription: string;
    serviceUrl: string;
    initialPosition: "earliest" | "latest";
    exitAtEnd: boolean;
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
  | { kind: "join"; file: string; eventPath: string; refPath: string; as: string }
  | {
    kind: "score";
    model: string;
    batchSize?: number;
    maxDelayMs?: number;
    as?: string;
    threads?: number;
    onError: ErrorPolicy;
  }
  | { kind: "window"; options: WindowOptions; checkpointDir?: string; onError: ErrorPolicy };

/** Where events go. */
export type SinkPlan =
  | { kind: "single"; spec: SinkSpec; text: string }
  | {
    kind: "route";
    rules: { when: CompiledExpression; spec: SinkSpec; text: string }[];
    fallback?: { spec: SinkSpec; text: string };
    fanOut: boolean;
  };

/** How the pipeline's Pulsar destinations (sinks, dead-letter topics) connect. */
export interface PulsarPlan {
  /**
   * The broker: a consume source's `serviceUrl` when it names one (its sinks go to the same
   * broker); otherwise unset, and `PULSAR_SERVICE_URL` (then the local default) applies.
   */
  serviceUrl?: string;
  /** `sendTimeout` in ms: give up on a message the broker has not acknowledged (0: never). */
  sendTimeoutMs: number;
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
  const stages = config.stages.map((stage, i) =>
    at(`stages[${i}].${Object.keys(stage)[0]}`, () => stagePlan(stage, onError, path))
  );
  return {
    name: config.name ?? file,
    source: at("source", () => sourcePlan(config.source, path)),
    stages,
    sink: at("sink", () => sinkPlan(config.sink, path)),
    onError,
    // 1,000 keeps a Pulsar producer's batches full; 50,000 ran at half the events/s with twice
    // the CPU (issue 13: past the broker's 50,000 unacknowledged messages per consumer the source
    // stalls, and that many live events cost the garbage collector).
    maxInFlight: config.maxInFlight ?? 1000,
    pulsar: {
      ...("consume" in config.source && config.source.consume.serviceUrl !== undefined
        ? { serviceUrl: config.source.consume.serviceUrl }
        : {}),
      sendTimeoutMs: config.sendTimeout === undefined
        ? 0
        : at("sendTimeout", () => ms(config.sendTimeout!, "sendTimeout")),
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

function fileSpec(text: string, path: (p: string) => string): string {
  const rest = text.replace(/^file:(\/\/)?/, "");
  return `file:${path(rest)}${rest.endsWith("/") ? "/" : ""}`;
}

function sourcePlan(source: SourceConfig, path: (p: string) => string): SourcePlan {
  if ("replay" in source) {
    const r = source.replay;
    const files = (Array.isArray(r.files) ? r.files : [r.files]).map((f) =>
      f === "-" ? f : path(f)
    );
    return { kind: "replay", files, format: r.format, time: r.time, key: r.key, count: r.count };
  }
  if ("consume" in source) {
    const c = source.consume;
    return {
      kind: "consume",
      topics: Array.isArray(c.topic) ? c.topic : [c.topic],
      subscription: c.subscription,
      serviceUrl: c.serviceUrl ?? Deno.env.get("PULSAR_SERVICE_URL") ?? "pulsar://127.0.0.1:6650",
      initialPosition: c.initialPosition,
      exitAtEnd: c.exitAtEnd,
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
    const [eventPath, refPath = eventPath.split(".").at(-1)!] = stage.join.on.split("=");
    return { kind: "join", file: path(stage.join.file), eventPath, refPath, as: stage.join.as };
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
  const w = stage.window;
  let shape: WindowShape;
  if (w.tumbling !== undefined) shape = { kind: "tumbling", size: ms(w.tumbling, "tumbling") };
  else if (w.sliding !== undefined) {
    shape = {
      kind: "sliding",
      size: ms(w.sliding.size, "sliding.size"),
      slide: ms(w.sliding.every, "sliding.every"),
    };
  } else shape = { kind: "session", gap: ms(w.session!, "session") };
  const onError = policy(w.onError);
  const options: WindowOptions = {
    key: w.key,
    shape,
    aggregates: w.aggregates,
    time: w.time,
    outOfOrderness: w.outOfOrderness === undefined ? 0 : ms(w.outOfOrderness, "outOfOrderness"),
    allowedLateness: w.allowedLateness === undefined ? 0 : ms(w.allowedLateness, "allowedLateness"),
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

function destination(text: string, path: (p: string) => string): { spec: SinkSpec; text: string } {
  const resolved = text.startsWith("file:") ? fileSpec(text, path) : text;
  return { spec: parseSinkSpec(resolved), text: resolved };
}

function sinkPlan(sink: SinkConfig, path: (p: string) => string): SinkPlan {
  if (typeof sink === "string") return { kind: "single", ...destination(sink, path) };
  const route = sink.route;
  return {
    kind: "route",
    rules: route.rules.map((rule) => ({
      when: compileExpression(rule.when),
      ...destination(rule.to, path),
    })),
    fallback: route.default === undefined ? undefined : destination(route.default, path),
    fanOut: route.fanOut,
  };
}

/** The plan as lines for a person (`--dry-run`). */
export function describePlan(plan: Plan): string[] {
  const lines = [`pipeline ${plan.name}`];
  const s = plan.source;
  if (s.kind === "replay") {
    lines.push(
      `  source   replay ${s.files.join(", ")}${s.format ? ` as ${s.format}` : ""}${
        s.key ? `, key ${s.key}` : ""
      }${s.time ? `, time ${s.time}` : ""}${s.count ? `, first ${s.count}` : ""}`,
    );
  } else if (s.kind === "consume") {
    lines.push(
      `  source   consume ${
        s.topics.join(", ")
      } as '${s.subscription}' from ${s.serviceUrl} (${s.initialPosition}${
        s.exitAtEnd ? ", exit at end" : ""
      })`,
    );
  } else if (s.kind === "mqtt") {
    lines.push(
      `  source   mqtt ${s.url} QoS ${s.qos}, MQTT ${s.mqttVersion}${
        s.clientId ? `, persistent session '${s.clientId}'` : ", clean session"
      }`,
    );
  } else lines.push("  source   stdin (NDJSON)");
  plan.stages.forEach((stage, i) => {
    const n = `  stage ${i + 1}  `;
    const err = (p: ErrorPolicy) =>
      p.kind === "fail"
        ? ""
        : ` [on error: ${p.kind === "skip" ? "skip" : `dead-letter → ${p.target}`}]`;
    switch (stage.kind) {
      case "filter":
        lines.push(`${n}filter ${stage.expression.source}${err(stage.onError)}`);
        break;
      case "map":
        lines.push(`${n}map (${stage.set}) ${stage.expression.source}${err(stage.onError)}`);
        break;
      case "join":
        lines.push(`${n}join ${stage.file} on ${stage.eventPath}=${stage.refPath} as ${stage.as}`);
        break;
      case "score":
        lines.push(
          `${n}score with ${stage.model}${
            stage.batchSize ? `, batches of ${stage.batchSize}` : ""
          }${err(stage.onError)}`,
        );
        break;
      case "window": {
        const o = stage.options;
        const shape = o.shape.kind === "tumbling"
          ? `tumbling ${o.shape.size} ms`
          : o.shape.kind === "sliding"
          ? `sliding ${o.shape.size} ms every ${o.shape.slide} ms`
          : o.shape.kind === "session"
          ? `session gap ${o.shape.gap} ms`
          : `every ${o.shape.size} events`;
        lines.push(
          `${n}window by ${o.key}, ${shape}: ${o.aggregates}${
            stage.checkpointDir ? `, checkpoints in ${stage.checkpointDir}` : ""
          }${err(stage.onError)}`,
        );
        break;
      }
    }
  });
  if (plan.sink.kind === "single") lines.push(`  sink     ${describeSinkSpec(plan.sink.spec)}`);
  else {
    lines.push(`  sink     route${plan.sink.fanOut ? " (fan-out)" : ""}`);
    for (const rule of plan.sink.rules) {
      lines.push(`             when ${rule.when.source} → ${describeSinkSpec(rule.spec)}`);
    }
    if (plan.sink.fallback) {
      lines.push(`             otherwise → ${describeSinkSpec(plan.sink.fallback.spec)}`);
    }
  }
  const p = plan.onError;
  lines.push(
    `  on error ${
      p.kind === "dead-letter" ? `dead-letter → ${p.target}` : p.kind
    }; at most ${plan.maxInFlight} events in flight`,
  );
  if (pulsarDestinations(plan)) {
    const timeout = plan.pulsar.sendTimeoutMs;
    lines.push(
      `  pulsar   sinks to ${plan.pulsar.serviceUrl ?? "PULSAR_SERVICE_URL"}; ${
        timeout > 0 ? `send timeout ${timeout} ms` : "sends wait for the broker (no send timeout)"
      }`,
    );
  }
  return lines;
}

/** True when the pipeline writes to a Pulsar topic (a sink, a route, a dead-letter target). */
function pulsarDestinations(plan: Plan): boolean {
  const specs = plan.sink.kind === "single" ? [plan.sink.spec] : [
    ...plan.sink.rules.map((r) => r.spec),
    ...(plan.sink.fallback ? [plan.sink.fallback.spec] : []),
  ];
  const policies = [
    plan.onError,
    ...plan.stages.map((s) => "onError" in s ? s.onError : undefined),
  ];
  return specs.some((s) => s.kind === "pulsar") ||
    policies.some((p) =>
      p?.kind === "dead-letter" && /^(topic:|(non-)?persistent:\/\/)/.test(p.target)
    );
}
