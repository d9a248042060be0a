/**
 * `edgepipe consume <topic…>`: the source stage. Writes messages to stdout as envelopes and, by
 * default, acknowledges a message only when the pipeline's terminal stage reports it delivered.
 *
 * @module
 */
import { endRecord, type Envelope, type Item } from "../lib/envelope.ts";
import { describeError, UsageError } from "../lib/errors.ts";
import {
  deadLetterOf,
  type DeadLetterSink,
  FileDeadLetterSink,
  parseErrorPolicy,
} from "../lib/dead_letter.ts";
import { BrokenPipeError } from "../lib/ndjson.ts";
import { AckServer } from "../lib/delivery/ack_server.ts";
import { closeStdout, stdoutIsPipe } from "../lib/delivery/close_stdout.ts";
import { deliverAll } from "../lib/delivery/terminal.ts";
import { Shutdown } from "../lib/delivery/shutdown.ts";
import { Metrics } from "../lib/observe/metrics.ts";
import { parseMetricsPort, serveMetrics } from "../lib/observe/serve_metrics.ts";
import { StatsLine } from "../lib/observe/stats_line.ts";
import { StdoutSink } from "../lib/sinks/stdout.ts";
import { isTopicTarget, PulsarDeadLetterSink, topicOfTarget } from "../lib/sinks/pulsar.ts";
import { EndOfTopic, type Receiver } from "../lib/sources/end_of_topic.ts";
import { MergedReceiver } from "../lib/sources/merged_receiver.ts";
import { compileFormat } from "../lib/sources/format_string.ts";
import {
  messageEnvelope,
  type PayloadDecoding,
  PayloadError,
} from "../lib/sources/message_envelope.ts";
import {
  adminOptions,
  clientOptions,
  CONNECTION_FLAGS,
  CONNECTION_HELP,
} from "../lib/sources/pulsar_connect.ts";
import {
  type Message,
  type MessageConsumer,
  MessageId,
  PulsarAdmin,
  PulsarClient,
  type SubscriptionType,
} from "../lib/pulsar/mod.ts";
import { type Command, EXIT, parseDuration, parseFlags, parsePositiveInt } from "./_command.ts";

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
  -e                    exit at the end of the topic(s): read what is there now, then stop
  -c, --count <N>       exit after N messages
                        With -e or -c and --ack downstream, the last line is an "end" control
                        record: the stream really ended (stages behind tell it from a crash)

Output:
  --payload <p>         json (default: parsed when it is JSON, else a string) | string | base64
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

Errors and observing:
  --on-error <policy>   for payloads that cannot be decoded: fail (default) | skip (ack, say it)
                        | dead-letter=<file> | dead-letter=topic:<topic>
  --stats               one-line summary on stderr every 5 s and at the end
  --metrics <port>      Prometheus metrics on 127.0.0.1:<port>/metrics
  --admin-url <url>     with --metrics or --stats: poll the subscription's backlog every 5 s
                        from the broker's admin API (env PULSAR_ADMIN_URL), with the same
                        --token, and for https the same --tls-ca/--tls-cert/--tls-key

${CONNECTION_HELP}

Examples:
  edgepipe consume flights -s scorer | edgepipe score --model models/flight-delay \\
    | edgepipe produce scored
  edgepipe consume flights -o earliest -e -f '%k %s\\n' | head
  edgepipe consume --pattern 'persistent://public/default/sensor-.*' -s edge --ack on-write

Exit codes: 0 done (end of topic, count reached, or the reader of stdout went away); 1 broker
unreachable, authentication refused, unknown topic, undecodable payload; 2 usage error;
130/143 stopped by SIGINT/SIGTERM after waiting for the terminal stage's reports.`;

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

type AckMode = "downstream" | "on-write" | "none";

/** A subscription or a reader, seen the same way. */
interface Source extends Receiver {
  ack?(target: string | Message): void;
  flushAcks?(): Promise<void>;
  close(): Promise<void>;
}

async function run(args: string[]): Promise<number> {
  const { values, positionals: topics } = parseFlags("consume", args, {
    ...CONNECTION_FLAGS,
    subscription: { type: "string", short: "s" },
    type: { type: "string", default: "exclusive" },
    pattern: { type: "string" },
    offset: { type: "string", short: "o", default: "earliest" },
    exit: { type: "boolean", short: "e", default: false },
    count: { type: "string", short: "c" },
    payload: { type: "string", default: "json" },
    format: { type: "string", short: "f" },
    ack: { type: "string" },
    "ack-timeout": { type: "string", default: "30s" },
    "on-error": { type: "string", default: "fail" },
    stats: { type: "boolean", default: false },
    metrics: { type: "string" },
    "admin-url": { type: "string" },
  });
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
  const format = values.format === undefined ? undefined : compileFormat(values.format);
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
  const start = parseOffset(values.offset!);
  const limit = values.count === undefined ? Infinity : parsePositiveInt(values.count, "--count");
  const ackTimeoutMs = parseDuration(values["ack-timeout"]!, "--ack-timeout");
  const policy = parseErrorPolicy(values["on-error"]!);
  const metricsPort = values.metrics === undefined ? undefined : parseMetricsPort(values.metrics);
  const options = await clientOptions(
    values,
    undefined,
    (t) => parseDuration(t, "--connect-timeout"),
  );

  const metrics = new Metrics("consume");
  const received = metrics.counter("events_in_total", "Messages received from the broker");
  const written = metrics.counter("events_out_total", "Envelopes written to stdout");
  const acked = metrics.counter("acks_total", "Messages acknowledged at the broker");
  const errors = metrics.counter("errors_total", "Messages that could not be decoded");
  metrics.gauge(
    "unacknowledged",
    "Messages written and not yet acknowledged (the pipeline's lag behind this source)",
    () => written.value - acked.value,
  );
  const adminUrl = values["admin-url"] ?? Deno.env.get("PULSAR_ADMIN_URL");
  const watchBacklog = adminUrl !== undefined && subscription !== undefined &&
    values.pattern === undefined && (values.stats || metricsPort !== undefined);
  const backlog = watchBacklog
    ? metrics.gauge("subscription_backlog", "Messages the broker holds for the subscription")
    : undefined;
  backlog?.set(NaN); // unknown until the first poll answers
  const stopMetrics = metricsPort === undefined ? undefined : serveMetrics(metrics, metricsPort);
  const stats = values.stats
    ? new StatsLine("consume", {
      in: () => received.value,
      out: () => written.value,
      acked: () => acked.value,
      errors: () => errors.value,
      ...(backlog ? { backlog: () => backlog.value } : {}),
    })
    : undefined;
  const stopBacklog = backlog
    ? pollBacklog(
      new PulsarAdmin(await adminOptions(adminUrl!, values)),
      topics,
      subscription!,
      (n) => backlog.set(n),
    )
    : undefined;

  const shutdown = new Shutdown("consume");
  const client = new PulsarClient(options);
  let source: Source | undefined;
  let server: AckServer | undefined;
  let deadLetters: DeadLetterSink | undefined;
  let brokenPipe = false;
  let noTerminalTimer: ReturnType<typeof setTimeout> | undefined;
  try {
    source = await openSource(client, {
      topics,
      pattern: values.pattern,
      subscription,
      type,
      start,
    });
    if (policy.kind === "dead-letter") {
      deadLetters = isTopicTarget(policy.target)
        ? new PulsarDeadLetterSink(client, topicOfTarget(policy.target))
        : new FileDeadLetterSink(policy.target);
    }
    const ackId = (target: string | Message) => {
      try {
        source!.ack!(target);
        acked.inc();
      } catch (err) {
        const id = typeof target === "string" ? target : target.id.toString();
        console.error(`edgepipe consume: cannot acknowledge ${id}: ${describeError(err)}`);
      }
    };

    // The message behind each envelope, for -f's payload size and on-write acks without
    // parsing the id back.
    const messages = new WeakMap<Envelope, Message>();
    const sink = new StdoutSink(
      format
        ? {
          format: (event) => format(event, messages.get(event)?.payload.length ?? 0),
          separator: "",
        }
        : {},
    );
    // Ids written and not yet reported: acknowledging the Message itself spares parsing the id.
    const unreported = new Map<string, Message>();
    if (ack === "downstream") {
      server = await AckServer.listen({
        source: "consume",
        onAck: (id) => {
          const msg = unreported.get(id);
          if (msg) unreported.delete(id);
          ackId(msg ?? id);
        },
      });
      await sink.send(server.hello() as unknown as Envelope);
      // `| cat > file` never reports anything: say so rather than stall silently once the
      // broker stops sending to a consumer with too many unacknowledged messages.
      const listening = server;
      noTerminalTimer = setTimeout(() => {
        if (!listening.everConnected && written.value > 0) {
          console.error(
            "edgepipe consume: warning: no terminal stage has connected to the ack channel in " +
              "10 s, so nothing is acknowledged (end the pipe with produce or sink, or use " +
              "--ack on-write)",
          );
        }
      }, 10_000);
      Deno.unrefTimer(noTerminalTimer as unknown as number);
    }

    const end = values.exit ? await EndOfTopic.start(source, 2000) : undefined;
    // Set when the input really ended (end of topic with -e, or -c reached), not on a signal.
    let finished = false;
    const envelopes = async function* (): AsyncGenerator<Item> {
      let count = 0;
      while (count < limit) {
        const msg: Message | undefined = end ? await end.next() : await source!.receive();
        if (!msg) {
          finished = end !== undefined;
          return;
        }
        received.inc();
        let envelope: Envelope;
        try {
          envelope = messageEnvelope(msg, payload);
        } catch (err) {
          if (!(err instanceof PayloadError)) throw err;
          errors.inc();
          const located = new PayloadError(
            `message ${msg.id.toString()} on ${msg.topic}: ${err.message}`,
          );
          if (policy.kind === "fail") throw located;
          if (deadLetters) {
            const raw = messageEnvelope(msg, "base64");
            await deadLetters.write(deadLetterOf("consume", located, raw));
          } else console.error(`edgepipe consume: skipped: ${located.message}`);
          if (ack !== "none") ackId(msg);
          continue;
        }
        if (format || ack === "on-write") messages.set(envelope, msg);
        else if (ack === "downstream") unreported.set(envelope.id!, msg);
        count++;
        yield envelope;
      }
      finished = true;
    };

    try {
      const report = await deliverAll(envelopes(), sink, {
        stage: "consume",
        signal: shutdown.signal,
        observer: {
          delivered: (event) => {
            written.inc();
            if (ack === "on-write") ackId(messages.get(event) ?? event.id!);
          },
        },
      });
      // The end of the stream is said, not inferred from EOF: a stage behind us that sees EOF
      // without it takes it for a failure upstream (docs/envelope.md).
      if (server && finished && !report.interrupted) {
        await sink.send(endRecord("consume") as unknown as Envelope);
        await sink.flush();
      }
    } catch (err) {
      if (!(err instanceof BrokenPipeError)) throw err;
      brokenPipe = true;
    }
    return shutdown.exitCode(EXIT.ok);
  } finally {
    clearTimeout(noTerminalTimer);
    if (server) {
      // EOF tells the terminal stage that nothing more comes; then let it report the rest.
      // Without EOF (stdout is not a pipe, or could not be closed) the terminal cannot finish
      // while we live: take the reports already in flight and go.
      const closed = closeStdout();
      const outcome = await server.waitForTerminal(
        closed ? ackTimeoutMs : Math.min(ackTimeoutMs, 1000),
        brokenPipe || !closed ? 0 : Math.min(ackTimeoutMs, 5000),
      );
      if (outcome === "timeout") {
        console.error(
          `edgepipe consume: the terminal stage did not finish within --ack-timeout; ` +
            `${written.value - acked.value} message(s) stay unacknowledged and will be redelivered`,
        );
      }
      await server.close();
    }
    await stopBacklog?.();
    stats?.stop();
    shutdown.dispose();
    await source?.flushAcks?.().catch(() => {});
    await source?.close().catch(() => {});
    await deadLetters?.close().catch(() => {});
    await client.close().catch(() => {});
    await stopMetrics?.();
  }
}

type StartPosition =
  | { kind: "earliest" | "latest" }
  | { kind: "id"; id: MessageId }
  | { kind: "time"; ms: number };

function parseOffset(text: string): StartPosition {
  if (text === "earliest" || text === "beginning") return { kind: "earliest" };
  if (text === "latest" || text === "end") return { kind: "latest" };
  const time = /^s@(\d+)$/.exec(text);
  if (time) return { kind: "time", ms: Number(time[1]) };
  try {
    return { kind: "id", id: MessageId.parse(text) };
  } catch (cause) {
    throw new UsageError(
      `-o: expected earliest, latest, a message id or s@<epoch ms>, got '${text}'`,
      { cause },
    );
  }
}

async function openSource(
  client: PulsarClient,
  o: {
    topics: string[];
    pattern?: string;
    subscription?: string;
    type: SubscriptionType;
    start: StartPosition;
  },
): Promise<Source> {
  const { start } = o;
  if (o.subscription === undefined) {
    const reader = await client.createReader({
      topic: o.topics[0],
      startAt: start.kind === "latest"
        ? "latest"
        : start.kind === "time"
        ? { publishTime: start.ms }
        : "earliest",
    });
    if (start.kind === "id") await reader.seek(start.id);
    return {
      receive: (timeoutMs) => reader.readNext(timeoutMs),
      hasMessageAvailable: () => reader.hasMessageAvailable(),
      close: () => reader.close(),
    };
  }
  const options = {
    subscription: o.subscription,
    subscriptionType: o.type,
    initialPosition: start.kind === "latest" ? "latest" : "earliest",
  } as const;
  if (o.pattern === undefined) {
    // One consumer per partition, merged here: -e can then ask each one whether more is there.
    const merged = await MergedReceiver.subscribe(client, o.topics, options);
    if (start.kind === "id") await merged.seek(start.id);
    if (start.kind === "time") await merged.seek(start.ms);
    return merged;
  }
  const consumer: MessageConsumer = await client.subscribe({
    topicsPattern: o.pattern,
    ...options,
  });
  if (start.kind === "id") await consumer.seek(start.id);
  if (start.kind === "time") await consumer.seek(start.ms);
  const source: Source = {
    receive: (timeoutMs) => consumer.receive(timeoutMs),
    ack: (target) => consumer.ack(target),
    flushAcks: () => consumer.flushAcks(),
    close: () => consumer.close(),
  };
  const probe = consumer as unknown as Receiver;
  if (typeof probe.hasMessageAvailable === "function") {
    source.hasMessageAvailable = () => probe.hasMessageAvailable!();
  } else if (typeof probe.getLastMessageIds === "function") {
    source.getLastMessageIds = () => probe.getLastMessageIds!();
  }
  return source;
}

/**
 * Polls the subscription's backlog (summed over topics) every 5 s; returns a stop function that
 * lets a poll under way answer first (at most 2 s), so that the last stats line has a value.
 */
function pollBacklog(
  admin: PulsarAdmin,
  topics: string[],
  subscription: string,
  set: (backlog: number) => void,
): () => Promise<void> {
  let warned = false;
  let running: Promise<void> | undefined;
  const poll = async () => {
    try {
      let total = 0;
      for (const topic of topics) {
        total += (await admin.topicStats(topic)).subscriptions[subscription]?.backlog ?? 0;
      }
      set(total);
    } catch (err) {
      if (!warned) {
        console.error(`edgepipe consume: backlog from --admin-url: ${describeError(err)}`);
      }
      warned = true;
    }
  };
  const start = () => {
    running ??= poll().finally(() => (running = undefined));
  };
  start();
  const timer = setInterval(start, 5000);
  Deno.unrefTimer(timer as unknown as number);
  return async () => {
    clearInterval(timer);
    if (!running) return;
    let wait: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([running, new Promise((resolve) => (wait = setTimeout(resolve, 2000)))]);
    clearTimeout(wait);
  };
}
