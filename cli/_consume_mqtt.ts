/**
 * `edgepipe consume mqtt://host/<filter>`: the MQTT form of the consume command (flags, help and
 * wiring; the source itself is `lib/sources/mqtt/mqtt_source.ts`).
 *
 * @module
 */
import { endRecord, type Envelope } from "../lib/envelope.ts";
import { UsageError } from "../lib/errors.ts";
import { BrokenPipeError } from "../lib/ndjson.ts";
import { closeStdout, stdoutIsPipe } from "../lib/delivery/close_stdout.ts";
import { deliverAll } from "../lib/delivery/terminal.ts";
import { Shutdown } from "../lib/delivery/shutdown.ts";
import { StatsLine } from "../lib/observe/stats_line.ts";
import { StdoutSink } from "../lib/sinks/stdout.ts";
import type { PayloadDecoding } from "../lib/sources/message_envelope.ts";
import {
  MQTT_FLAGS,
  mqttCredentials,
  mqttTlsFiles,
  parseMqttVersion,
  parseQos,
} from "../lib/sources/mqtt/mqtt_connect.ts";
import { MqttSource, type MqttSourceOptions } from "../lib/sources/mqtt/mqtt_source.ts";
import { parseMqttTarget } from "../lib/sources/mqtt/mqtt_url.ts";
import { parseDuration, parsePositiveInt } from "../lib/units.ts";
import { EXIT, parseFlags } from "./_command.ts";

function parseMqttConsumeFlags(args: string[]) {
  return parseFlags("consume", args, {
    ...MQTT_FLAGS,
    "tls-ca": { type: "string" },
    "tls-cert": { type: "string" },
    "tls-key": { type: "string" },
    exit: { type: "boolean", short: "e", default: false },
    idle: { type: "string", default: "2s" },
    count: { type: "string", short: "c" },
    payload: { type: "string", default: "json" },
    "time-field": { type: "string" },
    "on-error": { type: "string", default: "fail" },
    ack: { type: "string" },
    "ack-timeout": { type: "string", default: "30s" },
    "connect-timeout": { type: "string", default: "10s" },
    stats: { type: "boolean", default: false },
  });
}

async function sourceOptions(
  args: string[],
  log: (message: string) => void,
): Promise<{ options: MqttSourceOptions; ackTimeoutMs: number; stats: boolean }> {
  const { values, positionals } = parseMqttConsumeFlags(args);
  if (positionals.length !== 1) {
    throw new UsageError("consume: one mqtt:// source at a time");
  }
  const target = parseMqttTarget(positionals[0]);
  const payload = values.payload as PayloadDecoding;
  if (!["json", "string", "base64"].includes(payload)) {
    throw new UsageError(`--payload must be json, string or base64, got '${payload}'`);
  }
  const onError = values["on-error"];
  if (onError !== "fail" && onError !== "skip") {
    throw new UsageError(`--on-error for MQTT must be fail or skip, got '${onError}'`);
  }
  const ack = values.ack ?? (stdoutIsPipe() ? "downstream" : "on-write");
  if (ack !== "downstream" && ack !== "on-write") {
    throw new UsageError(
      `--ack for MQTT must be downstream or on-write, got '${ack}' (an MQTT broker stops ` +
        `sending when acknowledgements are withheld)`,
    );
  }
  const options: MqttSourceOptions = {
    target,
    protocolVersion: parseMqttVersion(values["mqtt-version"]),
    clientId: values["client-id"],
    sessionExpirySeconds: values["session-expiry"] === undefined
      ? undefined
      : Math.ceil(parseDuration(values["session-expiry"], "--session-expiry") / 1000),
    ...await mqttCredentials(values, target),
    ...await mqttTlsFiles(values),
    connectTimeoutMs: parseDuration(values["connect-timeout"]!, "--connect-timeout"),
    qos: parseQos(values.qos),
    ack,
    payload,
    onError,
    timeField: values["time-field"],
    limit: values.count === undefined ? undefined : parsePositiveInt(values.count, "--count"),
    idleExitMs: values.exit ? parseDuration(values.idle!, "--idle") : undefined,
    log,
  };
  return {
    options,
    ackTimeoutMs: parseDuration(values["ack-timeout"]!, "--ack-timeout"),
    stats: values.stats!,
  };
}

/** Runs `consume mqtt://…`; returns the exit code. */
export async function runMqttConsume(args: string[]): Promise<number> {
  const log = (message: string) => console.error(`edgepipe consume: ${message}`);
  const { options, ackTimeoutMs, stats } = await sourceOptions(args, log);
  const counts = { received: 0, written: 0, acked: 0, errors: 0 };
  options.observer = {
    received: () => counts.received++,
    acknowledged: (n) => counts.acked += n,
    undecodable: () => counts.errors++,
  };
  const statsLine = stats
    ? new StatsLine("consume", {
      in: () => counts.received,
      out: () => counts.written,
      acked: () => counts.acked,
      errors: () => counts.errors,
    })
    : undefined;
  const shutdown = new Shutdown("consume");
  let source: MqttSource | undefined;
  let brokenPipe = false;
  try {
    const opened = source = await MqttSource.open(options);
    const sink = new StdoutSink({ payload: { kind: "envelope" } });
    const hello = opened.hello();
    if (hello) await sink.send(hello as unknown as Envelope);
    try {
      const report = await deliverAll(opened.envelopes(), sink, {
        stage: "consume",
        signal: shutdown.signal,
        observer: {
          delivered: (event) => {
            counts.written++;
            if (options.ack === "on-write") opened.report(event.id!);
          },
        },
      });
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
    if (source?.hello()) {
      const closed = closeStdout();
      const outcome = await source.close({
        timeoutMs: closed ? ackTimeoutMs : Math.min(ackTimeoutMs, 1000),
        connectWithinMs: brokenPipe || !closed ? 0 : Math.min(ackTimeoutMs, 5000),
      });
      if (outcome === "timeout") {
        log(
          `the terminal stage did not finish within --ack-timeout; ${source.held} message(s) ` +
            `stay unacknowledged and will be redelivered (with a persistent session)`,
        );
      }
    } else await source?.close();
    statsLine?.stop();
    shutdown.dispose();
  }
}
