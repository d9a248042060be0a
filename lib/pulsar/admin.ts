/**
 * The few admin REST calls the toolkit needs: create (partitioned) topics, delete topics, read a
 * topic's stats for backlog and lag, and check that a namespace exists.
 *
 * @module
 */
import type { TokenSupplier } from "./auth.ts";
import { BrokerError, ConnectionError } from "./errors.ts";
import { parseTopic } from "./topic_name.ts";
import type { VersionedSchema } from "./schema_registry.ts";
import type { SchemaType } from "./wire/mod.ts";

/** Options of {@linkcode PulsarAdmin}. */
export interface AdminOptions {
  /** `http://host:8080` or `https://host:8443`. */
  adminUrl: string;
  /** Bearer token for a broker with token authentication. */
  token?: TokenSupplier;
  /** PEM CA certificates for https with a private CA. */
  caCerts?: string[];
  /** PEM client certificate and key, for a web service that asks for mutual TLS. */
  cert?: string;
  /** PEM private key of `cert`. */
  key?: string;
  /** Per-request timeout. Default 30 000 ms. */
  timeoutMs?: number;
}

/** Backlog of one subscription. */
export interface SubscriptionBacklog {
  /** Messages not yet acknowledged. */
  backlog: number;
  /** Messages handed to consumers but not acknowledged. */
  unacked: number;
  /** Consumers connected to the subscription. */
  consumers: number;
}

/** The parts of topic stats edgepipe reports. */
export interface TopicStats {
  /** Messages ever published to the topic. */
  msgInCounter: number;
  /** Messages ever delivered to consumers. */
  msgOutCounter: number;
  /** Bytes the topic holds in storage. */
  storageSize: number;
  /** Backlog per subscription name. */
  subscriptions: Record<string, SubscriptionBacklog>;
  /** The raw stats JSON from the broker. */
  raw: Record<string, unknown>;
}

/**
 * A small admin REST client.
 *
 * @example
 * ```ts
 * import { PulsarAdmin } from "./admin.ts";
 * // Needs a running broker: type-checked here, not run.
 * async function example() {
 *   const admin = new PulsarAdmin({ adminUrl: "http://127.0.0.1:8080" });
 *   await admin.createTopic("orders", 4);
 *   const stats = await admin.topicStats("orders");
 *   console.log(stats.subscriptions["audit"]?.backlog);
 * }
 * void example;
 * ```
 */
export class PulsarAdmin {
  readonly #options: AdminOptions;
  readonly #client?: Deno.HttpClient;

  /** A client of the broker's admin REST API at `options.adminUrl`. */
  constructor(options: AdminOptions) {
    this.#options = { ...options, adminUrl: options.adminUrl.replace(/\/+$/, "") };
    if (options.caCerts || (options.cert && options.key)) {
      this.#client = Deno.createHttpClient({
        ...(options.caCerts ? { caCerts: options.caCerts } : {}),
        ...(options.cert && options.key ? { cert: options.cert, key: options.key } : {}),
      });
    }
  }

  /** Creates a topic; with `partitions > 0` a partitioned one. */
  async createTopic(topic: string, partitions = 0): Promise<void> {
    if (partitions > 0) {
      await this.#call("PUT", `${topicPath(topic)}/partitions`, JSON.stringify(partitions));
    } else await this.#call("PUT", topicPath(topic));
  }

  /** Deletes a topic (all partitions of a partitioned one), even with subscribers attached. */
  async deleteTopic(topic: string): Promise<void> {
    const partitions = await this.partitions(topic);
    const path = partitions > 0 ? `${topicPath(topic)}/partitions` : topicPath(topic);
    await this.#call("DELETE", `${path}?force=true`);
  }

  /** Partition count; 0 for a non-partitioned topic. */
  async partitions(topic: string): Promise<number> {
    const body = await this.#call("GET", `${topicPath(topic)}/partitions`) as {
      partitions?: number;
    };
    return body?.partitions ?? 0;
  }

  /** Stats of a topic, summed over partitions for a partitioned one. */
  async topicStats(topic: string): Promise<TopicStats> {
    const partitioned = (await this.partitions(topic)) > 0;
    const raw = await this.#call(
      "GET",
      `${topicPath(topic)}/${partitioned ? "partitioned-stats" : "stats"}`,
    ) as Record<string, unknown>;
    const subscriptions: Record<string, SubscriptionBacklog> = {};
    const subs = (raw.subscriptions ?? {}) as Record<string, Record<string, unknown>>;
    for (const [name, sub] of Object.entries(subs)) {
      subscriptions[name] = {
        backlog: Number(sub.msgBacklog ?? 0),
        unacked: Number(sub.unackedMessages ?? 0),
        consumers: Array.isArray(sub.consumers) ? sub.consumers.length : 0,
      };
    }
    return {
      msgInCounter: Number(raw.msgInCounter ?? 0),
      msgOutCounter: Number(raw.msgOutCounter ?? 0),
      storageSize: Number(raw.storageSize ?? 0),
      subscriptions,
      raw,
    };
  }

  /**
   * `topic`'s schema of `version` (the latest without one) from the REST API: the fallback of the
   * binary protocol's GET_SCHEMA ({@linkcode PulsarClient.getSchema}), in the same shape.
   */
  async getSchema(topic: string, version?: number): Promise<VersionedSchema> {
    const t = parseTopic(topic);
    const path = `/admin/v2/schemas/${enc(t.tenant)}/${enc(t.namespace)}/${enc(t.local)}/schema` +
      (version === undefined ? "" : `/${version}`);
    const body = await this.#call("GET", path) as {
      version?: number;
      type?: string;
      data?: string;
      properties?: Record<string, string>;
    };
    return schemaFromRest(body, `${t.tenant}/${t.namespace}/${t.local}`);
  }

  /** True when `tenant/namespace` exists. */
  async namespaceExists(namespace: string): Promise<boolean> {
    const [tenant, ns] = namespace.split("/");
    if (!tenant || !ns) {
      throw new BrokerError("InvalidTopicName", `'${namespace}' is not tenant/ns`);
    }
    try {
      await this.#call("GET", `/admin/v2/namespaces/${enc(tenant)}/${enc(ns)}`);
      return true;
    } catch (error) {
      if (error instanceof AdminError && (error.status === 404 || error.status === 403)) {
        return false;
      }
      throw error;
    }
  }

  async #call(method: string, path: string, body?: string): Promise<unknown> {
    const headers: Record<string, string> = { accept: "application/json" };
    if (body !== undefined) headers["content-type"] = "application/json";
    const token = this.#options.token;
    if (token !== undefined) {
      headers.authorization = `Bearer ${typeof token === "string" ? token : await token()}`;
    }
    let response: Response;
    try {
      response = await fetch(`${this.#options.adminUrl}${path}`, {
        method,
        headers,
        ...(body !== undefined ? { body } : {}),
        ...(this.#client ? { client: this.#client } : {}),
        signal: AbortSignal.timeout(this.#options.timeoutMs ?? 30_000),
      });
    } catch (cause) {
      throw new ConnectionError(`admin ${method} ${path}: ${this.#options.adminUrl} unreachable`, {
        cause,
      });
    }
    const text = await response.text();
    if (!response.ok) {
      let reason = text;
      try {
        reason = (JSON.parse(text) as { reason?: string }).reason ?? text;
      } catch { /* plain text */ }
      throw new AdminError(
        response.status,
        `admin ${method} ${path}: ${response.status} ${reason}`,
      );
    }
    return text === "" ? undefined : JSON.parse(text);
  }
}

/** An admin REST call failed; `status` is the HTTP status (5xx and 429 are retriable). */
export class AdminError extends BrokerError {
  constructor(readonly status: number, message: string) {
    super(
      status === 404
        ? "TopicNotFound"
        : status === 401
        ? "AuthenticationError"
        : status === 403
        ? "AuthorizationError"
        : status === 409
        ? "NotAllowedError"
        : "UnknownError",
      message,
      { retriable: status >= 500 || status === 429 },
    );
  }
}

/** The REST API's schema (`type` by its Java name, `data` as text) as the binary protocol has it. */
function schemaFromRest(
  body: { version?: number; type?: string; data?: string; properties?: Record<string, string> },
  name: string,
): VersionedSchema {
  const type = REST_TYPES[body.type ?? ""];
  if (!type) throw new BrokerError("IncompatibleSchema", `unknown schema type ${body.type}`);
  const utf8 = new TextEncoder();
  let schemaData = utf8.encode(body.data ?? "");
  if (type === "KeyValue") {
    // {"key": <definition>, "value": <definition>} → [int32 len][key][int32 len][value]
    const kv = JSON.parse(body.data || "{}") as { key?: unknown; value?: unknown };
    const half = (v: unknown) =>
      utf8.encode(v === undefined || v === "" ? "" : typeof v === "string" ? v : JSON.stringify(v));
    const [k, v] = [half(kv.key), half(kv.value)];
    schemaData = new Uint8Array(8 + k.length + v.length);
    const view = new DataView(schemaData.buffer);
    view.setInt32(0, k.length);
    schemaData.set(k, 4);
    view.setInt32(4 + k.length, v.length);
    schemaData.set(v, 8 + k.length);
  }
  const version = new Uint8Array(8);
  new DataView(version.buffer).setBigUint64(0, BigInt(body.version ?? 0));
  return {
    schema: { name, type, schemaData, ...(body.properties ? { properties: body.properties } : {}) },
    version,
  };
}

const REST_TYPES: Record<string, SchemaType> = {
  NONE: "None",
  BYTES: "None",
  STRING: "String",
  JSON: "Json",
  PROTOBUF: "Protobuf",
  AVRO: "Avro",
  BOOLEAN: "Bool",
  INT8: "Int8",
  INT16: "Int16",
  INT32: "Int32",
  INT64: "Int64",
  FLOAT: "Float",
  DOUBLE: "Double",
  DATE: "Date",
  TIME: "Time",
  TIMESTAMP: "Timestamp",
  KEY_VALUE: "KeyValue",
  INSTANT: "Instant",
  LOCAL_DATE: "LocalDate",
  LOCAL_TIME: "LocalTime",
  LOCAL_DATE_TIME: "LocalDateTime",
  PROTOBUF_NATIVE: "ProtobufNative",
};

function topicPath(topic: string): string {
  const t = parseTopic(topic);
  const domain = t.persistent ? "persistent" : "non-persistent";
  return `/admin/v2/${domain}/${enc(t.tenant)}/${enc(t.namespace)}/${enc(t.local)}`;
}

function enc(part: string): string {
  return encodeURIComponent(part);
}
