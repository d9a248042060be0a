/**
 * `edgepipe sink s3|file|stdout`: the terminal stages that deliver events to objects, files or
 * stdout, and report what they delivered back to the source.
 *
 * @module
 */
import { type ErrorPolicy, parseErrorPolicy } from "../lib/dead_letter.ts";
import { Shutdown } from "../lib/delivery/shutdown.ts";
import { deliverAll } from "../lib/delivery/terminal.ts";
import { describeError } from "../lib/errors.ts";
import { openDeadLetterSink } from "../lib/sinks/dead_letter_sinks.ts";
import type { Sink } from "../lib/sinks/types.ts";
import {
  BUFFER_HELP,
  BufferedSink,
  type BufferedSinkOptions,
  bufferOptions,
} from "../lib/sinks/buffered_sink.ts";
import { type Command, EXIT, parsePositiveInt } from "./_command.ts";
import { observeHelp, stdinItems } from "./_stage_runner.ts";
import { otlpHelp, tracingFor } from "./_tracing.ts";
import { openTarget, type Target, type Values } from "./_sink_targets.ts";
import { type ObservedDelivery, observeDelivery } from "../lib/observe/delivery_observer.ts";
import { parseMetricsPort } from "../lib/observe/serve_metrics.ts";

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
${observeHelp(22)}
                      (with --buffer-dir also: buffered events, bytes, the oldest one's age)
${otlpHelp(22)}
                      (a span per delivered batch, with its destination)

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

/** `--metrics` and `--stats`, with the buffer's gauges when there is one; undefined without both. */
function observeSink(kind: string, values: Values, sink: Sink): ObservedDelivery | undefined {
  const port = values.metrics as string | undefined;
  if (port === undefined && !values.stats) return undefined;
  const observed = observeDelivery(`sink ${kind}`, {
    metricsPort: port === undefined ? undefined : parseMetricsPort(port),
    stats: values.stats as boolean,
  });
  if (sink instanceof BufferedSink) {
    const stats = () => sink.stats();
    observed.gauge(
      "buffered_events",
      "Events stored, not yet forwarded",
      "buffered",
      () => stats().buffered,
    );
    observed.gauge(
      "buffered_bytes",
      "Bytes stored, not yet forwarded",
      "buffered-bytes",
      () => stats().bytes,
    );
    observed.gauge(
      "buffer_oldest_age_seconds",
      "Age of the oldest stored event",
      "oldest-s",
      () => Math.round(stats().oldestAgeMs / 1000),
    );
    observed.gauge(
      "forwarded_events",
      "Events forwarded from the buffer",
      "forwarded",
      () => stats().forwarded,
    );
  }
  observed.start();
  return observed;
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
    const stage = `sink ${kind}`;
    const tracing = await tracingFor(values.otlp as string | undefined, stage);
    const opened = buffer ? await openBuffered(target, buffer) : await target.open();
    const sink = tracing ? tracing.traceSink(opened, stage) : opened;
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
    let observed: ObservedDelivery | undefined;
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
      observed = observeSink(kind, values, opened);
      await deliverAll(items, sink, {
        stage,
        ...(observed ? { observer: observed.observer } : {}),
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
      await observed?.stop();
      shutdown.dispose();
      // After a failure the sink already said why; closing must not replace that message.
      await sink.close().catch((err) => {
        if (!failed) throw err;
      }).finally(() => deadLetters?.close()).finally(() => tracing?.shutdown());
    }
  },
};
