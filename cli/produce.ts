/**
 * `edgepipe produce <topic>`: the terminal stage that writes stdin to a Pulsar topic and reports
 * what the broker acknowledged back to `edgepipe consume` over the ack channel.
 *
 * @module
 */
import { ackRecord, type Envelope, isControl, type Item } from "../lib/envelope.ts";
import { describeError, InputError, UsageError } from "../lib/errors.ts";
import {
  deadLetterOf,
  deadLetterOfLine,
  type DeadLetterSink,
  type ErrorPolicy,
  FileDeadLetterSink,
  parseErrorPolicy,
} from "../lib/dead_letter.ts";
import { BadLine, DEFAULT_MAX_LINE_BYTES, NdjsonReader } from "../lib/ndjson.ts";
import { deliverAll } from "../lib/delivery/terminal.ts";
import { Shutdown } from "../lib/delivery/shutdown.ts";
import { reportClientStatus } from "../lib/observe/client_status_log.ts";
import { Metrics } from "../lib/observe/metrics.ts";
import { parseMetricsPort, serveMetrics } from "../lib/observe/serve_metrics.ts";
import { OTLP_FLAGS, otlpHelp, tracingFor } from "./_tracing.ts";
import { StatsLine } from "../lib/observe/stats_line.ts";
import { clientOptions, CONNECTION_FLAGS, CONNECTION_HELP } from "../lib/sources/pulsar_connect.ts";
import {
  ENCRYPT_HELP,
  encryptorFromFiles,
  parseEncryptKeySpecs,
} from "../lib/sources/encryption_flags.ts";
import {
  EncodeError,
  isTopicTarget,
  type PayloadEncoding,
  PulsarDeadLetterSink,
  PulsarSink,
  type Routing,
  topicOfTarget,
} from "../lib/sinks/pulsar.ts";
import { type Compression, PulsarClient } from "../lib/pulsar/mod.ts";
import { parsePayloadShape, type PayloadShape } from "../lib/delivered_record.ts";
import { parseProducerSchema } from "../lib/schema/producer_schema_spec.ts";
import { type Command, EXIT, parseDuration, parseFlags, parsePositiveInt } from "./_command.ts";

import { MQTT_PRODUCE_HELP } from "./_mqtt_help.ts";
import {
  BUFFER_FLAGS,
  BUFFER_HELP,
  BufferedSink,
  bufferOptions,
} from "../lib/sinks/buffered_sink.ts";
const HELP = `edgepipe produce — write stdin to a Pulsar topic (a terminal stage)

Usage: edgepipe produce <topic> [options]

Reads envelopes (or plain JSON, or plain lines) from stdin and produces one message per event.
As the last stage of a pipeline started by 'edgepipe consume', it reports every event the broker
acknowledged back to consume, which only then acknowledges the source message: a crash anywhere
loses nothing (see docs/delivery.md).

Input:
  --input <kind>        envelope (default): NDJSON envelopes; objects without "value" are the
                        value; control records steer acknowledgements
                        json: every line is a JSON value to send
                        lines: every line is sent as text
  --payload <shape>     what a message holds (docs/envelope.md, "What a terminal stage delivers"):
                        record (default): the value's fields plus what stages added (score,
                          window bounds, aggregates…); the value as it is when nothing was added
                        value: the value only;  envelope: the whole envelope as JSON
                        field:<path>: one field of the envelope, e.g. field:score
  --encoding <enc>      auto (default): a string payload as it is, others as JSON
                        json: always JSON;  base64: the payload is base64 of the bytes
                        (the older --payload auto|json|base64 still work: they mean
                        --payload value --encoding <enc>, the value alone, as they used to)
  --max-line-bytes <N>  longest accepted input line (default ${DEFAULT_MAX_LINE_BYTES})
  --schema <s>          encode each payload with a Pulsar schema, registered (or checked) with
                        the broker when the producer is created (incompatible: one line with
                        the broker's reason, exit 1); a payload that does not fit follows
                        --on-error, never half-encoded (docs/schemas.md):
                        avro:<file.avsc> | json:<file> (an Avro record definition)
                        | protobuf-native:<descriptor set>:<message> | string
                        | auto (the topic's latest schema)

Message fields:
  --key <k>             one key for every message (default: the envelope's key)
  --key-field <path>    key from this field of the value (e.g. origin or user.id)
  --time-field <path>   event time from this field of the value (epoch ms or ISO-8601;
                        default: the envelope's eventTime)
  --property <k=v>      add a property to every message (repeatable)

Producer:
  --compression <c>     none | lz4 | zlib | zstd | snappy (default none)
  --batching <b>        key (default): a batch holds consecutive messages of one key, so
                        consumers of a key_shared subscription each get whole keys and the
                        topic keeps the input's order (docs/scaling.md)
                        key-grouped: a batch holds every message of one key sent together
                        (fuller batches when keys interleave; order kept per key only, as
                        the Java client's KEY_BASED batcher)
                        default: messages sent together share a batch whatever their keys
                        off: one message per entry
  --batch-max-messages <N>  messages per batch (default 1000; 1 turns batching off)
  --batch-delay <d>     longest a message waits for its batch (default 1ms)
  --routing <r>         java-hash (default, same partition as Java clients) | murmur3 |
                        round-robin (spread over partitions, ignoring keys)
  --max-in-flight <N>   messages awaiting the broker before reading more (default 1000)
  --producer-name <n>   a stable name lets the broker deduplicate resends
  --send-timeout <d>    give up on a message the broker has not acknowledged after this long
                        (the event fails; exit 1 under --on-error fail). Default none: while
                        the broker is away, sends wait for it to come back and input waits
                        behind them (one line on stderr when it starts, one when it is back)
  --chunking            send a message larger than the broker's maximum message size as
                        chunks that consumers (edgepipe's, Java's) reassemble; turns batching off

  --guarantee <g>       at-least-once (default) | exactly-once: refuse events that no "txn"
                        record placed in a transaction. Either way, when the source is
                        consume --guarantee exactly-once, events are sent inside its
                        transactions and become visible when it commits (docs/delivery.md)

Errors and observing:
  --on-error <policy>   fail (default) | skip | dead-letter=<file> | dead-letter=topic:<topic>
  --stats               one-line summary on stderr every 5 s and at the end
  --metrics <port>      Prometheus metrics on 127.0.0.1:<port>/metrics
${otlpHelp(24)}

${ENCRYPT_HELP}
${BUFFER_HELP}
                        (with --stats: buffered events, bytes and the oldest one's age)

${CONNECTION_HELP}

Examples:
  edgepipe consume in -s copy | edgepipe produce out --compression zstd
  edgepipe replay payments.ndjson | edgepipe produce payments \\
    --encrypt-key audit=keys/audit.pub.pem --encrypt-key backup=keys/backup.pub.pem
  edgepipe replay flights.parquet --key origin | edgepipe produce flights
  edgepipe score --model models/flight-delay <in.ndjson | edgepipe produce scored
  edgepipe score --model models/flight-delay <in.ndjson | edgepipe produce risk --payload field:score
  edgepipe consume raw -e --payload base64 | edgepipe produce copy --encoding base64
  edgepipe replay readings.ndjson | edgepipe produce readings --schema avro:reading.avsc \\
    --on-error dead-letter=rejected.ndjson
  printf 'a\\nb\\n' | edgepipe produce notes --input lines --key note
  edgepipe replay in.ndjson | edgepipe produce out --client-conf /etc/pulsar/client.conf
  edgepipe replay in.ndjson | edgepipe produce out --send-timeout 5m   # fail after 5 min away
  edgepipe replay flights.ndjson --key origin | edgepipe produce flights --batching key-grouped
  edgepipe consume in -s copy --guarantee exactly-once | edgepipe produce out \\
    --guarantee exactly-once
  edgepipe consume scans -s copy --payload base64 | edgepipe produce scans-copy --encoding base64 \\
    --chunking

Exit codes: 0 every event acknowledged by the broker (or dead-lettered); 1 an event failed or was
skipped, bad input, broker unreachable, authentication refused; 2 usage error; 130/143 stopped by
SIGINT/SIGTERM after draining (everything read was delivered and reported).

${MQTT_PRODUCE_HELP}`;

/** The `produce` command. */
export const command: Command = {
  name: "produce",
  summary: "Write stdin to a Pulsar topic",
  help: HELP,
  run,
};

const COMPRESSIONS = ["none", "lz4", "zlib", "zstd", "snappy"];
const ROUTINGS = ["java-hash", "murmur3", "round-robin"];
const ENCODINGS = ["auto", "json", "base64"];
const BATCHINGS = ["key", "key-grouped", "default", "off"];

async function run(args: string[]): Promise<number> {
  if (args.some((arg) => arg.startsWith("mqtt://") || arg.startsWith("mqtts://"))) {
    return (await import("./_produce_mqtt.ts")).runMqttProduce(args);
  }
  const { values, positionals } = parseFlags("produce", args, {
    ...CONNECTION_FLAGS,
    input: { type: "string", default: "envelope" },
    payload: { type: "string", default: "record" },
    encoding: { type: "string" },
    "max-line-bytes": { type: "string" },
    key: { type: "string" },
    "key-field": { type: "string" },
    "time-field": { type: "string" },
    property: { type: "string", multiple: true },
    compression: { type: "string", default: "none" },
    "encrypt-key": { type: "string", multiple: true },
    batching: { type: "string" },
    "batch-max-messages": { type: "string" },
    "batch-delay": { type: "string" },
    routing: { type: "string", default: "java-hash" },
    "max-in-flight": { type: "string" },
    "producer-name": { type: "string" },
    "send-timeout": { type: "string", default: "none" },
    guarantee: { type: "string", default: "at-least-once" },
    chunking: { type: "boolean", default: false },
    schema: { type: "string" },
    "on-error": { type: "string", default: "fail" },
    stats: { type: "boolean", default: false },
    metrics: { type: "string" },
    ...OTLP_FLAGS,
    ...BUFFER_FLAGS,
  });
  if (positionals.length !== 1) {
    throw new UsageError("produce: name exactly one topic (see --help)");
  }
  const topic = positionals[0];
  const input = oneOf("--input", values.input!, ["envelope", "json", "lines"]);
  const { payload, encoding } = payloadFlags(values.payload!, values.encoding);
  const compression = oneOf("--compression", values.compression!, COMPRESSIONS);
  const routing = oneOf("--routing", values.routing!, ROUTINGS) as Routing;
  if (values.key !== undefined && values["key-field"] !== undefined) {
    throw new UsageError("--key and --key-field cannot be combined");
  }
  const properties: Record<string, string> = {};
  for (const pair of values.property ?? []) {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new UsageError(`--property: expected key=value, got '${pair}'`);
    properties[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  const maxLineBytes = values["max-line-bytes"] === undefined
    ? DEFAULT_MAX_LINE_BYTES
    : parsePositiveInt(values["max-line-bytes"], "--max-line-bytes");
  const maxInFlight = values["max-in-flight"] === undefined
    ? 1000
    : parsePositiveInt(values["max-in-flight"], "--max-in-flight");
  const policy = parseErrorPolicy(values["on-error"]!);
  const guarantee = values.guarantee!;
  if (guarantee !== "at-least-once" && guarantee !== "exactly-once") {
    throw new UsageError(`--guarantee must be at-least-once or exactly-once, got '${guarantee}'`);
  }
  const sendTimeoutMs = values["send-timeout"] === "none"
    ? 0
    : parseDuration(values["send-timeout"]!, "--send-timeout");
  const encryption = await encryptorFromFiles(parseEncryptKeySpecs(values["encrypt-key"] ?? []));
  const options = await clientOptions(
    values,
    undefined,
    (t) => parseDuration(t, "--connect-timeout"),
  );
  const metricsPort = values.metrics === undefined ? undefined : parseMetricsPort(values.metrics);

  const batchMaxMessages = values["batch-max-messages"] === undefined
    ? undefined
    : parsePositiveInt(values["batch-max-messages"], "--batch-max-messages");
  if (values.chunking && batchMaxMessages !== undefined && batchMaxMessages > 1) {
    throw new UsageError("--chunking turns batching off: drop --batch-max-messages");
  }
  const batching = values.batching ?? "key";
  if (!BATCHINGS.includes(batching)) {
    throw new UsageError(`--batching must be key, key-grouped, default or off, not "${batching}"`);
  }
  if (values.chunking && values.batching !== undefined && batching !== "off") {
    throw new UsageError("--chunking turns batching off: drop --batching or say --batching off");
  }
  const batchDelayMs = values["batch-delay"] === undefined
    ? undefined
    : parseDuration(values["batch-delay"], "--batch-delay");

  const schemaSpec = values.schema === undefined ? undefined : parseProducerSchema(values.schema);
  reportClientStatus("produce");
  const tracing = await tracingFor(values.otlp, "produce");
  const client = new PulsarClient(options);
  const shutdown = new Shutdown("produce");
  let sink: PulsarSink | BufferedSink | undefined;
  let deadLetters: DeadLetterSink | undefined;
  let stopMetrics: (() => Promise<void>) | undefined;
  let stats: StatsLine | undefined;
  try {
    // The schema libraries load only when a schema is asked for.
    const schema = schemaSpec &&
      await (await import("../lib/schema/producer_schema.ts")).loadProducerSchema(
        schemaSpec,
        topic,
        client,
      );
    const log = (message: string) => console.error(`edgepipe produce: ${message}`);
    const buffer = bufferOptions(values, log);
    const open = () =>
      PulsarSink.open(client, {
        topic,
        ...(schema ? { schema } : {}),
        payload,
        encoding,
        ...(values.key !== undefined ? { key: values.key } : {}),
        ...(values["key-field"] !== undefined ? { keyField: values["key-field"] } : {}),
        ...(values["time-field"] !== undefined ? { timeField: values["time-field"] } : {}),
        properties,
        compression: compression.toUpperCase() as Compression,
        ...(encryption ? { encryption } : {}),
        ...(batchMaxMessages !== undefined ? { batchMaxMessages } : {}),
        ...(values.chunking
          ? {}
          : { batching: batching as "key" | "key-grouped" | "default" | "off" }),
        ...(batchDelayMs !== undefined ? { batchDelayMs } : {}),
        routing,
        ...(values["producer-name"] ? { producerName: values["producer-name"] } : {}),
        sendTimeoutMs,
        log,
        ...(values.chunking ? { chunking: true } : {}),
      });
    // With a buffer the destination is opened by the forwarder, when it can be reached.
    const buffered = buffer ? await BufferedSink.open(open, buffer) : undefined;
    sink = buffered ?? await open();
    if (policy.kind === "dead-letter") {
      deadLetters = isTopicTarget(policy.target)
        ? new PulsarDeadLetterSink(client, topicOfTarget(policy.target))
        : new FileDeadLetterSink(policy.target);
    }

    const metrics = new Metrics("produce");
    reportClientStatus("produce", metrics, log);
    const eventsIn = metrics.counter("events_in_total", "Events read from stdin");
    const eventsOut = metrics.counter("events_out_total", "Events acknowledged by the broker");
    const acks = metrics.counter("acks_total", "Source ids reported back over the ack channel");
    const errors = metrics.counter("errors_total", "Events that failed, skipped or dead-lettered");
    // Sends the broker confirms together settle in the same turn of the event loop: counting
    // those turns gives the batches, and events_out_total / batches_total their mean size.
    const batches = metrics.counter(
      "batches_total",
      "Broker receipts (batches) that settled sends",
    );
    const lastBatch = metrics.gauge("last_batch_size", "Events confirmed by the latest receipt");
    let settling = 0;
    const settled = () => {
      if (settling++ === 0) {
        setTimeout(() => {
          batches.inc();
          lastBatch.set(settling);
          settling = 0;
        }, 0);
      }
    };
    metrics.gauge(
      "in_flight",
      "Events sent and not yet acknowledged by the broker",
      () => eventsIn.value - eventsOut.value - errors.value,
    );
    if (metricsPort !== undefined) stopMetrics = serveMetrics(metrics, metricsPort);
    if (values.stats) {
      stats = new StatsLine("produce", {
        in: () => eventsIn.value,
        out: () => eventsOut.value,
        acked: () => acks.value,
        errors: () => errors.value,
        ...(buffered
          ? {
            buffered: () => buffered.stats().buffered,
            "buffered-bytes": () => buffered.stats().bytes,
            "oldest-s": () => Math.round(buffered.stats().oldestAgeMs / 1000),
          }
          : {}),
      });
    }

    const inputSkips = { count: 0 };
    const items = readInput(input as InputKind, sink, {
      maxLineBytes,
      policy,
      deadLetters,
      inputSkips,
    });
    const report = await deliverAll(items, tracing ? tracing.traceSink(sink, "produce") : sink, {
      stage: "produce",
      requireTransaction: guarantee === "exactly-once",
      onError: policy,
      ...(deadLetters ? { deadLetters } : {}),
      maxInFlight,
      signal: shutdown.signal,
      observer: {
        received: () => eventsIn.inc(),
        delivered: () => {
          eventsOut.inc();
          settled();
        },
        rejected: () => errors.inc(),
        acknowledged: (n) => acks.inc(n),
      },
    });
    const skipped = report.skipped + inputSkips.count;
    if (skipped > 0) {
      console.error(`edgepipe produce: ${skipped} event(s) skipped, not produced`);
      return shutdown.exitCode(EXIT.failure);
    }
    return shutdown.exitCode(EXIT.ok);
  } finally {
    stats?.stop();
    shutdown.dispose();
    await sink?.close().catch((err) =>
      console.error(`edgepipe produce: closing the producer: ${describeError(err)}`)
    );
    await deadLetters?.close().catch(() => {});
    await client.close().catch(() => {});
    await stopMetrics?.();
    await tracing?.shutdown();
  }
}

type InputKind = "envelope" | "json" | "lines";

interface InputOptions {
  maxLineBytes: number;
  policy: ErrorPolicy;
  deadLetters?: DeadLetterSink;
  inputSkips: { count: number };
}

/**
 * Stdin as items. Lines that do not parse, and events that cannot become a message (checked here
 * so the error names the line), follow the policy; a rejected event's id is acknowledged in-band
 * (skip, dead letter) so the source does not redeliver it for ever.
 */
async function* readInput(
  kind: InputKind,
  sink: PulsarSink | BufferedSink,
  options: InputOptions,
): AsyncGenerator<Item> {
  const mode = kind === "lines" ? "text" : kind === "json" ? "json" : "item";
  const reader = new NdjsonReader(Deno.stdin, { maxLineBytes: options.maxLineBytes, mode });
  for (let batch = await reader.next(); batch !== null; batch = await reader.next()) {
    const { values, numbers, texts } = batch;
    for (let i = 0; i < values.length; i++) {
      const value = values[i];
      if (value instanceof BadLine) {
        await reject(value.error, undefined, value, options);
        continue;
      }
      const item = (kind === "envelope" ? value : { value }) as Item;
      if (!isControl(item)) {
        try {
          if (sink instanceof PulsarSink) sink.prepare(item);
        } catch (err) {
          if (!(err instanceof EncodeError)) throw err;
          const error = new InputError(err.message, { line: numbers[i] });
          await reject(error, item, texts[i], options);
          if (item.id) yield ackRecord([item.id]);
          continue;
        }
      }
      yield item;
    }
  }
}

async function reject(
  error: InputError,
  event: Envelope | undefined,
  raw: string | BadLine,
  options: Omit<InputOptions, "maxLineBytes">,
): Promise<void> {
  if (options.policy.kind === "fail") throw error;
  if (options.deadLetters) {
    await options.deadLetters.write(
      raw instanceof BadLine
        ? deadLetterOfLine("produce", raw)
        : deadLetterOf("produce", error, event, raw),
    );
    return;
  }
  options.inputSkips.count++;
  console.error(`edgepipe produce: skipped: ${error.message}`);
}

/**
 * `--payload <shape>` and `--encoding <enc>`. The encodings were once `--payload` values; they
 * still are, meaning the value alone in that encoding, as then.
 */
function payloadFlags(
  payloadText: string,
  encodingText: string | undefined,
): { payload: PayloadShape; encoding: PayloadEncoding } {
  const encoding = oneOf("--encoding", encodingText ?? "auto", ENCODINGS) as PayloadEncoding;
  if (!ENCODINGS.includes(payloadText)) {
    return { payload: parsePayloadShape(payloadText), encoding };
  }
  if (encodingText !== undefined) {
    throw new UsageError(
      `--payload ${payloadText} is the old spelling of --encoding; give only --encoding`,
    );
  }
  console.error(
    `edgepipe produce: --payload ${payloadText} is deprecated: it sends the value alone; ` +
      `say --payload value --encoding ${payloadText} (or --encoding alone to keep scores)`,
  );
  return { payload: { kind: "value" }, encoding: payloadText as PayloadEncoding };
}

function oneOf(flag: string, value: string, allowed: string[]): string {
  if (!allowed.includes(value)) {
    throw new UsageError(`${flag} must be one of ${allowed.join(", ")}, got '${value}'`);
  }
  return value;
}
