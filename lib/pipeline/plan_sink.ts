/**
 * Where a pipeline file's events go: its `sink:` as destinations (one, or routed by rule), and
 * how many events the run holds in flight for them by default.
 *
 * @module
 */
import { UsageError } from "../errors.ts";
import { type CompiledExpression, compileExpression } from "../expr/cel.ts";
import { parseProducerSchema } from "../schema/producer_schema_spec.ts";
import { eventsToFill } from "../sinks/batching_sink.ts";
import { parseSinkSpec, type SinkSpec } from "../sinks/open_sink.ts";
import type { SinkConfig } from "./schema.ts";

/** Where events go. */
export type SinkPlan =
  | { kind: "single"; spec: SinkSpec; text: string }
  | {
    kind: "route";
    rules: { when: CompiledExpression; spec: SinkSpec; text: string }[];
    fallback?: { spec: SinkSpec; text: string };
    fanOut: boolean;
  };

/** A `file:` spec with its path resolved against the pipeline's directory. */
export function fileSpec(text: string, path: (p: string) => string): string {
  const rest = text.replace(/^file:(\/\/)?/, "");
  return `file:${path(rest)}${rest.endsWith("/") ? "/" : ""}`;
}

function destination(text: string, path: (p: string) => string): { spec: SinkSpec; text: string } {
  const resolved = text.startsWith("file:") ? fileSpec(text, path) : text;
  return { spec: parseSinkSpec(resolved), text: resolved };
}

/** A destination written with a producer schema (a Pulsar topic only); its file from the pipeline's directory. */
function withSchema(
  to: string,
  schemaText: string | undefined,
  path: (p: string) => string,
): { spec: SinkSpec; text: string } {
  const single = destination(to, path);
  if (schemaText === undefined) return single;
  if (single.spec.kind !== "pulsar") {
    throw new UsageError(`schema: only a Pulsar topic takes a schema, not ${to}`);
  }
  const schema = parseProducerSchema(schemaText, "schema:");
  if ("file" in schema) schema.file = path(schema.file);
  // The text keys the opened sinks: the same topic with another schema is another sink.
  return { spec: { ...single.spec, schema }, text: `${single.text} ${schemaText}` };
}

export /**
 * Events in flight by default. 1,000 keeps a Pulsar producer's batches full; 50,000 ran at half
 * the events/s with twice the CPU (past the broker's 50,000 unacknowledged messages per consumer
 * the source stalls, and that many live events cost the garbage collector). An S3 or file
 * destination needs room for its objects to fill (`eventsToFill`): the largest one decides.
 */
function defaultInFlight(sink: SinkPlan): number {
  const specs = sink.kind === "single"
    ? [sink.spec]
    : [...sink.rules.map((rule) => rule.spec), ...(sink.fallback ? [sink.fallback.spec] : [])];
  return Math.max(
    1000,
    ...specs.map((spec) =>
      spec.kind === "s3" || spec.kind === "file" ? eventsToFill(spec.batching) : 0
    ),
  );
}

/** The plan of a pipeline file's `sink:`. */
export function sinkPlan(sink: SinkConfig, path: (p: string) => string): SinkPlan {
  if (typeof sink === "string") return { kind: "single", ...destination(sink, path) };
  if ("to" in sink) return { kind: "single", ...withSchema(sink.to, sink.schema, path) };
  const route = sink.route;
  return {
    kind: "route",
    rules: route.rules.map((rule) => ({
      when: compileExpression(rule.when),
      ...withSchema(rule.to, rule.schema, path),
    })),
    fallback: route.default === undefined ? undefined : destination(route.default, path),
    fanOut: route.fanOut,
  };
}
