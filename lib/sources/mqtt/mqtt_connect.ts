/**
 * Connecting to an MQTT broker with MQTT.js: protocol version, client id and session, user name
 * and password (a file or the environment, never a flag or the URL), TLS with a CA and a client
 * certificate. The first connection must succeed within a bound (an unreachable broker or a
 * refused password is an error, said in one line); later drops are reconnected by MQTT.js.
 *
 * @module
 */
import mqtt from "mqtt";
import type { IClientOptions, MqttClient } from "mqtt";
import { describeError, EdgepipeError, UsageError } from "../../errors.ts";
import type { MqttTarget } from "./mqtt_url.ts";

/** The broker could not be reached, or refused the connection or a subscription. */
export class MqttError extends EdgepipeError {}

/** How to connect (flags and environment, already read). */
export interface MqttConnectOptions {
  target: MqttTarget;
  /** 5 (default) or 4 (MQTT 3.1.1). */
  protocolVersion?: 4 | 5;
  /** Stable id for a persistent session; without it a random id and a clean session. */
  clientId?: string;
  /** MQTT 5 session expiry for a persistent session, seconds (default 7 days). */
  sessionExpirySeconds?: number;
  username?: string;
  password?: string;
  /** PEM file contents. */
  ca?: string;
  cert?: string;
  key?: string;
  /** Bound for the first connection, ms (default 10 s). */
  connectTimeoutMs?: number;
  /** Where reconnection notices go. */
  log: (message: string) => void;
}

/** Flags both the MQTT source and sink take, as `parseFlags` options. */
export const MQTT_FLAGS = {
  "mqtt-version": { type: "string" },
  "client-id": { type: "string" },
  "session-expiry": { type: "string" },
  username: { type: "string" },
  "password-file": { type: "string" },
  qos: { type: "string" },
} as const;

/** The version flag as MQTT.js wants it. */
export function parseMqttVersion(text: string | undefined): 4 | 5 {
  if (text === undefined || text === "5" || text === "5.0") return 5;
  if (text === "3.1.1" || text === "4") return 4;
  throw new UsageError(`--mqtt-version must be 5 or 3.1.1, got '${text}'`);
}

/** The QoS flag. */
export function parseQos(text: string | undefined, fallback: 0 | 1 | 2 = 1): 0 | 1 | 2 {
  if (text === undefined) return fallback;
  if (text === "0" || text === "1" || text === "2") return Number(text) as 0 | 1 | 2;
  throw new UsageError(`--qos must be 0, 1 or 2, got '${text}'`);
}

/** Reads the password from `--password-file` or `MQTT_PASSWORD`, the user from flag/URL/env. */
export async function mqttCredentials(
  flags: { username?: string; "password-file"?: string },
  target: MqttTarget,
  env: Record<string, string | undefined> = Deno.env.toObject(),
): Promise<{ username?: string; password?: string }> {
  const username = flags.username ?? target.username ?? (env.MQTT_USERNAME || undefined);
  let password = env.MQTT_PASSWORD || undefined;
  if (flags["password-file"] !== undefined) {
    try {
      password = (await Deno.readTextFile(flags["password-file"])).replace(/\r?\n$/, "");
    } catch (cause) {
      throw new UsageError(
        `--password-file ${flags["password-file"]}: ${
          cause instanceof Deno.errors.NotFound ? "no such file" : describeError(cause)
        }`,
        { cause },
      );
    }
  }
  return { username, password };
}

/** Reads the PEM files the TLS flags name. */
export async function mqttTlsFiles(
  flags: { "tls-ca"?: string; "tls-cert"?: string; "tls-key"?: string },
): Promise<{ ca?: string; cert?: string; key?: string }> {
  const read = async (flag: "tls-ca" | "tls-cert" | "tls-key") => {
    const path = flags[flag];
    if (path === undefined) return undefined;
    try {
      return await Deno.readTextFile(path);
    } catch (cause) {
      throw new UsageError(`--${flag} ${path}: ${describeError(cause)}`, { cause });
    }
  };
  const files = {
    ca: await read("tls-ca"),
    cert: await read("tls-cert"),
    key: await read("tls-key"),
  };
  if ((files.cert === undefined) !== (files.key === undefined)) {
    throw new UsageError("--tls-cert and --tls-key go together");
  }
  return files;
}

/** MQTT.js options for `o` (not connected yet). */
export function clientOptionsOf(o: MqttConnectOptions): IClientOptions {
  const persistent = o.clientId !== undefined;
  const options: IClientOptions = {
    protocol: o.target.scheme,
    host: o.target.host,
    port: o.target.port,
    protocolVersion: o.protocolVersion ?? 5,
    clientId: o.clientId ?? `edgepipe-${crypto.randomUUID().slice(0, 8)}`,
    clean: !persistent,
    reconnectPeriod: 1000,
    connectTimeout: o.connectTimeoutMs ?? 10_000,
    keepalive: 30,
    resubscribe: true,
  };
  if (persistent && (o.protocolVersion ?? 5) === 5) {
    options.properties = { sessionExpiryInterval: o.sessionExpirySeconds ?? 7 * 24 * 3600 };
  }
  if (o.username !== undefined) options.username = o.username;
  if (o.password !== undefined) options.password = o.password;
  if (o.ca !== undefined) options.ca = o.ca;
  if (o.cert !== undefined) options.cert = o.cert;
  if (o.key !== undefined) options.key = o.key;
  return options;
}

/** Why a connection failed, in words (MQTT.js errors carry CONNACK reason codes). */
function explain(err: unknown, o: MqttConnectOptions): string {
  const where = `${o.target.scheme}://${o.target.host}:${o.target.port}`;
  const code = (err as { code?: unknown }).code;
  // Mosquitto answers a wrong password with "not authorised" (135 / 5), not 134 / 4.
  if (code === 134 || code === 4 || code === 135 || code === 5) {
    return `${where} refused the user name or password (not authorised, code ${code})`;
  }
  return `cannot connect to ${where}: ${describeError(err)}`;
}

/**
 * Connects, waiting at most `connectTimeoutMs` for the first CONNACK; `prepare` runs on the
 * client before it connects (handlers that must see the first packets). Rejects with
 * {@linkcode MqttError} when the broker is unreachable or refuses.
 */
export function connectMqtt(
  o: MqttConnectOptions,
  prepare: (client: MqttClient) => void = () => {},
): Promise<MqttClient> {
  const options = { ...clientOptionsOf(o), manualConnect: true };
  const client = mqtt.connect(options);
  prepare(client);
  return new Promise((resolve, reject) => {
    const bound = o.connectTimeoutMs ?? 10_000;
    let lastError: unknown = new Error(`no answer within ${bound / 1000} s`);
    const fail = (err: unknown) => {
      clearTimeout(timer);
      client.removeAllListeners("connect");
      client.end(true);
      reject(new MqttError(explain(err, o), { cause: err }));
    };
    const timer = setTimeout(() => fail(lastError), bound);
    const onError = (err: Error) => {
      lastError = err;
      const code = (err as { code?: unknown }).code;
      if (typeof code === "number") fail(err); // a CONNACK refusal: retrying will not help
    };
    client.on("error", onError);
    client.once("connect", () => {
      clearTimeout(timer);
      client.off("error", onError);
      client.on("error", (err) => o.log(`MQTT: ${describeError(err)}`));
      let connected = true;
      client.on("offline", () => {
        if (connected) o.log(`lost the MQTT broker; reconnecting`);
        connected = false;
      });
      client.on("connect", () => {
        if (!connected) o.log(`reconnected to the MQTT broker`);
        connected = true;
      });
      resolve(client);
    });
    client.connect();
  });
}
