/**
 * `edgepipe produce mqtt://host/<topic template>`: the MQTT form of produce (flags and wiring; the
 * sink itself is `lib/sinks/mqtt.ts`).
 *
 * @module
 */
import { parseErrorPolicy } from "../lib/dead_letter.ts";
import { parsePayloadShape } from "../lib/delivered_record.ts";
import { Shutdown } from "../lib/delivery/shutdown.ts";
import { deliverAll } from "../lib/delivery/terminal.ts";
import { UsageError } from "../lib/errors.ts";
import { MqttSink } from "../lib/sinks/mqtt.ts";
import { BUFFER_FLAGS, BufferedSink, bufferOptions } from "../lib/sinks/buffered_sink.ts";
import type { Sink } from "../lib/sinks/types.ts";
import {
  connectMqtt,
  MQTT_FLAGS,
  mqttCredentials,
  mqttTlsFiles,
  parseMqttVersion,
  parseQos,
} from "../lib/sources/mqtt/mqtt_connect.ts";
import { parseMqttTarget } from "../lib/sources/mqtt/mqtt_url.ts";
import { parseDuration, parsePositiveInt } from "../lib/units.ts";
import { EXIT, parseFlags } from "./_command.ts";
import { openDeadLetters, stdinItems } from "./_stage_runner.ts";

function parseProduceMqttFlags(args: string[]) {
  return parseFlags("produce", args, {
    ...MQTT_FLAGS,
    "tls-ca": { type: "string" },
    "tls-cert": { type: "string" },
    "tls-key": { type: "string" },
    retain: { type: "boolean", default: false },
    "retain-field": { type: "string" },
    property: { type: "string", multiple: true },
    "content-type": { type: "string" },
    payload: { type: "string", default: "record" },
    "on-error": { type: "string", default: "fail" },
    "max-in-flight": { type: "string", default: "1000" },
    "connect-timeout": { type: "string", default: "10s" },
    ...BUFFER_FLAGS,
  });
}

function parseProperties(list: string[] | undefined): Record<string, string> {
  const properties: Record<string, string> = {};
  for (const item of list ?? []) {
    const eq = item.indexOf("=");
    if (eq <= 0) throw new UsageError(`--property must be name=value, got '${item}'`);
    properties[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return properties;
}

/** Runs `produce mqtt://…`; returns the exit code. */
export async function runMqttProduce(args: string[]): Promise<number> {
  const { values, positionals } = parseProduceMqttFlags(args);
  if (positionals.length !== 1) throw new UsageError("produce: one mqtt:// target");
  const target = parseMqttTarget(positionals[0]);
  const onError = parseErrorPolicy(values["on-error"]!);
  const qos = parseQos(values.qos);
  const payload = parsePayloadShape(values.payload!);
  const properties = parseProperties(values.property);
  const maxInFlight = parsePositiveInt(values["max-in-flight"]!, "--max-in-flight");
  const log = (message: string) => console.error(`edgepipe produce: ${message}`);
  const buffer = bufferOptions(values, log);
  const credentials = await mqttCredentials(values, target);
  const tls = await mqttTlsFiles(values);
  const open = async () => {
    const client = await connectMqtt({
      target,
      protocolVersion: parseMqttVersion(values["mqtt-version"]),
      clientId: values["client-id"],
      ...credentials,
      ...tls,
      connectTimeoutMs: parseDuration(values["connect-timeout"]!, "--connect-timeout"),
      log,
    });
    return new MqttSink(client, {
      topic: target.topic,
      qos,
      retain: values.retain,
      retainField: values["retain-field"],
      payload,
      properties,
      contentType: values["content-type"],
    }, `${target.scheme}://${target.host}:${target.port}/${target.topic}`);
  };
  const sink: Sink = buffer ? await BufferedSink.open(open, buffer) : await open();
  const deadLetters = await openDeadLetters(onError);
  const shutdown = new Shutdown("produce");
  try {
    const report = await deliverAll(stdinItems({ name: "produce", onError, deadLetters }), sink, {
      stage: "produce",
      onError,
      ...(deadLetters ? { deadLetters } : {}),
      maxInFlight,
      signal: shutdown.signal,
    });
    if (report.skipped > 0) {
      log(`${report.skipped} event(s) skipped, not published`);
      return shutdown.exitCode(EXIT.failure);
    }
    return shutdown.exitCode(EXIT.ok);
  } finally {
    shutdown.dispose();
    await sink.close();
    await deadLetters?.close().catch(() => {});
  }
}
