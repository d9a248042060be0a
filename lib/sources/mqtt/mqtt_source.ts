/**
 * The MQTT source (`edgepipe consume mqtt://host/<filter>`): a subscription read as envelopes,
 * with QoS 1 / 2 acknowledgements (PUBACK / PUBREC) held back until the pipeline's terminal stage
 * reports the messages delivered over the same ack channel as the Pulsar source. With a stable
 * client id the session is persistent (clean start off), so a message whose acknowledgement never
 * went out is redelivered by the broker after a crash or a reconnect.
 *
 * How the acknowledgement is deferred: MQTT.js answers a PUBLISH from its packet loop and handles
 * the next packet only once the answer is written. The source lets that loop go on at once and
 * keeps the answer (PUBACK for QoS 1, PUBREC for QoS 2) until the report comes; answers go out in
 * the order the messages came (MQTT 5.0 §4.6). For QoS 2 the broker's PUBREL follows our PUBREC
 * and MQTT.js completes it (PUBCOMP) by itself: the message was delivered by then. A message is
 * taken from the PUBLISH packet, never from the PUBREL.
 *
 * @module
 */
import type { IPublishPacket, MqttClient, Packet } from "mqtt";
import { AckServer } from "../../delivery/ack_server.ts";
import { type Envelope, getPath, type HelloRecord } from "../../envelope.ts";
import { describeError, InputError } from "../../errors.ts";
import { toEventTime } from "../event_time.ts";
import { decodePayload, type PayloadDecoding, PayloadError } from "../message_envelope.ts";
import { HeldAcks } from "./held_acks.ts";
import { connectMqtt, type MqttConnectOptions, MqttError } from "./mqtt_connect.ts";
import { checkTopicFilter } from "./mqtt_url.ts";

/** Options of {@linkcode MqttSource.open}. */
export interface MqttSourceOptions extends MqttConnectOptions {
  /** Subscription QoS (default 1). */
  qos?: 0 | 1 | 2;
  /** downstream: acknowledge what the terminal reports; on-write: once written. */
  ack: "downstream" | "on-write";
  /** How payloads become `value` (default json). */
  payload?: PayloadDecoding;
  /** Payloads that cannot be decoded: fail (default) or skip (acknowledged, said once each). */
  onError?: "fail" | "skip";
  /** Event time from this field of the value (epoch ms or ISO-8601); absent: none. */
  timeField?: string;
  /** Stop after this many messages. */
  limit?: number;
  /** Stop once nothing has arrived for this long, ms (MQTT has no end of topic). */
  idleExitMs?: number;
  /** Most messages received and not yet taken by the pipeline before the socket is paused. */
  highWater?: number;
  /** Counts for metrics. */
  observer?: { received?(): void; acknowledged?(n: number): void; undecodable?(): void };
}

const PROPERTY_PREFIX = "mqtt.";

/**
 * The envelope of a PUBLISH: `topic` and `key` are the MQTT topic, `publishTime` the time it
 * arrived, `properties` the MQTT 5 user properties (repeated names joined with `,`) and
 * `mqtt.qos`, `mqtt.retain`, `mqtt.dup`, `mqtt.contentType`, `mqtt.responseTopic`,
 * `mqtt.correlationData` (base64), `mqtt.payloadFormat`, `mqtt.messageExpiry`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mqttEnvelope } from "./mqtt_source.ts";
 * const env = mqttEnvelope({
 *   cmd: "publish", topic: "s/1", payload: new TextEncoder().encode('{"t":20}'), qos: 1,
 *   retain: true, dup: false, messageId: 7, properties: { userProperties: { site: "a" } },
 * } as never, "m1", "json", 1000);
 * assert.deepEqual(env, {
 *   topic: "s/1", id: "m1", key: "s/1", publishTime: 1000, value: { t: 20 },
 *   properties: { site: "a", "mqtt.qos": "1", "mqtt.retain": "true" },
 * });
 * ```
 */
export function mqttEnvelope(
  packet: IPublishPacket,
  id: string,
  payload: PayloadDecoding,
  now: number,
): Envelope {
  const properties: Record<string, string> = {};
  const p = packet.properties;
  for (const [name, value] of Object.entries(p?.userProperties ?? {})) {
    properties[name] = Array.isArray(value) ? value.join(",") : String(value);
  }
  properties[`${PROPERTY_PREFIX}qos`] = String(packet.qos);
  if (packet.retain) properties[`${PROPERTY_PREFIX}retain`] = "true";
  if (packet.dup) properties[`${PROPERTY_PREFIX}dup`] = "true";
  if (p?.contentType !== undefined) properties[`${PROPERTY_PREFIX}contentType`] = p.contentType;
  if (p?.responseTopic !== undefined) {
    properties[`${PROPERTY_PREFIX}responseTopic`] = p.responseTopic;
  }
  if (p?.correlationData !== undefined) {
    properties[`${PROPERTY_PREFIX}correlationData`] = decodePayload(
      p.correlationData,
      "base64",
    ) as string;
  }
  if (p?.payloadFormatIndicator !== undefined) {
    properties[`${PROPERTY_PREFIX}payloadFormat`] = p.payloadFormatIndicator ? "utf8" : "bytes";
  }
  if (p?.messageExpiryInterval !== undefined) {
    properties[`${PROPERTY_PREFIX}messageExpiry`] = String(p.messageExpiryInterval);
  }
  const topic = String(packet.topic);
  return {
    topic,
    id,
    key: topic,
    publishTime: now,
    value: decodePayload(packet.payload as Uint8Array, payload),
    properties,
  };
}

type SendPacket = (packet: Packet, cb?: (err?: Error) => void, ...rest: unknown[]) => void;

/** One MQTT subscription as a source of envelopes. */
export class MqttSource {
  readonly #options: MqttSourceOptions;
  #client!: MqttClient;
  #server: AckServer | undefined;
  readonly #held = new HeldAcks<() => void>();
  /** Envelope ids of QoS 1/2 messages whose answer MQTT.js has not sent yet, by packet id. */
  readonly #awaitingAnswer = new Map<number, string>();
  #queue: Envelope[] = [];
  #head = 0;
  #wake: (() => void) | undefined;
  #paused: (() => void)[] = [];
  #next = 0;
  #acked = 0;
  #finished = false;
  #closed = false;
  #failure: Error | undefined;

  private constructor(options: MqttSourceOptions) {
    this.#options = options;
  }

  /** Connects, subscribes and (for downstream acknowledgements) opens the ack socket. */
  static async open(options: MqttSourceOptions): Promise<MqttSource> {
    checkTopicFilter(options.target.topic);
    const source = new MqttSource(options);
    if (options.ack === "downstream") {
      source.#server = await AckServer.listen({
        source: "consume",
        onAck: (id) => source.report(id),
      });
    }
    try {
      source.#client = await connectMqtt(options, (client) => source.#intercept(client));
      await source.#subscribe();
    } catch (err) {
      await source.#server?.close();
      source.#client?.end(true);
      throw err;
    }
    return source;
  }

  async #subscribe(): Promise<void> {
    const { topic } = this.#options.target;
    const granted = await this.#client.subscribeAsync(topic, { qos: this.#options.qos ?? 1 })
      .catch((cause) => {
        throw new MqttError(`cannot subscribe to '${topic}': ${describeError(cause)}`, { cause });
      });
    for (const grant of granted) {
      if (grant.qos > 2) {
        throw new MqttError(
          `the broker refused the subscription to '${topic}' (code ${grant.qos})`,
        );
      }
    }
  }

  /** Hooks MQTT.js: take PUBLISH packets as they arrive, hold their answers, pause when full. */
  #intercept(client: MqttClient): void {
    const o = this.#options;
    client.on("packetreceive", (packet) => {
      if (packet.cmd === "publish") this.#onPublish(packet as IPublishPacket);
    });
    // The connection that received the held messages is gone: the broker sends them again.
    client.on("close", () => {
      this.#held.clear();
      this.#awaitingAnswer.clear();
    });
    const internals = client as unknown as { _sendPacket: SendPacket };
    const send = internals._sendPacket.bind(client);
    internals._sendPacket = (packet, cb, ...rest) => {
      const cmd = packet.cmd;
      if ((cmd === "puback" || cmd === "pubrec") && packet.messageId !== undefined) {
        const id = this.#awaitingAnswer.get(packet.messageId);
        if (id !== undefined) {
          this.#awaitingAnswer.delete(packet.messageId);
          const answer = () => send(packet, undefined, ...rest);
          if (o.ack === "downstream" || o.ack === "on-write") this.#held.hold(id, answer);
          cb?.(); // MQTT.js goes on with the next packet; the answer waits
          return;
        }
      }
      send(packet, cb, ...rest);
    };
    // QoS 0 messages pass through here before MQTT.js reads on: the bound on what is queued
    // pauses the socket. QoS 1/2 are bounded by the broker's in-flight window (their answers are
    // held), and pausing them would also hold up the SUBACK and PINGRESP behind them.
    client.handleMessage = (packet, callback) => {
      if (packet.qos > 0 || this.#pending < (o.highWater ?? 1000)) callback();
      else this.#paused.push(() => callback());
    };
  }

  get #pending(): number {
    return this.#queue.length - this.#head;
  }

  #onPublish(packet: IPublishPacket): void {
    const o = this.#options;
    const id = `mqtt:${++this.#next}`;
    // Registered even while closing: the answer is then held and never sent (redelivered).
    if (packet.qos > 0 && packet.messageId !== undefined) {
      this.#awaitingAnswer.set(packet.messageId, id);
    }
    if (this.#closed) return;
    o.observer?.received?.();
    let envelope: Envelope;
    try {
      envelope = mqttEnvelope(packet, id, o.payload ?? "json", Date.now());
      const time = o.timeField === undefined ? undefined : getPath(envelope.value, o.timeField);
      if (time !== undefined) envelope.eventTime = toEventTime(time, o.timeField!);
    } catch (err) {
      if (!(err instanceof PayloadError) && !(err instanceof InputError)) throw err;
      o.observer?.undecodable?.();
      const message = `message on ${packet.topic}: ${err.message}`;
      if ((o.onError ?? "fail") === "fail") {
        this.#failure ??= new PayloadError(message, { cause: err });
      } else {
        o.log(`skipped: ${message}`);
        queueMicrotask(() => this.report(id));
      }
      this.#wake?.();
      return;
    }
    this.#queue.push(envelope);
    this.#wake?.();
  }

  /** The hello record to write first (downstream acknowledgements only). */
  hello(): HelloRecord | undefined {
    return this.#server?.hello();
  }

  /** True once the input really ended (`limit` reached or `idleExitMs` of silence). */
  get finished(): boolean {
    return this.#finished;
  }

  /** Acknowledgements sent to the broker. */
  get acknowledged(): number {
    return this.#acked;
  }

  /** Acknowledgements held for reports. */
  get held(): number {
    return this.#held.size;
  }

  /** The terminal stage (or the write, with on-write) delivered `id`: answer what may go. */
  report(id: string): void {
    const released = this.#held.report(id);
    for (const answer of released) answer();
    if (released.length > 0) {
      this.#acked += released.length;
      this.#options.observer?.acknowledged?.(released.length);
    }
  }

  /** The messages as envelopes, until `limit`, `idleExitMs` of silence, or `close()`. */
  async *envelopes(): AsyncGenerator<Envelope> {
    const o = this.#options;
    const limit = o.limit ?? Infinity;
    let count = 0;
    while (count < limit && !this.#closed) {
      if (this.#failure) throw this.#failure;
      if (this.#pending === 0) {
        const arrived = await this.#waitForMessage(o.idleExitMs);
        if (!arrived && this.#pending === 0 && !this.#failure) {
          if (o.idleExitMs !== undefined && !this.#closed) this.#finished = true;
          return;
        }
        continue;
      }
      const envelope = this.#queue[this.#head];
      this.#queue[this.#head++] = undefined as unknown as Envelope;
      if (this.#head > 4096 && this.#head * 2 > this.#queue.length) {
        this.#queue = this.#queue.slice(this.#head);
        this.#head = 0;
      }
      this.#resume();
      count++;
      yield envelope;
    }
    if (count >= limit) this.#finished = true;
  }

  #resume(): void {
    const highWater = this.#options.highWater ?? 1000;
    while (this.#paused.length > 0 && this.#pending < highWater) this.#paused.shift()!();
  }

  /** Resolves true when a message (or a failure) arrives, false after `ms` or on close. */
  #waitForMessage(ms: number | undefined): Promise<boolean> {
    return new Promise((resolve) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      this.#wake = () => {
        clearTimeout(timer);
        this.#wake = undefined;
        resolve(!this.#closed);
      };
      if (ms !== undefined) {
        timer = setTimeout(() => {
          this.#wake = undefined;
          resolve(false);
        }, ms);
      }
    });
  }

  /**
   * Stops: waits for the terminal stage's last reports (call it after closing the output), sends
   * the answers they release, and disconnects, keeping a persistent session at the broker.
   */
  async close(wait?: { timeoutMs: number; connectWithinMs: number }) {
    this.#closed = true;
    this.#wake?.();
    let outcome;
    if (this.#server) {
      outcome = await this.#server.waitForTerminal(
        wait?.timeoutMs ?? 5_000,
        wait?.connectWithinMs ?? 5_000,
      );
      await this.#server.close();
    }
    for (const release of this.#paused.splice(0)) release();
    await this.#client.endAsync(false).catch(() => {});
    return outcome;
  }
}
