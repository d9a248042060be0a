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
import { parseServiceUrls } from "../pulsar/service_url.ts";

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

/** One host or several (`pulsar://h1:6650,h2:6650`), checked as the client parses it. */
const serviceUrl = z.string().superRefine((text, ctx) => {
  try {
    parseServiceUrls(text);
  } catch (err) {
    ctx.addIssue({ code: "custom", message: (err as Error).message });
  }
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
  serviceUrl: serviceUrl.optional(),
  initialPosition: z.enum(["earliest", "latest"]).default("earliest"),
  /** As `consume -o`: earliest, latest, a message id or s@<epoch ms> (overrides initialPosition). */
  start: z.string().min(1).optional(),
  /** As `consume --announce-partitions`. */
  announcePartitions: flag.default(false),
  /** Stop once the topic has no more messages (for batch runs and tests). */
  exitAtEnd: flag.default(false),
  /** auto: decode each message with its writer's schema; none: raw payloads. */
  schema: z.enum(["auto", "none"], { error: "expected auto or none" }).default("auto"),
}).refine((c) => (c.topic === undefined) !== (c.pattern === undefined), {
  message: "give exactly one of topic or pattern",
}).refine((c) => !(c.pattern !== undefined && c.announcePartitions), {
  message: "announcePartitions needs topics, not a pattern",
});

const mqttSource = z.strictObject({
  /** `mqtt://host[:port]/<topic filter>` or `mqtts://…` (no password in it). */
  url: z.string().regex(/^mqtts?:\/\//, "expected mqtt://host/<filter> or mqtts://…"),
  /** A stable id: a persistent session (what was not acknowledged is redelivered). */
  clientId: z.string().min(1).optional(),
  qos: z.union([z.literal(0), z.literal(1), z.literal(2)]).default(1),
  mqttVersion: z.enum(["5", "3.1.1"]).default("5"),
  username: z.string().optional(),
  /** The password, read from this file (or MQTT_PASSWORD). */
  passwordFile: z.string().optional(),
  tlsCa: z.string().optional(),
  tlsCert: z.string().optional(),
  tlsKey: z.string().optional(),
  payload: z.enum(["json", "string", "base64"]).default("json"),
  timeField: z.string().optional(),
  /** Stop after this long without a message (MQTT has no end of topic). */
  idleExit: z.union([z.string(), z.number()]).optional(),
  count: z.number().int().positive().optional(),
});

const source = z.union([
  z.strictObject({ replay: replaySource }),
  z.strictObject({ consume: consumeSource }),
  z.strictObject({ mqtt: mqttSource }),
  z.strictObject({ stdin: z.strictObject({}) }),
], { error: "expected one of: replay, consume, mqtt, stdin" });

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
  /** A file: how often it is looked at, reloaded when it changes (default 1s); off: read once. */
  watchInterval: z.union([z.literal("off"), duration]).optional(),
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
  // A lookup join names a reference file; a stream join names its two sides.
  z.strictObject({ join: z.union([joinStage, streamJoinStage]) }),
  z.strictObject({ score: scoreStage }),
  z.strictObject({ window: windowStage }),
  z.strictObject({ pattern: patternStage }),
  z.strictObject({ process: processStage }),
], { error: "expected one of: filter, map, join, score, window, pattern, process" });

const sinkSpec = z.string().min(1, "expected a destination such as stdout or s3://bucket/prefix/");

const producerSchema = z.string().regex(
  /^(avro:.+|json:.+|protobuf-native:.+:[^:]+|string|auto)$/,
  "expected avro:<file.avsc>, json:<file>, protobuf-native:<descriptor set>:<message>, " +
    "string or auto",
);

const sink = z.union([
  sinkSpec,
  /** A Pulsar topic written with a schema (as `produce --schema`). */
  z.strictObject({ to: sinkSpec, schema: producerSchema }),
  z.strictObject({
    route: z.strictObject({
      rules: z.array(
        z.strictObject({ when: cel, to: sinkSpec, schema: producerSchema.optional() }),
      ).min(1),
      default: sinkSpec.optional(),
      fanOut: flag.default(false),
    }),
  }),
], { error: "expected a destination string, { to: …, schema: … } or { route: … }" });

const keyFile = z.string().min(1, "expected a PEM key file");

/** End-to-end encryption: what `consume --decrypt-key` and `produce --encrypt-key` say. */
const encryption = z.strictObject({
  /** Private key file(s) that decrypt the consume source's messages. */
  decryptKeys: z.union([keyFile, z.array(keyFile).min(1)]).optional(),
  /** Key name → public key file: every Pulsar destination encrypts for each. */
  encryptKeys: z.record(
    z.string().regex(/^[^\s=]+$/, "expected a key name without spaces or '='"),
    keyFile,
  ).refine((keys) => Object.keys(keys).length > 0, "expected at least one key name: file")
    .optional(),
}).refine((e) => e.decryptKeys !== undefined || e.encryptKeys !== undefined, {
  message: "expected decryptKeys, encryptKeys or both",
});

const oauth2Auth = z.strictObject({
  issuerUrl: z.string().regex(/^https?:\/\/[^/]/, "expected the issuer's http(s):// URL"),
  /** The credentials file (client_id, client_secret): `file:///path` or `data:…`. */
  privateKey: z.string().min(1).optional(),
  credentialsUrl: z.string().min(1).optional(),
  audience: z.string().optional(),
  scope: z.string().optional(),
}).refine((o) => (o.privateKey === undefined) !== (o.credentialsUrl === undefined), {
  message: "give privateKey (the credentials file with client_id and client_secret), once",
});

const pulsarAuth = z.strictObject({
  /** `token:<jwt>`, `file:<path>` or the token itself. */
  token: z.string().min(1).optional(),
  oauth2: oauth2Auth.optional(),
  /** Any plugin with its params, as in a client.conf. */
  plugin: z.string().min(1).optional(),
  params: z.string().optional(),
}).refine(
  (a) => [a.token, a.oauth2, a.plugin].filter((x) => x !== undefined).length === 1,
  { message: "give exactly one of token, oauth2 or plugin (with params)" },
).refine((a) => a.params === undefined || a.plugin !== undefined, {
  message: "params belong to a plugin: add plugin, or use token / oauth2",
});

const tlsFiles = z.strictObject({
  ca: z.string().min(1).optional(),
  cert: z.string().min(1).optional(),
  key: z.string().min(1).optional(),
}).refine((t) => (t.cert === undefined) === (t.key === undefined), {
  message: "cert and key go together",
});

/** How every Pulsar part of the pipeline (source, sinks, dead-letter topics) connects. */
const pulsarConnection = z.strictObject({
  serviceUrl: z.string().regex(
    /^pulsar(\+ssl)?:\/\/[^/]/,
    "expected pulsar://host:6650 or pulsar+ssl://host:6651",
  ).optional(),
  /** A Pulsar client.conf (brokerServiceUrl, authPlugin, authParams, tlsTrustCertsFilePath). */
  clientConf: z.string().min(1).optional(),
  auth: pulsarAuth.optional(),
  tls: tlsFiles.optional(),
});

/** How S3 sinks find their credentials (the AWS default chain) and server. */
const s3Connection = z.strictObject({
  profile: z.string().min(1).optional(),
  endpoint: z.string().regex(/^https?:\/\/[^/]/, "expected an http(s):// URL").optional(),
  region: z.string().min(1).optional(),
});

/** A TCP port; digits too, as `${VAR}` substitution gives strings. */
const port = z.union([z.number(), z.string()], { error: "expected a port number (0 to 65535)" })
  .transform((value, ctx) => {
    const n = typeof value === "number" ? value : /^\d{1,5}$/.test(value) ? Number(value) : NaN;
    if (Number.isInteger(n) && n >= 0 && n <= 65535) return n;
    ctx.addIssue({ code: "custom", message: "expected a port number (0 to 65535)" });
    return z.NEVER;
  });

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
  /** End-to-end encryption of Pulsar messages read and written. */
  encryption: encryption.optional(),
  /** Connection and authentication of the Pulsar source, sinks and dead-letter topics. */
  pulsar: pulsarConnection.optional(),
  /** Credentials profile, endpoint and region of S3 sinks. */
  s3: s3Connection.optional(),
  /** Prometheus metrics of every stage on 127.0.0.1:<port>/metrics (as `run --metrics`). */
  metrics: port.optional(),
  /** A stats line per stage on stderr every 5 s and at the end (as `run --stats`). */
  stats: flag.optional(),
}).superRefine((config, ctx) => {
  if (config.encryption?.decryptKeys !== undefined && !("consume" in config.source)) {
    ctx.addIssue({
      code: "custom",
      path: ["encryption", "decryptKeys"],
      message: "decrypts Pulsar messages: it needs a consume source",
    });
  }
});

/** A validated pipeline file. */
export type PipelineConfig = z.infer<typeof pipelineSchema>;
/** One validated stage entry. */
export type StageConfig = PipelineConfig["stages"][number];
/** The validated source entry. */
export type SourceConfig = PipelineConfig["source"];
/** The validated sink entry. */
export type SinkConfig = PipelineConfig["sink"];
