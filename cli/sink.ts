/**
 * `edgepipe sink s3|file|stdout`: the terminal stages that deliver events to objects, files or
 * stdout, and report what they delivered back to the source.
 *
 * @module
 */
import { type ErrorPolicy, parseErrorPolicy } from "../lib/dead_letter.ts";
import { Shutdown } from "../lib/delivery/shutdown.ts";
import { deliverAll } from "../lib/delivery/terminal.ts";
import { describeError, InputError, UsageError } from "../lib/errors.ts";
import type { BatchingOptions } from "../lib/sinks/batching_sink.ts";
import { openDeadLetterSink } from "../lib/sinks/dead_letter_sinks.ts";
import { parseEncoding } from "../lib/sinks/encode.ts";
import { PrefixTemplate } from "../lib/sinks/object_naming.ts";
import { parseBytes } from "../lib/sinks/open_sink.ts";
import { parsePayloadShape } from "../lib/delivered_record.ts";
import type { Sink } from "../lib/sinks/types.ts";
import {
  BUFFER_FLAGS,
  BUFFER_HELP,
  BufferedSink,
  type BufferedSinkOptions,
  bufferOptions,
} from "../lib/sinks/buffered_sink.ts";
import { type Command, EXIT, parseDuration, parseFlags, parsePositiveInt } from "./_command.ts";
import { stdinItems } from "./_stage_runner.ts";
import { StatsLine } from "../lib/observe/stats_line.ts";

const help = `edgepipe sink — deliver events to S3, files, an HTTP endpoint or stdout

Usage:
  edgepipe sink s3 --bucket NAME [--prefix TEMPLATE] [options]
  edgepipe sink file DIR [--prefix TEMPLATE] [options]
  edgepipe sink stdout [options]
  edgepipe sink http --url URL [--batch N] [options]

Events are batched into objects (files) that roll at --max-events, --max-bytes or --max-age,
whichever comes first. Each object is named <prefix><writer>-<sequence>.<format>: a retry writes
the same bytes to the same name and no two batches share one. Events are acknowledged to the
source (edgepipe consume) only once the object holding them is stored (files: fsynced).

Prefix templates: %Y %m %d %H %M %S from the event's eventTime (else publishTime) in UTC, and
{field.path} from the envelope, e.g. 'events/date=%Y-%m-%d/origin={value.origin}/'. An event
without a named field follows --on-error.

Batching options (s3, file):
  --prefix T          object name prefix template (default: none)
  --format F          ndjson | ndjson.gz (default) | ndjson.zst | parquet (also: gzip, zstd)
  --max-events N      events per object (default 10000)
  --max-bytes SIZE    uncompressed bytes per object, e.g. 64MiB (default 16MiB)
  --max-age D         longest wait before an object is written, e.g. 30s (default 10s)
  --writer-id ID      names this writer in object names (default: random per process)
  --concurrency N     objects uploaded at once (default 2)

S3 options (defaults from AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL / S3_ENDPOINT, AWS_REGION;
credentials from the AWS default chain: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY /
AWS_SESSION_TOKEN, the shared config and credentials files (~/.aws, AWS_PROFILE), web identity
(AWS_WEB_IDENTITY_TOKEN_FILE), container and instance metadata):
  --bucket NAME       the bucket (required; checked at start)
  --endpoint URL      an S3-compatible server, e.g. http://127.0.0.1:9000
  --region R          region (default us-east-1)
  --profile NAME      a profile of the shared config/credentials files (env AWS_PROFILE);
                      keys in the environment are then not used
  --access-key-id ID, --secret-access-key K
                      static keys (warned about: a flag's value is visible in the process
                      list); file:<path> reads either from a file
  --virtual-host      virtual-hosted addressing (default: path-style with --endpoint)
  --max-attempts N    tries per object, with exponential backoff (default 6)
  --part-size SIZE    objects above this go up as multipart uploads (default 8MiB)

HTTP options (alerting, webhooks): each batch is POSTed as a JSON array (or NDJSON) and its
events count as delivered when the server answers 2xx; network errors, timeouts, 408, 429 and
5xx are retried with exponential backoff (Retry-After honoured), other 4xx follow --on-error:
  --url URL           the endpoint (required)
  --batch N           events per request (default 100); --batch-delay D (default 200ms)
  --http-format F     json (default) | ndjson
  --timeout D         per request (default 10s); --retries N attempts per batch (default 5)
  --header 'N: V'     a request header (repeatable)
  --header-file N=F   a header whose value is the file's content (tokens: never on the
                      command line); --header-env N=VAR: from an environment variable

${BUFFER_HELP}
                      (s3: a bucket that cannot be reached at start is waited for; a
                      missing one or refused credentials still fail at start)

What each event becomes (all targets; docs/envelope.md, "What a terminal stage delivers"):
  --payload SHAPE     record (default): one JSON object, the value's fields plus what stages
                      added (score, window bounds and aggregates…); value: the value alone;
                      envelope: the whole envelope (id, key, times…, as before this flag);
                      field:<path>: one field, e.g. field:score

Common options:
  --on-error P        fail (default) | skip | dead-letter=<file|s3://…|file:dir|topic>
  --max-in-flight N   events accepted but not yet delivered (default: enough for full batches)
  --max-line-bytes N  longest accepted input line (default 16 MiB)
  --stats             one-line summary on stderr every 5 s and at the end (with --buffer-dir:
                      buffered events, bytes and the oldest one's age)

Examples:
  edgepipe consume persistent://public/default/flights -s archive \\
    | edgepipe sink s3 --bucket lake --prefix 'flights/date=%Y-%m-%d/origin={value.origin}/' \\
        --format parquet --max-age 1m
  edgepipe replay flights.ndjson | edgepipe sink file out/ --format zstd --max-events 50000
  edgepipe consume flights -s keep | edgepipe sink file raw/ --payload envelope --format ndjson
  edgepipe replay flights.ndjson | edgepipe sink s3 --bucket lake --profile analytics
  edgepipe replay flights.ndjson | edgepipe sink s3 --bucket lake --access-key-id AKIA… \\
    --secret-access-key file:/run/secrets/s3-secret
  edgepipe consume alerts -s hook | edgepipe sink http --url https://hooks.example/edge \\
    --header-file 'Authorization=/run/secrets/hook-auth' --batch 20 --buffer-dir /var/spool/hook`;

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
  stats: { type: "boolean", default: false },
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

type Values = Record<string, string | string[] | boolean | undefined>;

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
interface Target {
  open: () => Promise<Sink>;
  values: Values;
  inFlight: number;
  /** An error of `open` no retry can fix. */
  refused?: (err: unknown) => boolean;
}

async function openTarget(kind: string, args: string[]): Promise<Target> {
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
      inFlight: batching.maxEvents! * (batching.maxInFlight! + 1),
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
      inFlight: batching.maxEvents! * (batching.maxInFlight! + 1),
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

/**
 * With a buffer the destination need not answer at start: events are stored until it does. A
 * refusal (a missing bucket, rejected credentials) still ends the run at start.
 */
async function openBuffered(target: Target, buffer: BufferedSinkOptions): Promise<BufferedSink> {
  let first: Sink | undefined;
  try {
    first = await target.open();
  } catch (err) {
    if (target.refused?.(err)) throw err;
    buffer.log(
      `destination unreachable at start (${describeError(err)}); storing events meanwhile`,
    );
  }
  const open = () => {
    const opened = first;
    first = undefined;
    return opened ? Promise.resolve(opened) : target.open();
  };
  return await BufferedSink.open(open, { ...buffer, refused: target.refused });
}

/** `--stats`: events in, delivered (stored, with a buffer) and acknowledged, and the buffer. */
function statsLine(
  kind: string,
  counts: { in: number; out: number; acked: number },
  sink: Sink,
): StatsLine {
  const fields: Record<string, () => number> = {
    in: () => counts.in,
    out: () => counts.out,
    acked: () => counts.acked,
  };
  if (sink instanceof BufferedSink) {
    Object.assign(fields, {
      buffered: () => sink.stats().buffered,
      "buffered-bytes": () => sink.stats().bytes,
      "oldest-s": () => Math.round(sink.stats().oldestAgeMs / 1000),
      forwarded: () => sink.stats().forwarded,
    });
  }
  return new StatsLine(`sink ${kind}`, fields);
}

/** The `sink` command. */
export const command: Command = {
  name: "sink",
  summary: "Deliver events to S3, rolling files or stdout",
  help,
  async run(args) {
    const [kind, ...rest] = args;
    const target = await openTarget(kind, rest);
    const { values, inFlight } = target;
    const buffer = bufferOptions(
      values as Parameters<typeof bufferOptions>[0],
      (message) => console.error(`edgepipe sink ${kind}: ${message}`),
    );
    const sink = buffer ? await openBuffered(target, buffer) : await target.open();
    const stage = `sink ${kind}`;
    let onError: ErrorPolicy;
    try {
      onError = parseErrorPolicy(values["on-error"] as string);
    } catch (err) {
      await sink.close();
      throw err;
    }
    const deadLetters = onError.kind === "dead-letter"
      ? await openDeadLetterSink(onError.target)
      : undefined;
    // The first SIGINT/SIGTERM stops reading and delivers what was read; a second exits at once.
    const shutdown = new Shutdown("sink");
    let failed = false;
    let stats: StatsLine | undefined;
    try {
      const maxLineBytes = values["max-line-bytes"] as string | undefined;
      const items = stdinItems({
        name: stage,
        onError,
        deadLetters,
        maxLineBytes: maxLineBytes === undefined
          ? undefined
          : parsePositiveInt(maxLineBytes, "--max-line-bytes"),
      });
      const maxInFlight = values["max-in-flight"] as string | undefined;
      const counts = { in: 0, out: 0, acked: 0 };
      stats = values.stats ? statsLine(kind, counts, sink) : undefined;
      await deliverAll(items, sink, {
        stage,
        observer: {
          received: () => void counts.in++,
          delivered: () => void counts.out++,
          acknowledged: (n) => void (counts.acked += n),
        },
        onError,
        deadLetters,
        signal: shutdown.signal,
        maxInFlight: maxInFlight === undefined
          ? inFlight
          : parsePositiveInt(maxInFlight, "--max-in-flight"),
      });
      return shutdown.exitCode(EXIT.ok);
    } catch (err) {
      failed = true;
      throw err;
    } finally {
      stats?.stop();
      shutdown.dispose();
      // After a failure the sink already said why; closing must not replace that message.
      await sink.close().catch((err) => {
        if (!failed) throw err;
      }).finally(() => deadLetters?.close());
    }
  },
};
