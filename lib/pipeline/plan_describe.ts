/**
 * A resolved pipeline as lines for a person: what `edgepipe run --dry-run` prints.
 *
 * @module
 */
import type { ErrorPolicy } from "../dead_letter.ts";
import { describeSinkSpec } from "../sinks/open_sink.ts";
import type { StartPosition } from "../sources/consume/open_receiver.ts";
import { describeAuth } from "./connection_plan.ts";
import type { Plan } from "./plan.ts";

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
        s.pattern !== undefined ? `pattern ${s.pattern}` : s.topics.join(", ")
      } as '${s.subscription}' (${s.type ?? "Exclusive"}) from ${s.serviceUrl} (${
        describeStart(s.start ?? { kind: s.initialPosition })
      }${s.exitAtEnd ? ", exit at end" : ""}${
        s.announcePartitions ? ", partitions announced" : ""
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
        lines.push(
          `${n}join ${stage.file} on ${stage.eventPath}=${stage.refPath} as ${stage.as}${
            stage.watchIntervalMs === undefined
              ? ""
              : `, reloaded when it changes (looked at every ${stage.watchIntervalMs} ms)`
          }`,
        );
        break;
      case "score":
        lines.push(
          `${n}score with ${stage.model}${
            stage.batchSize ? `, batches of ${stage.batchSize}` : ""
          }${err(stage.onError)}`,
        );
        break;
      case "streamJoin": {
        const o = stage.options;
        const rule = o.rule.kind === "interval"
          ? `within [${o.rule.lower}, ${o.rule.upper}] ms`
          : `tumbling ${o.rule.size} ms`;
        lines.push(
          `${n}join (${o.type}) ${o.left} with ${o.right} by ${o.key}, ${rule}${
            stage.checkpointDir ? `, checkpoints in ${stage.checkpointDir}` : ""
          }${err(stage.onError)}`,
        );
        break;
      }
      case "process":
        lines.push(
          `${n}process ${stage.options.module} by ${stage.options.key}${
            stage.checkpointDir ? `, checkpoints in ${stage.checkpointDir}` : ""
          }${err(stage.onError)}`,
        );
        break;
      case "pattern": {
        const o = stage.options;
        lines.push(
          `${n}pattern '${o.pattern}' by ${o.key} within ${o.within} ms${
            stage.checkpointDir ? `, checkpoints in ${stage.checkpointDir}` : ""
          }${err(stage.onError)}`,
        );
        break;
      }
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
    const auth = describeAuth(plan.pulsar.connection);
    lines.push(
      `  pulsar   sinks to ${plan.pulsar.serviceUrl ?? "PULSAR_SERVICE_URL"}; ${
        timeout > 0 ? `send timeout ${timeout} ms` : "sends wait for the broker (no send timeout)"
      }${
        plan.pulsar.encryptKeys
          ? `; encrypted for ${plan.pulsar.encryptKeys.map((k) => k.name).join(", ")}`
          : ""
      }${auth ? `; ${auth}` : ""}`,
    );
  }
  if (plan.source.kind === "consume" && plan.source.decryptKeys) {
    lines.push(`  decrypt  with ${plan.source.decryptKeys.length} private key file(s)`);
  }
  const { metricsPort, stats } = plan.observe;
  if (metricsPort !== undefined || stats) {
    lines.push(
      `  observe  ${
        [
          metricsPort !== undefined ? `metrics on 127.0.0.1:${metricsPort}/metrics` : "",
          stats ? "stats per stage on stderr" : "",
        ].filter(Boolean).join(", ")
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

function describeStart(start: StartPosition): string {
  if (start.kind === "id") return `from id ${start.id.toString()}`;
  if (start.kind === "time") return `from ${new Date(start.ms).toISOString()}`;
  return start.kind;
}
