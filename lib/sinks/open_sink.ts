/**
 * One way to name a destination, shared by `route --to`, pipeline files and dead-letter targets:
 *
 * | spec                                   | sink                                              |
 * | -------------------------------------- | ------------------------------------------------- |
 * | `stdout` or `-`                        | NDJSON lines on stdout                            |
 * | `s3://bucket/prefix/{value.origin}/`   | batched objects in S3 (credentials from the env)  |
 * | `file:out/dir/%Y-%m-%d/`               | rolling files under a directory                   |
 * | `persistent://tenant/ns/topic`         | a Pulsar topic                                    |
 * | `topic:name`                           | a Pulsar topic (short names in public/default)    |
 *
 * S3 and file specs take batching options as a query: `?format=parquet&max-events=5000&max-age=30s`.
 * Every spec takes `?payload=record|value|envelope|field:<path>`: what the destination receives
 * for each event (`docs/envelope.md`, default the flat record).
 *
 * @module
 */
import { UsageError } from "../errors.ts";
import { parseBytes, parseDuration } from "../units.ts";
import { describePayloadShape, parsePayloadShape, type PayloadShape } from "../delivered_record.ts";
import type { BatchingOptions } from "./batching_sink.ts";
import { parseEncoding } from "./encode.ts";
import { PrefixTemplate } from "./object_naming.ts";
import type { Sink } from "./types.ts";
import type { ProducerSchemaSpec } from "../schema/producer_schema_spec.ts";
import type { MessageEncryptor } from "../pulsar/mod.ts";
import type { ConnectionFlagValues } from "../sources/pulsar_connect.ts";
import type { S3Connection } from "./s3.ts";

/** A parsed destination; `payload` is what it receives (default the flat record). */
export type SinkSpec =
  | { kind: "stdout"; payload?: PayloadShape }
  | { kind: "s3"; bucket: string; batching: BatchingOptions; payload?: PayloadShape }
  | { kind: "file"; dir: string; batching: BatchingOptions; payload?: PayloadShape }
  | { kind: "pulsar"; topic: string; payload?: PayloadShape; schema?: ProducerSchemaSpec };

/** Loads the Pulsar sink only when a topic is named, so other sinks start fast. */
export type PulsarSinkFactory = (
  topic: string,
  payload?: PayloadShape,
  schema?: ProducerSchemaSpec,
) => Promise<Sink>;

/**
 * Parses a destination spec.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseSinkSpec } from "./open_sink.ts";
 * const spec = parseSinkSpec("s3://events/origin={value.origin}/?format=parquet");
 * assert.equal(spec.kind, "s3");
 * assert.equal(spec.bucket, "events");
 * ```
 */
export function parseSinkSpec(text: string): SinkSpec {
  const [location, rest] = splitQuery(text.trim());
  const params = new URLSearchParams(rest);
  const payloadText = params.get("payload");
  params.delete("payload");
  const spec = parseLocation(location, params.toString(), text);
  if (payloadText !== null) spec.payload = parsePayloadShape(payloadText, `'${text}': payload`);
  return spec;
}

function parseLocation(location: string, query: string, text: string): SinkSpec {
  const plain = (kind: "stdout" | "pulsar") => {
    if (query !== "") {
      throw new UsageError(
        `'${text}': ${kind === "stdout" ? "stdout" : "a topic"} takes only ?payload=`,
      );
    }
  };
  if (location === "stdout" || location === "-") {
    plain("stdout");
    return { kind: "stdout" };
  }
  if (/^(non-)?persistent:\/\//.test(location)) {
    plain("pulsar");
    return { kind: "pulsar", topic: location };
  }
  if (location.startsWith("topic:") && location.length > "topic:".length) {
    plain("pulsar");
    return { kind: "pulsar", topic: location.slice("topic:".length) };
  }
  if (location.startsWith("s3://")) {
    const rest = location.slice("s3://".length);
    const slash = rest.indexOf("/");
    const bucket = slash === -1 ? rest : rest.slice(0, slash);
    if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
      throw new UsageError(`'${text}': '${bucket}' is not a valid S3 bucket name`);
    }
    const prefix = slash === -1 ? "" : rest.slice(slash + 1);
    return { kind: "s3", bucket, batching: batchingFrom(prefix, query, text) };
  }
  if (location.startsWith("file:")) {
    const path = location.replace(/^file:(\/\/)?/, "");
    if (path === "") throw new UsageError(`'${text}': file: needs a directory`);
    // The directory part before the first template field is the root; the rest is the prefix.
    const firstField = path.search(/[%{]/);
    const cut = firstField === -1 ? path.length : path.lastIndexOf("/", firstField) + 1;
    const dir = path.slice(0, cut) || ".";
    return { kind: "file", dir, batching: batchingFrom(path.slice(cut), query, text) };
  }
  throw new UsageError(
    `'${text}' is not a destination: use stdout, s3://bucket/prefix, file:dir or persistent://tenant/ns/topic`,
  );
}

function splitQuery(spec: string): [string, string] {
  const at = spec.indexOf("?");
  return at === -1 ? [spec, ""] : [spec.slice(0, at), spec.slice(at + 1)];
}

function batchingFrom(prefix: string, query: string, text: string): BatchingOptions {
  const batching: BatchingOptions = {
    prefix: new PrefixTemplate(prefix),
    encoding: "ndjson.gz",
  };
  for (const [name, value] of new URLSearchParams(query)) {
    const flag = `'${text}': ${name}`;
    switch (name) {
      case "format":
        batching.encoding = parseEncoding(value);
        break;
      case "max-events":
        batching.maxEvents = positive(value, flag);
        break;
      case "max-bytes":
        batching.maxBytes = parseBytes(value, flag);
        break;
      case "max-age":
        batching.maxAgeMs = parseDuration(value, flag);
        break;
      default:
        throw new UsageError(
          `${flag}: unknown option (format, max-events, max-bytes, max-age, payload)`,
        );
    }
  }
  return batching;
}

function positive(text: string, flag: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0) {
    throw new UsageError(`${flag}: expected a positive integer, got '${text}'`);
  }
  return n;
}

/** Sizes like `16MiB` (see `lib/units.ts`, where the parser lives). */
export { parseBytes } from "../units.ts";

/** Where and how {@linkcode openPulsarTopic} connects. */
export interface PulsarTopicOptions {
  /** The broker (default: `PULSAR_SERVICE_URL`, then the local default). */
  serviceUrl?: string;
  /** Connection and authentication as the commands' flags give them (`serviceUrl` wins). */
  connection?: ConnectionFlagValues;
  /** Give up on a message not acknowledged within this long, ms (default 0: wait for ever). */
  sendTimeoutMs?: number;
  /** Where the broker-outage lines go. */
  log?: (message: string) => void;
  /** What each message holds (default `record`, `docs/envelope.md`). */
  payload?: PayloadShape;
  /** Encode each payload with this schema, registered at producer creation. */
  schema?: ProducerSchemaSpec;
  /** End-to-end encryption of every message (`encryption.encryptKeys` of a pipeline). */
  encryption?: MessageEncryptor;
}

/**
 * A producer to `topic` on its own client, connected from `options.serviceUrl` or the environment
 * (`PULSAR_SERVICE_URL`, `PULSAR_AUTH_TOKEN`, TLS files; see `lib/sources/pulsar_connect.ts`).
 * Closing the sink closes the client.
 */
export async function openPulsarTopic(
  topic: string,
  options: PulsarTopicOptions = {},
): Promise<Sink> {
  const { PulsarClient } = await import("../pulsar/mod.ts");
  const { clientOptions } = await import("../sources/pulsar_connect.ts");
  const { PulsarSink } = await import("./pulsar.ts");
  const client = new PulsarClient(
    await clientOptions({
      ...options.connection,
      ...(options.serviceUrl ? { "service-url": options.serviceUrl } : {}),
    }),
  );
  let sink: Sink;
  try {
    const schema = options.schema &&
      await (await import("../schema/producer_schema.ts")).loadProducerSchema(
        options.schema,
        topic,
        client,
      );
    sink = await PulsarSink.open(client, {
      topic,
      ...(schema ? { schema } : {}),
      ...(options.payload ? { payload: options.payload } : {}),
      ...(options.sendTimeoutMs !== undefined ? { sendTimeoutMs: options.sendTimeoutMs } : {}),
      ...(options.log ? { log: options.log } : {}),
      ...(options.encryption ? { encryption: options.encryption } : {}),
    });
  } catch (err) {
    await client.close().catch(() => {});
    throw err;
  }
  return {
    description: sink.description,
    send: (event) => sink.send(event),
    flush: () => sink.flush(),
    close: async () => {
      try {
        await sink.close();
      } finally {
        await client.close();
      }
    },
  };
}

/**
 * Opens the sink a spec names; Pulsar topics through `pulsar` (default
 * {@linkcode openPulsarTopic}); S3 with `s3` (profile, endpoint, region) over the environment.
 */
export async function openSink(
  spec: SinkSpec,
  pulsar?: PulsarSinkFactory,
  s3: S3Connection = {},
): Promise<Sink> {
  switch (spec.kind) {
    case "stdout": {
      const { StdoutSink } = await import("./stdout.ts");
      return new StdoutSink(spec.payload ? { payload: spec.payload } : {});
    }
    case "s3": {
      const { openS3Sink, s3ConnectionFromEnv } = await import("./s3.ts");
      return await openS3Sink({
        ...spec.batching,
        ...(spec.payload ? { payload: spec.payload } : {}),
        bucket: spec.bucket,
        connection: s3ConnectionFromEnv(s3),
      });
    }
    case "file": {
      const { openFileSink } = await import("./file.ts");
      return openFileSink(
        spec.dir,
        spec.payload ? { ...spec.batching, payload: spec.payload } : spec.batching,
      );
    }
    case "pulsar":
      return await (pulsar
        ? pulsar(spec.topic, spec.payload, spec.schema)
        : openPulsarTopic(spec.topic, {
          ...(spec.payload ? { payload: spec.payload } : {}),
          ...(spec.schema ? { schema: spec.schema } : {}),
        }));
  }
}

/** A short description for plans and logs. */
export function describeSinkSpec(spec: SinkSpec): string {
  const where = describeLocation(spec);
  return spec.payload ? `${where} [payload ${describePayloadShape(spec.payload)}]` : where;
}

function describeLocation(spec: SinkSpec): string {
  switch (spec.kind) {
    case "stdout":
      return "stdout";
    case "pulsar":
      return spec.schema ? `${spec.topic} [schema ${spec.schema.kind}]` : spec.topic;
    case "s3":
      return `s3://${spec.bucket}/${spec.batching.prefix.source} (${spec.batching.encoding})`;
    case "file":
      return `file:${
        spec.dir.replace(/\/$/, "")
      }/${spec.batching.prefix.source} (${spec.batching.encoding})`;
  }
}
