/**
 * `edgepipe consume <topic…>`: the source stage. Writes messages to stdout as envelopes and, by
 * default, acknowledges a message only when the pipeline's terminal stage reports it delivered.
 *
 * @module
 */
import { endRecord, type Envelope } from "../lib/envelope.ts";
import { UsageError } from "../lib/errors.ts";
import { type DeadLetterSink, FileDeadLetterSink, parseErrorPolicy } from "../lib/dead_letter.ts";
import { BrokenPipeError } from "../lib/ndjson.ts";
import { closeStdout, stdoutIsPipe } from "../lib/delivery/close_stdout.ts";
import { deliverAll } from "../lib/delivery/terminal.ts";
import { Shutdown } from "../lib/delivery/shutdown.ts";
import { parseMetricsPort } from "../lib/observe/serve_metrics.ts";
import { StdoutSink } from "../lib/sinks/stdout.ts";
import { EnvelopeLineSink } from "../lib/sinks/envelope_lines.ts";
import { isTopicTarget, PulsarDeadLetterSink, topicOfTarget } from "../lib/sinks/pulsar.ts";
import { compileFormat } from "../lib/sources/format_string.ts";
import type { PayloadDecoding } from "../lib/sources/message_envelope.ts";
import {
  adminOptions,
  clientOptions,
  CONNECTION_FLAGS,
  CONNECTION_HELP,
} from "../lib/sources/pulsar_connect.ts";
import { DECRYPT_HELP, decryptorFromFiles } from "../lib/sources/encryption_flags.ts";
import {
  type AckMode,
  ConsumeSession,
  type ConsumeSessionOptions,
} from "../lib/sources/consume/consume_session.ts";
import { parseStartPosition } from "../lib/sources/consume/open_receiver.ts";
import { DEFAULT_MAX_UNREPORTED } from "../lib/sources/consume/unreported.ts";
import { PulsarAdmin, PulsarClient, type SubscriptionType } from "../lib/pulsar/mod.ts";
import { parseBytes, parseDuration, parsePositiveInt } from "../lib/units.ts";
import { schemaVersionNumber } from "../lib/schema/schema_types.ts";
import type { SchemaLookup } from "../lib/schema/topic_schemas.ts";
import { type Command, EXIT, parseFlags } from "./_command.ts";
import { MQTT_CONSUME_HELP } from "./_mqtt_help.ts";
import { observeConsume } from "./_consume_observe.ts";

const HELP = `edgepipe consume — read Pulsar topics to stdout (a source stage)

Usage: edgepipe consume <topic…> [options]
       edgepipe consume --pattern <regex> -s <subscription> [options]

Writes one NDJSON envelope per message (docs/envelope.md), or a line in your own format (-f).
By default the first line is a "hello" control record and a message is acknowledged only when
the pipeline's terminal stage (produce, sink…) reports it delivered: kill any process of the pipe
and nothing is lost; what was not acknowledged is redelivered (docs/delivery.md).

Subscription:
  -s, --subscription <name>  durable subscription; without it a non-durable reader is used
                             (one topic, nothing acknowledged)
  --type <t>            exclusive (default) | shared | failover | key_shared
  --pattern <regex>     every topic of a namespace matching, e.g.
                        'persistent://public/default/sensor-.*' (needs -s)
  -o <position>         where to start: earliest (default; also beginning) | latest (also end)
                        | <message id> (from a previous envelope's "id") | s@<epoch ms>.
                        earliest/latest apply when the subscription is new; an id or s@ moves
                        an existing subscription there
  --announce-partitions  write a "partitions" control record first, naming every topic
                        partition read, so that a window behind waits for each partition's
                        watermark from the start (docs/scaling.md); with --type failover the
                        partitions this consumer is active for, again in front of the next
                        event when they change. Not with --pattern or -f
  -e                    exit at the end of the topic(s): read what is there now, then stop
  -c, --count <N>       exit after N messages
                        With -e or -c and --ack downstream, the last line is an "end" control
                        record: the stream really ended (stages behind tell it from a crash)

Output:
  --payload <p>         json (default: parsed when it is JSON, else a string) | string | base64
  --schema <mode>       auto (default): a message written with a schema (AVRO, JSON,
                        PROTOBUF_NATIVE, PROTOBUF, KEY_VALUE, STRING, INT8-64, FLOAT, DOUBLE,
                        BOOLEAN, BYTES, DATE/TIME/TIMESTAMP, INSTANT, LOCAL_*) is decoded with its
                        writer's schema version, looked up from the broker; the envelope's
                        "schema" says which | none: raw payloads as --payload says (as before)
  -f <format>           kcat-style line format instead of envelopes; tokens: %t topic,
                        %p partition, %i (or %o) message id, %k key, %s payload, %S payload
                        bytes, %T publish time, %E event time, %h properties (k=v,…),
                        %r redelivery count, %% percent; escapes \\n \\t. Implies --ack on-write
  --ack <mode>          downstream (default into a pipe): ack what the terminal stage reports
                        on-write (default to a terminal or a file, and with -f): ack once
                        the line is written to stdout (like kcat)
                        none: never ack
  --ack-timeout <d>     at exit, how long to wait for the terminal stage's last reports
                        (default 30s)
  --max-unreported <N>  with --ack downstream: most messages written and not yet reported
                        delivered (default 250000); at the bound reading waits for reports
                        (said once on stderr); nothing is dropped
  --max-unreported-bytes <size>  the same bound in memory (default 64MiB)

Delivery guarantee:
  --guarantee <g>       at-least-once (default) | exactly-once: acknowledge inside Pulsar
                        transactions, one per --txn-interval, announced in-band ("txn" records);
                        the terminal stage (produce) sends inside the same transaction, so every
                        result is on its topic exactly once after any kill -9 (docs/delivery.md).
                        Needs --ack downstream, a broker with transactionCoordinatorEnabled=true
                        and a terminal stage that sends to Pulsar
  --txn-interval <d>    exactly-once: how long one transaction collects messages (default 1s)
  --txn-timeout <d>     exactly-once: the broker aborts a transaction not committed by then
                        (a dead process's); its messages come again (default 60s)

Errors and observing:
  --on-error <policy>   for payloads that cannot be decoded (not UTF-8, corrupt compression,
                        end-to-end encrypted, chunks that cannot be reassembled, a schema
                        version the broker does not have, bytes that do not fit their schema;
                        a dead letter
                        keeps the bytes as received): fail (default) | skip (ack, say it)
                        | dead-letter=<file> | dead-letter=topic:<topic>
  --stats               one-line summary on stderr every 5 s and at the end
  --metrics <port>      Prometheus metrics on 127.0.0.1:<port>/metrics
  --admin-url <url>     with --metrics or --stats: poll the subscription's backlog every 5 s
                        from the broker's admin API (env PULSAR_ADMIN_URL, or webServiceUrl of
                        --client-conf), with the same --token or OAuth2 token, and for https
                        the same --tls-ca/--tls-cert/--tls-key; also where --schema auto looks
                        a schema up when the binary protocol cannot

${DECRYPT_HELP}

${CONNECTION_HELP}

Examples:
  edgepipe consume payments -s audit --decrypt-key keys/payments.pem \\
    --on-error dead-letter=undecryptable.ndjson
  edgepipe consume flights -s scorer | edgepipe score --model models/flight-delay \\
    | edgepipe produce scored
  edgepipe consume flights -o earliest -e -f '%k %s\\n' | head
  edgepipe consume avro-readings -s edge --schema auto | edgepipe filter 'event.value.temp > 30'
  edgepipe consume avro-readings -s raw --schema none --payload base64
  edgepipe consume payments -s billing --guarantee exactly-once \\
    | edgepipe filter 'event.value.amount > 0' | edgepipe produce payments-valid
  edgepipe consume --pattern 'persistent://public/default/sensor-.*' -s edge --ack on-write
  edgepipe consume clicks -s hourly --max-unreported 1000000 \\
    | edgepipe window --key value.page --tumbling 1h --agg 'count()' | edgepipe produce counts
  edgepipe consume flights -s edge --client-conf /etc/pulsar/client.conf   # reuse pulsar-client's
  edgepipe consume flights -s edge --auth-plugin oauth2 \\
    --auth-params '{"issuerUrl":"https://auth.example","privateKey":"file:///etc/creds.json","audience":"urn:pulsar"}'

Exit codes: 0 done (end of topic, count reached, or the reader of stdout went away); 1 broker
unreachable, authentication refused, unknown topic, undecodable payload; 2 usage error;
130/143 stopped by SIGINT/SIGTERM after waiting for the terminal stage's reports.

${MQTT_CONSUME_HELP}`;

/** The `consume` command. */
export const command: Command = {
  name: "consume",
  summary: "Read Pulsar topics to stdout",
  help: HELP,
  run,
};

const TYPES: Record<string, SubscriptionType> = {
  exclusive: "Exclusive",
  shared: "Shared",
  failover: "Failover",
  key_shared: "Key_Shared",
};

/** Flags, checked, as the session and the wiring need them. */
interface ConsumeArgs {
  session: Omit<
    ConsumeSessionOptions,
    "log" | "observer" | "deadLetters" | "keepMessages" | "keepJsonText"
  >;
  values: ReturnType<typeof parseConsumeFlags>["values"];
  format?: ReturnType<typeof compileFormat>;
  ackTimeoutMs: number;
  metricsPort?: number;
}

function parseConsumeFlags(args: string[]) {
  return parseFlags("consume", args, {
    ...CONNECTION_FLAGS,
    subscription: { type: "string", short: "s" },
    type: { type: "string", default: "exclusive" },
    pattern: { type: "string" },
    offset: { type: "string", short: "o", default: "earliest" },
    exit: { type: "boolean", short: "e", default: false },
    count: { type: "string", short: "c" },
    payload: { type: "string", default: "json" },
    schema: { type: "string", default: "auto" },
    format: { type: "string", short: "f" },
    ack: { type: "string" },
    "ack-timeout": { type: "string", default: "30s" },
    guarantee: { type: "string", default: "at-least-once" },
    "txn-interval": { type: "string", default: "1s" },
    "txn-timeout": { type: "string", default: "60s" },
    "max-unreported": { type: "string" },
    "max-unreported-bytes": { type: "string" },
    "on-error": { type: "string", default: "fail" },
    "decrypt-key": { type: "string", multiple: true },
    stats: { type: "boolean", default: false },
    metrics: { type: "string" },
    "admin-url": { type: "string" },
    "announce-partitions": { type: "boolean", default: false },
  });
}

function parseConsumeArgs(args: string[]): ConsumeArgs {
  const { values, positionals: topics } = parseConsumeFlags(args);
  const subscription = values.subscription;
  if (values.pattern === undefined && topics.length === 0) {
    throw new UsageError("consume: name a topic, or --pattern (see --help)");
  }
  if (values.pattern !== undefined && topics.length > 0) {
    throw new UsageError("consume: give topics or --pattern, not both");
  }
  if (subscription === undefined && (values.pattern !== undefined || topics.length > 1)) {
    throw new UsageError("consume: several topics or --pattern need a subscription (-s)");
  }
  const type = TYPES[values.type!.toLowerCase()];
  if (!type) throw new UsageError(`--type must be exclusive, shared, failover or key_shared`);
  const payload = values.payload as PayloadDecoding;
  if (!["json", "string", "base64"].includes(payload)) {
    throw new UsageError(`--payload must be json, string or base64, got '${payload}'`);
  }
  const schema = values.schema as "auto" | "none";
  if (schema !== "auto" && schema !== "none") {
    throw new UsageError(`--schema must be auto or none, got '${schema}'`);
  }
  const format = values.format === undefined ? undefined : compileFormat(values.format);
  if (values["announce-partitions"] && (values.pattern !== undefined || format !== undefined)) {
    throw new UsageError(
      "--announce-partitions writes a control record: not with --pattern or -f",
    );
  }
  // A terminal stage can only exist at the other end of a pipe: to a terminal or a file, acks
  // follow the write, as in kcat.
  const ack = (values.ack ??
    (subscription === undefined
      ? "none"
      : format || !stdoutIsPipe()
      ? "on-write"
      : "downstream")) as AckMode;
  if (!["downstream", "on-write", "none"].includes(ack)) {
    throw new UsageError(`--ack must be downstream, on-write or none, got '${ack}'`);
  }
  if (ack !== "none" && subscription === undefined) {
    throw new UsageError(`--ack ${ack} needs a subscription (-s); a reader cannot acknowledge`);
  }
  if (ack === "downstream" && format) {
    throw new UsageError("-f writes lines for people, not envelopes: use --ack on-write or none");
  }
  const guarantee = values.guarantee!;
  if (guarantee !== "at-least-once" && guarantee !== "exactly-once") {
    throw new UsageError(`--guarantee must be at-least-once or exactly-once, got '${guarantee}'`);
  }
  if (guarantee === "exactly-once" && ack !== "downstream") {
    throw new UsageError(
      `--guarantee exactly-once needs --ack downstream (a subscription and a terminal stage)`,
    );
  }
  const unreported = (flag: string, parse: (t: string, f: string) => number, fallback: number) =>
    values[flag as "max-unreported"] === undefined
      ? fallback
      : parse(values[flag as "max-unreported"]!, `--${flag}`);
  return {
    session: {
      topics,
      pattern: values.pattern,
      subscription,
      type,
      start: parseStartPosition(values.offset!),
      ack,
      exitAtEnd: values.exit,
      limit: values.count === undefined ? Infinity : parsePositiveInt(values.count, "--count"),
      payload,
      schema,
      policy: parseErrorPolicy(values["on-error"]!),
      maxUnreported: {
        messages: unreported("max-unreported", parsePositiveInt, DEFAULT_MAX_UNREPORTED.messages),
        bytes: unreported("max-unreported-bytes", parseBytes, DEFAULT_MAX_UNREPORTED.bytes),
      },
      guarantee,
      txnIntervalMs: parseDuration(values["txn-interval"]!, "--txn-interval"),
      txnTimeoutMs: parseDuration(values["txn-timeout"]!, "--txn-timeout"),
    },
    values,
    format,
    ackTimeoutMs: parseDuration(values["ack-timeout"]!, "--ack-timeout"),
    metricsPort: values.metrics === undefined ? undefined : parseMetricsPort(values.metrics),
  };
}

/** With an admin URL, schemas the binary protocol cannot fetch come from the REST API. */
function schemaFallback(
  values: ReturnType<typeof parseConsumeArgs>["values"],
): { schemaFallback?: SchemaLookup } {
  const adminUrl = values["admin-url"] ?? Deno.env.get("PULSAR_ADMIN_URL");
  if (adminUrl === undefined || values.schema === "none") return {};
  let admin: Promise<PulsarAdmin> | undefined;
  return {
    schemaFallback: async (topic, version) => {
      admin ??= adminOptions(adminUrl, values).then((o) => new PulsarAdmin(o));
      return await (await admin).getSchema(topic, schemaVersionNumber(version));
    },
  };
}

async function run(args: string[]): Promise<number> {
  if (args.some((arg) => arg.startsWith("mqtt://") || arg.startsWith("mqtts://"))) {
    return (await import("./_consume_mqtt.ts")).runMqttConsume(args);
  }
  const parsed = parseConsumeArgs(args);
  const { format, ackTimeoutMs } = parsed;
  const decryptor = await decryptorFromFiles(parsed.values["decrypt-key"] ?? []);
  const o = { ...parsed.session, ...(decryptor ? { decryptor } : {}) };
  const options = await clientOptions(
    parsed.values,
    undefined,
    (t) => parseDuration(t, "--connect-timeout"),
  );
  const log = (message: string) => console.error(`edgepipe consume: ${message}`);
  const observed = await observeConsume({
    values: parsed.values,
    topics: o.topics,
    subscription: o.subscription,
    pattern: o.pattern,
    metricsPort: parsed.metricsPort,
  }, log);

  const shutdown = new Shutdown("consume");
  const client = new PulsarClient(options);
  let session: ConsumeSession | undefined;
  let deadLetters: DeadLetterSink | undefined;
  let brokenPipe = false;
  try {
    const policy = o.policy!;
    if (policy.kind === "dead-letter") {
      deadLetters = isTopicTarget(policy.target)
        ? new PulsarDeadLetterSink(client, topicOfTarget(policy.target))
        : new FileDeadLetterSink(policy.target);
    }
    const opened = session = await ConsumeSession.open(client, {
      ...o,
      ...schemaFallback(parsed.values),
      deadLetters,
      keepMessages: format !== undefined || o.ack === "on-write",
      keepJsonText: format === undefined,
      log,
      observer: observed.observer,
    });
    observed.startBacklog();
    const sink = format
      ? new StdoutSink({
        format: (event) => format(event, opened.messageOf(event)?.payload.length ?? 0),
        separator: "",
      })
      : new EnvelopeLineSink();
    opened.controlWriter = (record) => sink.send(record as unknown as Envelope);
    const hello = opened.hello();
    if (hello) await sink.send(hello as unknown as Envelope);
    const announced = parsed.values["announce-partitions"] ? opened.partitionsRecord() : undefined;
    if (announced) await sink.send(announced as unknown as Envelope);
    try {
      const report = await deliverAll(
        announced ? announcing(opened, sink) : opened.envelopes(),
        sink,
        {
          stage: "consume",
          signal: shutdown.signal,
          observer: {
            delivered: (event) => {
              observed.written.inc();
              opened.written();
              if (o.ack === "on-write") opened.ack(opened.messageOf(event) ?? event.id!);
            },
          },
        },
      );
      // The end of the stream is said, not inferred from EOF: a stage behind us that sees EOF
      // without it takes it for a failure upstream (docs/envelope.md).
      if (hello && opened.finished && !report.interrupted) {
        await sink.send(endRecord("consume") as unknown as Envelope);
        await sink.flush();
      }
    } catch (err) {
      if (!(err instanceof BrokenPipeError)) throw err;
      brokenPipe = true;
    }
    return shutdown.exitCode(EXIT.ok);
  } finally {
    if (session?.hello()) {
      // EOF tells the terminal stage that nothing more comes; then let it report the rest.
      // Without EOF (stdout is not a pipe, or could not be closed) the terminal cannot finish
      // while we live: take the reports already in flight and go.
      const closed = closeStdout();
      const outcome = await session.close({
        timeoutMs: closed ? ackTimeoutMs : Math.min(ackTimeoutMs, 1000),
        connectWithinMs: brokenPipe || !closed ? 0 : Math.min(ackTimeoutMs, 5000),
      });
      if (outcome === "timeout") {
        log(
          `the terminal stage did not finish within --ack-timeout; ` +
            `${observed.unacknowledged()} message(s) stay unacknowledged and will be redelivered`,
        );
      }
    } else await session?.close();
    await observed.stop();
    shutdown.dispose();
    await deadLetters?.close().catch(() => {});
    await client.close().catch(() => {});
  }
}

/**
 * The session's envelopes, each preceded by a new `partitions` record when the partitions that
 * come here changed (a Failover subscription's active ones). Written to the sink directly, in
 * order: the terminal delivery that writes the envelopes passes control records by.
 */
async function* announcing(
  session: ConsumeSession,
  sink: { send(event: Envelope): Promise<void> },
): AsyncGenerator<Envelope> {
  for await (const envelope of session.envelopes()) {
    const changed = session.assignmentChanged();
    if (changed) await sink.send(changed as unknown as Envelope);
    yield envelope;
  }
}
