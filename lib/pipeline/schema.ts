/**
 * The pipeline file (`edgepipe run pipeline.yaml`): one source, stages in order, one sink. Each
 * stage takes the same settings as its command's flags. See `docs/pipelines.md`.
 *
 * ```yaml
 * source:
 *   replay: { files: [flights.ndjson], time: date, key: origin }
 * stages:
 *   - filter: 'event.value.delay > 15.0'
 *   - window: { key: origin, tumbling: 1h, aggregates: "count(), avg(value.delay)" }
 * sink: s3://lake/delays/date=%Y-%m-%d/?format=parquet
 * ```
 *
 * @module
 */
import { z } from "zod";

const duration = z.union([
  z.number().int().nonnegative(),
  z.string().regex(/^\d+(\.\d+)?(ms|s|m|h|d)?$/, "expected a duration such as 500ms, 5s, 5m, 1h"),
]);

/** A boolean; "true" / "false" too, as `${VAR}` substitution gives strings. */
const flag = z.union(
  [z.boolean(), z.enum(["true", "false"]).transform((text) => text === "true")],
  {
    error: "expected true or false",
  },
);

const errorPolicy = z.string().regex(
  /^(fail|skip|dead-letter=.+)$/,
  "expected fail, skip or dead-letter=<file|s3://…|file:dir|topic>",
);

const replaySource = z.strictObject({
  files: z.union([z.string(), z.array(z.string()).min(1)]),
  format: z.enum(["ndjson", "json", "csv", "tsv", "parquet"]).optional(),
  time: z.string().optional(),
  key: z.string().optional(),
  count: z.number().int().positive().optional(),
});

const consumeSource = z.strictObject({
  topic: z.union([z.string(), z.array(z.string()).min(1)]),
  subscription: z.string().min(1),
  serviceUrl: z.string().optional(),
  initialPosition: z.enum(["earliest", "latest"]).default("earliest"),
  /** Stop once the topic has no more messages (for batch runs and tests). */
  exitAtEnd: flag.default(false),
});

const source = z.union([
  z.strictObject({ replay: replaySource }),
  z.strictObject({ consume: consumeSource }),
  z.strictObject({ stdin: z.strictObject({}).default({}) }),
], { error: "expected one of: replay, consume, stdin" });

const cel = z.string().min(1, "expected a CEL expression");

const filterStage = z.union([cel, z.strictObject({ expr: cel, onError: errorPolicy.optional() })]);

const mapStage = z.union([
  cel,
  z.strictObject({
    expr: cel,
    set: z.enum(["value", "document"]).default("value"),
    onError: errorPolicy.optional(),
  }),
]);

const joinStage = z.strictObject({
  file: z.string(),
  on: z.string().regex(/^[\w.$]+(=[\w.$]+)?$/, "expected <event field>[=<reference field>]"),
  as: z.string().default("ref"),
});

/** A duration that may be negative (a join interval's lower bound). */
const signedDuration = z.union([
  z.number().int(),
  z.string().regex(/^-?\d+(\.\d+)?(ms|s|m|h|d)?$/, "expected a duration such as -5m, 0s, 10m"),
]);

const streamJoinStage = z.strictObject({
  left: cel,
  right: cel,
  key: z.string(),
  within: z.strictObject({ from: signedDuration, to: signedDuration }).optional(),
  tumbling: duration.optional(),
  sliding: z.strictObject({ size: duration, every: duration }).optional(),
  type: z.enum(["inner", "left"]).default("inner"),
  as: z.string().optional(),
  time: z.string().optional(),
  outOfOrderness: duration.optional(),
  checkpoint: z.string().optional(),
  onError: errorPolicy.optional(),
}).refine(
  (j) => [j.within, j.tumbling, j.sliding].filter((x) => x !== undefined).length === 1,
  { message: "give exactly one of within: { from, to }, tumbling or sliding: { size, every }" },
);

const patternStage = z.strictObject({
  key: z.string(),
  define: z.record(z.string().regex(/^[A-Za-z][A-Za-z0-9_]*$/, "expected a name"), cel),
  pattern: z.string().min(1, "expected a pattern such as 'a !b c'"),
  within: duration,
  time: z.string().optional(),
  outOfOrderness: duration.optional(),
  contiguity: z.enum(["relaxed", "strict"]).optional(),
  skip: z.enum(["none", "past-last"]).optional(),
  checkpoint: z.string().optional(),
  onError: errorPolicy.optional(),
});

const processStage = z.strictObject({
  module: z.string(),
  key: z.string(),
  time: z.string().optional(),
  outOfOrderness: duration.optional(),
  allowRead: z.array(z.string()).optional(),
  allowWrite: z.array(z.string()).optional(),
  allowNet: z.array(z.string()).optional(),
  allowEnv: z.array(z.string()).optional(),
  checkpoint: z.string().optional(),
  onError: errorPolicy.optional(),
});

const scoreStage = z.strictObject({
  model: z.string(),
  batchSize: z.number().int().positive().optional(),
  maxDelay: duration.optional(),
  as: z.string().optional(),
  threads: z.number().int().positive().optional(),
  onError: errorPolicy.optional(),
});

const windowStage = z.strictObject({
  key: z.string(),
  tumbling: duration.optional(),
  sliding: z.strictObject({ size: duration, every: duration }).optional(),
  session: duration.optional(),
  aggregates: z.string(),
  time: z.string().optional(),
  outOfOrderness: duration.optional(),
  allowedLateness: duration.optional(),
  checkpoint: z.string().optional(),
  onError: errorPolicy.optional(),
}).refine(
  (w) => [w.tumbling, w.sliding, w.session].filter((x) => x !== undefined).length === 1,
  { message: "give exactly one of tumbling, sliding or session" },
);

const stage = z.union([
  z.strictObject({ filter: filterStage }),
  z.strictObject({ map: mapStage }),
  // A lookup join names a reference file; a stream join names its two sides.
  z.strictObject({ join: z.union([joinStage, streamJoinStage]) }),
  z.strictObject({ score: scoreStage }),
  z.strictObject({ window: windowStage }),
  z.strictObject({ pattern: patternStage }),
  z.strictObject({ process: processStage }),
], { error: "expected one of: filter, map, join, score, window, pattern, process" });

const sinkSpec = z.string().min(1, "expected a destination such as stdout or s3://bucket/prefix/");

const sink = z.union([
  sinkSpec,
  z.strictObject({
    route: z.strictObject({
      rules: z.array(z.strictObject({ when: cel, to: sinkSpec })).min(1),
      default: sinkSpec.optional(),
      fanOut: flag.default(false),
    }),
  }),
], { error: "expected a destination string or { route: … }" });

/** The schema of a pipeline file. */
export const pipelineSchema = z.strictObject({
  name: z.string().optional(),
  description: z.string().optional(),
  source,
  stages: z.array(stage).default([]),
  sink,
  onError: errorPolicy.default("fail"),
  /** Events accepted by the sink but not yet delivered. */
  maxInFlight: z.number().int().positive().optional(),
  /**
   * Pulsar destinations: give up on a message the broker has not acknowledged within this long.
   * Default none (0 too): while the broker is away, sends wait for it.
   */
  sendTimeout: duration.optional(),
});

/** A validated pipeline file. */
export type PipelineConfig = z.infer<typeof pipelineSchema>;
/** One validated stage entry. */
export type StageConfig = PipelineConfig["stages"][number];
/** The validated source entry. */
export type SourceConfig = PipelineConfig["source"];
/** The validated sink entry. */
export type SinkConfig = PipelineConfig["sink"];
