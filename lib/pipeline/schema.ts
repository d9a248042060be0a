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
  /** One topic or a list (every partition of each is read). */
  topic: z.union([z.string(), z.array(z.string()).min(1)]).optional(),
  /** Every topic of a namespace matching this regular expression, instead of `topic`. */
  pattern: z.string().min(1).optional(),
  subscription: z.string().min(1),
  /**
   * As `consume --type`: exclusive, shared, failover or key_shared (checked when planning: an
   * enum here would lose its message to the `stdin` branch of the source union).
   */
  type: z.string().default("exclusive"),
  serviceUrl: z.string().optional(),
  initialPosition: z.enum(["earliest", "latest"]).default("earliest"),
  /** As `consume -o`: earliest, latest, a message id or s@<epoch ms> (overrides initialPosition). */
  start: z.string().min(1).optional(),
  /** As `consume --announce-partitions`. */
  announcePartitions: flag.default(false),
  /** Stop once the topic has no more messages (for batch runs and tests). */
  exitAtEnd: flag.default(false),
}).refine((c) => (c.topic === undefined) !== (c.pattern === undefined), {
  message: "give exactly one of topic or pattern",
}).refine((c) => !(c.pattern !== undefined && c.announcePartitions), {
  message: "announcePartitions needs topics, not a pattern",
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
  /** Per-key windows of this many events. */
  count: z.number().int().positive().optional(),
  aggregates: z.string(),
  time: z.string().optional(),
  outOfOrderness: duration.optional(),
  allowedLateness: duration.optional(),
  /** As `window --late`: drop (default) or emit. */
  late: z.enum(["drop", "emit"], { error: "expected drop or emit" }).optional(),
  /** As `window --early-every`. */
  earlyEvery: z.number().int().positive().optional(),
  /** As `window --idle-key-ttl` (count windows). */
  idleKeyTtl: duration.optional(),
  /** As `window --watermark`. */
  watermark: z.enum(["partition", "global"], { error: "expected partition or global" })
    .optional(),
  /** As `window --idle-timeout` (needs watermark partition). */
  idleTimeout: duration.optional(),
  /** As `window --idle-advance` (needs watermark partition). */
  idleAdvance: duration.optional(),
  checkpoint: z.string().optional(),
  onError: errorPolicy.optional(),
}).refine(
  (w) => [w.tumbling, w.sliding, w.session, w.count].filter((x) => x !== undefined).length === 1,
  { message: "give exactly one of tumbling, sliding, session or count" },
).refine(
  (w) => w.watermark !== "global" || (w.idleTimeout === undefined && w.idleAdvance === undefined),
  { message: "idleTimeout and idleAdvance need watermark: partition" },
);

const stage = z.union([
  z.strictObject({ filter: filterStage }),
  z.strictObject({ map: mapStage }),
  z.strictObject({ join: joinStage }),
  z.strictObject({ score: scoreStage }),
  z.strictObject({ window: windowStage }),
], { error: "expected one of: filter, map, join, score, window" });

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
