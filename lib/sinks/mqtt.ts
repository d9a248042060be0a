/**
 * The MQTT sink (`edgepipe produce mqtt://host/<topic template>`): each event is published to the
 * topic its template names (`alerts/{value.site}`), QoS 1 by default, and counts as delivered
 * only when the broker has acknowledged it (PUBACK for QoS 1, PUBCOMP for QoS 2; for QoS 0 once
 * written to the socket). The payload is what every terminal stage delivers
 * (`docs/envelope.md`): a string as its text, anything else as JSON. The event's properties
 * become MQTT 5 user properties, except `mqtt.contentType` / `mqtt.responseTopic` (which become
 * those MQTT 5 fields) and the source's own `mqtt.qos`, `mqtt.retain`, `mqtt.dup`, which are not
 * sent on.
 *
 * @module
 */
import type { IClientPublishOptions, MqttClient } from "mqtt";
import { deliveredRecord, type PayloadShape, RECORD_SHAPE } from "../delivered_record.ts";
import { type Envelope, getPath } from "../envelope.ts";
import { describeError, EdgepipeError, InputError } from "../errors.ts";
import { topicNameProblem } from "../sources/mqtt/mqtt_url.ts";
import type { Sink } from "./types.ts";

/** A topic template names a field the event lacks, or renders to an invalid topic. */
export class MqttTopicError extends InputError {}

/** The broker did not acknowledge a publish. */
export class MqttPublishError extends EdgepipeError {}

/** Options of {@linkcode MqttSink}. */
export interface MqttSinkOptions {
  /** Topic template: `{path}` is replaced by that field of the event (`{value.site}`). */
  topic: string;
  /** Publish QoS (default 1). */
  qos?: 0 | 1 | 2;
  /** Retain every message. */
  retain?: boolean;
  /** Retain when this field of the event is `true` (overrides `retain`). */
  retainField?: string;
  /** What becomes the payload (default the flat record). */
  payload?: PayloadShape;
  /** Fixed MQTT 5 user properties added to each message. */
  properties?: Record<string, string>;
  /** MQTT 5 content type of every message (an event's `mqtt.contentType` overrides it). */
  contentType?: string;
}

const PLACEHOLDER = /\{([^{}]+)\}/g;

/**
 * The topic for `event` from `template`; throws {@linkcode MqttTopicError} naming the field that
 * is missing (or not a string or number) or what is wrong with the result.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { renderTopic } from "./mqtt.ts";
 * assert.equal(renderTopic("alerts/{value.site}/{key}", { key: "k1", value: { site: "SFO" } }),
 *   "alerts/SFO/k1");
 * assert.throws(() => renderTopic("alerts/{value.site}", { value: {} }), /value\.site/);
 * ```
 */
export function renderTopic(template: string, event: Envelope): string {
  const topic = template.replace(PLACEHOLDER, (_, path: string) => {
    const found = getPath(event, path.trim());
    if (typeof found === "string" && found !== "") return found;
    if (typeof found === "number" && Number.isFinite(found)) return String(found);
    throw new MqttTopicError(
      `topic template '${template}': field '${path}' is ${
        found === undefined ? "missing" : `not a string or number (${JSON.stringify(found)})`
      }${typeof event.id === "string" ? ` in event ${event.id}` : ""}`,
    );
  });
  const problem = topicNameProblem(topic);
  if (problem) throw new MqttTopicError(`topic template '${template}': ${problem}`);
  return topic;
}

const SOURCE_ONLY = new Set(["mqtt.qos", "mqtt.retain", "mqtt.dup"]);

/** Publishes events to an MQTT broker through a connected MQTT.js client. */
export class MqttSink implements Sink {
  readonly description: string;
  readonly #client: MqttClient;
  readonly #options: MqttSinkOptions;
  readonly #version: number;
  readonly #pending = new Set<Promise<void>>();

  /** A sink on a connected client (closed with the sink). */
  constructor(client: MqttClient, options: MqttSinkOptions, description: string) {
    this.#client = client;
    this.#options = options;
    this.description = description;
    this.#version = client.options.protocolVersion ?? 5;
  }

  /** The topic and publish options of an event (exposed for checks before sending). */
  prepare(event: Envelope): { topic: string; payload: string; options: IClientPublishOptions } {
    const o = this.#options;
    const topic = renderTopic(o.topic, event);
    const record = deliveredRecord(event, o.payload ?? RECORD_SHAPE);
    const payload = typeof record.payload === "string"
      ? record.payload
      : JSON.stringify(record.payload);
    const retain = o.retainField === undefined
      ? o.retain ?? false
      : getPath(event, o.retainField) === true;
    const options: IClientPublishOptions = { qos: o.qos ?? 1, retain };
    if (this.#version === 5) {
      const userProperties: Record<string, string> = { ...o.properties };
      let contentType = o.contentType;
      let responseTopic: string | undefined;
      for (const [name, value] of Object.entries(record.properties ?? {})) {
        if (name === "mqtt.contentType") contentType = value;
        else if (name === "mqtt.responseTopic") responseTopic = value;
        else if (!SOURCE_ONLY.has(name)) userProperties[name] = value;
      }
      const properties: NonNullable<IClientPublishOptions["properties"]> = {};
      if (Object.keys(userProperties).length > 0) properties.userProperties = userProperties;
      if (contentType !== undefined) properties.contentType = contentType;
      if (responseTopic !== undefined) properties.responseTopic = responseTopic;
      if (Object.keys(properties).length > 0) options.properties = properties;
    }
    return { topic, payload, options };
  }

  /** Publishes; resolves once the broker acknowledged it (QoS 1/2) or it was written (QoS 0). */
  send(event: Envelope): Promise<void> {
    let prepared;
    try {
      prepared = this.prepare(event);
    } catch (err) {
      return Promise.reject(err);
    }
    const { topic, payload, options } = prepared;
    const sent = new Promise<void>((resolve, reject) => {
      this.#client.publish(topic, payload, options, (err) => {
        if (err) {
          reject(
            new MqttPublishError(`publishing to '${topic}': ${describeError(err)}`, {
              cause: err,
            }),
          );
        } else resolve();
      });
    });
    const tracked = sent.then(() => {}, () => {}).finally(() => this.#pending.delete(tracked));
    this.#pending.add(tracked);
    return sent;
  }

  /** Waits for every publish sent so far to be acknowledged (or rejected). */
  async flush(): Promise<void> {
    await Promise.all([...this.#pending]);
  }

  /** Flushes, then disconnects. */
  async close(): Promise<void> {
    await this.flush();
    await this.#client.endAsync(false).catch(() => {});
  }
}
