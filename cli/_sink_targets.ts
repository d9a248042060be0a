/**
 * The targets of `edgepipe sink`: each one's flags, parsed, and how to open it (S3, rolling files,
 * an HTTP endpoint, stdout).
 *
 * @module
 */
import { InputError, UsageError } from "../lib/errors.ts";
import { type BatchingOptions, eventsToFill } from "../lib/sinks/batching_sink.ts";
import { parseEncoding } from "../lib/sinks/encode.ts";
import { PrefixTemplate } from "../lib/sinks/object_naming.ts";
import { parseBytes } from "../lib/sinks/open_sink.ts";
import { parsePayloadShape } from "../lib/delivered_record.ts";
import type { Sink } from "../lib/sinks/types.ts";
import { BUFFER_FLAGS } from "../lib/sinks/buffered_sink.ts";
import { parseDuration, parseFlags, parsePositiveInt } from "./_command.ts";
import { OBSERVE_FLAGS } from "./_stage_runner.ts";
import { OTLP_FLAGS } from "./_tracing.ts";

const BATCHING_FLAGS = {
  prefix: { type: "string", default: "" },
  format: { type: "string", default: "ndjson.gz" },
  "max-events": { type: "string", default: "10000" },
  "max-bytes": { type: "string", default: "16MiB" },
  "max-age": { type: "string", default: "10s" },
  "writer-id": { type: "string" },
  concurrency: { type: "string", default: "2" },
} as const;

const COMMON_FLAGS = {
  payload: { type: "string", default: "record" },
  "on-error": { type: "string", default: "fail" },
  "max-in-flight": { type: "string" },
  "max-line-bytes": { type: "string" },
  ...OBSERVE_FLAGS,
  ...OTLP_FLAGS,
  ...BUFFER_FLAGS,
} as const;

const HTTP_FLAGS = {
  url: { type: "string" },
  batch: { type: "string", default: "100" },
  "batch-delay": { type: "string", default: "200ms" },
  "http-format": { type: "string", default: "json" },
  timeout: { type: "string", default: "10s" },
  retries: { type: "string", default: "5" },
  header: { type: "string", multiple: true },
  "header-file": { type: "string", multiple: true },
  "header-env": { type: "string", multiple: true },
} as const;

const S3_FLAGS = {
  bucket: { type: "string" },
  endpoint: { type: "string" },
  region: { type: "string" },
  "access-key-id": { type: "string" },
  "secret-access-key": { type: "string" },
  profile: { type: "string" },
  "virtual-host": { type: "boolean", default: false },
  "max-attempts": { type: "string", default: "6" },
  "part-size": { type: "string", default: "8MiB" },
} as const;

/** Parsed flag values. */
export type Values = Record<string, string | string[] | boolean | undefined>;

function batchingOptions(values: Values): BatchingOptions {
  const writerId = values["writer-id"] as string | undefined;
  if (writerId !== undefined && !/^[\w.-]+$/.test(writerId)) {
    throw new UsageError(`--writer-id: use letters, digits, '.', '_' or '-', got '${writerId}'`);
  }
  return {
    prefix: new PrefixTemplate(values.prefix as string),
    encoding: parseEncoding(values.format as string),
    maxEvents: parsePositiveInt(values["max-events"] as string, "--max-events"),
    maxBytes: parseBytes(values["max-bytes"] as string, "--max-bytes"),
    maxAgeMs: parseDuration(values["max-age"] as string, "--max-age"),
    writerId,
    maxInFlight: parsePositiveInt(values.concurrency as string, "--concurrency"),
    payload: parsePayloadShape(values.payload as string),
  };
}

/**
 * A secret given as a flag: `file:<path>` is read from the file; a literal value works but is
 * warned about, since every user of the machine can read a process's arguments.
 */
async function secretFlag(value: string | undefined, flag: string): Promise<string | undefined> {
  if (value === undefined) return undefined;
  if (value.startsWith("file:")) {
    const path = value.slice("file:".length).replace(/^\/\/(?=\/)/, "");
    try {
      return (await Deno.readTextFile(path)).trim();
    } catch (cause) {
      const reason = cause instanceof Deno.errors.NotFound ? "no such file" : (cause as Error).name;
      throw new InputError(`${flag}: cannot read ${path}: ${reason}`);
    }
  }
  console.error(
    `edgepipe sink: warning: ${flag} is visible in the process list; prefer ${flag} file:<path>, ` +
      "the environment or a --profile",
  );
  return value;
}

/** A parsed target: `open` reaches the destination (called again by a buffer while it is away). */
export interface Target {
  open: () => Promise<Sink>;
  values: Values;
  inFlight: number;
  /** An error of `open` no retry can fix. */
  refused?: (err: unknown) => boolean;
}

/** Parses the flags of target `kind` (s3, file, http, stdout). */
export async function openTarget(kind: string, args: string[]): Promise<Target> {
  if (kind === "s3") {
    const { values, positionals } = parseFlags("sink s3", args, {
      ...BATCHING_FLAGS,
      ...S3_FLAGS,
      ...COMMON_FLAGS,
    }, false);
    void positionals;
    const bucket = values.bucket;
    if (!bucket) throw new UsageError("sink s3: --bucket is required");
    const batching = batchingOptions(values);
    const { openS3Sink, s3ConnectionFromEnv, S3SinkError } = await import("../lib/sinks/s3.ts");
    const connection = s3ConnectionFromEnv({
      endpoint: values.endpoint,
      region: values.region,
      accessKeyId: await secretFlag(values["access-key-id"], "--access-key-id"),
      secretAccessKey: await secretFlag(values["secret-access-key"], "--secret-access-key"),
      ...(values.profile ? { profile: values.profile } : {}),
      forcePathStyle: values["virtual-host"] ? false : undefined,
    });
    const retry = {
      maxAttempts: parsePositiveInt(values["max-attempts"]!, "--max-attempts"),
      partSize: parseBytes(values["part-size"]!, "--part-size"),
    };
    const open = () => openS3Sink({ ...batching, bucket, connection, retry });
    return {
      open,
      values,
      inFlight: eventsToFill(batching),
      refused: (err) => err instanceof S3SinkError && !err.retriable,
    };
  }
  if (kind === "file") {
    const { values, positionals } = parseFlags("sink file", args, {
      ...BATCHING_FLAGS,
      ...COMMON_FLAGS,
    });
    if (positionals.length !== 1) throw new UsageError("sink file: expected one directory");
    const batching = batchingOptions(values);
    const { openFileSink } = await import("../lib/sinks/file.ts");
    const sink = openFileSink(positionals[0], batching);
    return {
      open: () => Promise.resolve(sink),
      values,
      inFlight: eventsToFill(batching),
    };
  }
  if (kind === "stdout") {
    const { values } = parseFlags("sink stdout", args, COMMON_FLAGS, false);
    const { StdoutSink } = await import("../lib/sinks/stdout.ts");
    const payload = parsePayloadShape(values.payload as string);
    const sink = new StdoutSink({ payload });
    return { open: () => Promise.resolve(sink), values, inFlight: 1000 };
  }
  if (kind === "http") {
    const { values } = parseFlags("sink http", args, { ...HTTP_FLAGS, ...COMMON_FLAGS }, false);
    if (!values.url) throw new UsageError("sink http: --url is required");
    const format = values["http-format"];
    if (format !== "json" && format !== "ndjson") {
      throw new UsageError(`--http-format must be json or ndjson, got '${format}'`);
    }
    const { HttpSink, readHeaders } = await import("../lib/sinks/http.ts");
    const batch = parsePositiveInt(values.batch!, "--batch");
    const sink = new HttpSink({
      url: values.url,
      headers: await readHeaders(values),
      batch,
      batchDelayMs: parseDuration(values["batch-delay"]!, "--batch-delay"),
      format,
      timeoutMs: parseDuration(values.timeout!, "--timeout"),
      maxAttempts: parsePositiveInt(values.retries!, "--retries"),
      payload: parsePayloadShape(values.payload!),
      log: (message) => console.error(`edgepipe sink http: ${message}`),
    });
    return { open: () => Promise.resolve(sink), values, inFlight: batch * 3 };
  }
  throw new UsageError(`sink: unknown target '${kind ?? ""}' (s3, file, http or stdout)`);
}
