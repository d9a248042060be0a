/**
 * `edgepipe sink s3`: batches of events as objects in an S3 bucket (AWS or any S3-compatible
 * server). Small objects go up in one PUT, large ones as multipart uploads with parts in parallel.
 * Transient failures are retried with exponential backoff; a missing bucket or wrong credentials
 * fail at once with a clear message. Nothing is acknowledged before its object is stored.
 *
 * @module
 */
import {
  HeadBucketCommand,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { fromNodeProviderChain } from "@aws-sdk/credential-providers";
import { EdgepipeError } from "../errors.ts";
import { Backoff, sleep } from "../pulsar/backoff.ts";
import { type BatchingOptions, BatchingSink, type ObjectStore } from "./batching_sink.ts";
import { contentHeaders, type Encoding } from "./encode.ts";

/** Where and as whom to connect. Unset fields come from the usual AWS environment variables. */
export interface S3Connection {
  /** `http://127.0.0.1:9000` for an S3-compatible server; AWS when unset. */
  endpoint?: string;
  /** The region; `us-east-1` when neither set here nor in the environment. */
  region?: string;
  /** Access key id. */
  accessKeyId?: string;
  /** Secret access key. */
  secretAccessKey?: string;
  /** Session token of temporary credentials. */
  sessionToken?: string;
  /**
   * A profile of the shared config and credentials files (`~/.aws/config`,
   * `~/.aws/credentials`). With a profile, keys in the environment are not used.
   */
  profile?: string;
  /** Path-style addressing (`endpoint/bucket/key`); the default when an endpoint is given. */
  forcePathStyle?: boolean;
}

/** How hard to try. */
export interface S3RetryOptions {
  /** Attempts per object, including the first. Default 6. */
  maxAttempts?: number;
  /** First backoff delay in ms. Default 200. */
  initialBackoffMs?: number;
  /** Largest backoff delay in ms. Default 10 000. */
  maxBackoffMs?: number;
  /** Objects larger than this go up as multipart uploads. Default 8 MiB (S3's minimum is 5). */
  partSize?: number;
  /** Timeout of one HTTP request in ms. Default 60 000. */
  requestTimeoutMs?: number;
}

/** An S3 request failed; `retriable` says whether the sink would try again. */
export class S3SinkError extends EdgepipeError {}

/**
 * Resolves the connection from explicit values, then the environment. Static keys are used when
 * given (explicitly, or `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` without a profile);
 * otherwise the client asks the AWS SDK's default credential chain (environment, shared config
 * and credentials files with `profile` / `AWS_PROFILE`, web identity, container and instance
 * metadata).
 */
export function s3ConnectionFromEnv(
  explicit: S3Connection = {},
  env: (name: string) => string | undefined = (name) => Deno.env.get(name),
): S3Connection & { region: string; forcePathStyle: boolean } {
  const endpoint = explicit.endpoint ?? env("AWS_ENDPOINT_URL_S3") ?? env("AWS_ENDPOINT_URL") ??
    env("S3_ENDPOINT");
  const profile = explicit.profile ?? (env("AWS_PROFILE") || undefined);
  // A profile names the credentials: keys in the environment must not override it.
  const fromEnv = (name: string) => profile ? undefined : env(name) || undefined;
  const accessKeyId = explicit.accessKeyId ?? fromEnv("AWS_ACCESS_KEY_ID");
  const secretAccessKey = explicit.secretAccessKey ?? fromEnv("AWS_SECRET_ACCESS_KEY");
  if ((accessKeyId === undefined) !== (secretAccessKey === undefined)) {
    throw new S3SinkError(
      "S3 credentials incomplete: give both the access key id and the secret access key",
    );
  }
  return {
    endpoint,
    region: explicit.region ?? env("AWS_REGION") ?? env("AWS_DEFAULT_REGION") ?? "us-east-1",
    ...(accessKeyId ? { accessKeyId, secretAccessKey } : {}),
    ...(accessKeyId && (explicit.sessionToken ?? fromEnv("AWS_SESSION_TOKEN"))
      ? { sessionToken: explicit.sessionToken ?? fromEnv("AWS_SESSION_TOKEN") }
      : {}),
    ...(profile ? { profile } : {}),
    forcePathStyle: explicit.forcePathStyle ?? endpoint !== undefined,
  };
}

/** Builds an SDK client that does not retry by itself: {@linkcode S3Store} owns retries. */
export function newS3Client(connection: S3Connection, requestTimeoutMs = 60_000): S3Client {
  const config: S3ClientConfig = {
    region: connection.region ?? "us-east-1",
    endpoint: connection.endpoint,
    forcePathStyle: connection.forcePathStyle ?? connection.endpoint !== undefined,
    maxAttempts: 1,
    requestHandler: { requestTimeout: requestTimeoutMs, connectionTimeout: 5_000 },
  };
  if (connection.accessKeyId && connection.secretAccessKey) {
    config.credentials = {
      accessKeyId: connection.accessKeyId,
      secretAccessKey: connection.secretAccessKey,
      sessionToken: connection.sessionToken,
    };
  } else {
    config.credentials = fromNodeProviderChain(
      connection.profile ? { profile: connection.profile } : {},
    );
  }
  return new S3Client(config);
}

const PERMANENT_CODES: Record<string, string> = {
  NoSuchBucket: "does not exist",
  NotFound: "does not exist",
  AccessDenied: "denied access (check the credentials and the bucket policy)",
  Forbidden: "denied access (check the credentials and the bucket policy)",
  InvalidAccessKeyId: "rejected the access key id (check AWS_ACCESS_KEY_ID)",
  SignatureDoesNotMatch: "rejected the signature (check AWS_SECRET_ACCESS_KEY)",
  InvalidBucketName: "is not a valid bucket name",
  PermanentRedirect: "lives in another region (set AWS_REGION)",
};

/** Turns an SDK error into a one-line {@linkcode S3SinkError} that says whether to retry. */
export function classifyS3Error(err: unknown, bucket: string, endpoint: string): S3SinkError {
  const e = err as { name?: string; Code?: string; $metadata?: { httpStatusCode?: number } };
  const status = e?.$metadata?.httpStatusCode;
  const named = e?.Code ?? e?.name ?? "Error";
  const code = named === "Unknown" && status !== undefined ? `HTTP ${status}` : named;
  if (named === "CredentialsProviderError") {
    return new S3SinkError(
      "no S3 credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or a profile " +
        "(--profile or AWS_PROFILE) of the shared credentials file, or run where web identity, " +
        `container or instance credentials exist (${firstLine(err)})`,
      { retriable: false },
    );
  }
  const permanent = PERMANENT_CODES[code] ??
    (status === 404
      ? PERMANENT_CODES.NotFound
      : status === 403
      ? PERMANENT_CODES.AccessDenied
      : undefined);
  // HEAD answers carry no body: the SDK then says only "UnknownError", which helps nobody.
  const detail = err instanceof Error && err.message !== "UnknownError" && err.message !== code
    ? err
    : undefined;
  if (permanent) {
    return new S3SinkError(`bucket '${bucket}' at ${endpoint} ${permanent} [${code}]`, {
      cause: detail,
      retriable: false,
    });
  }
  const clientError = status !== undefined && status >= 400 && status < 500 && status !== 408 &&
    status !== 429;
  return new S3SinkError(
    `S3 request to ${endpoint} failed [${code}${status ? ` ${status}` : ""}]`,
    {
      cause: detail,
      retriable: !clientError,
    },
  );
}

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split("\n")[0].slice(0, 200);
}

/** One bucket as an {@linkcode ObjectStore}, with retries and multipart uploads. */
export class S3Store implements ObjectStore {
  readonly description: string;
  readonly bucket: string;
  readonly #client: S3Client;
  readonly #endpoint: string;
  readonly #retry: Required<S3RetryOptions>;

  constructor(bucket: string, connection: S3Connection, retry: S3RetryOptions = {}) {
    this.bucket = bucket;
    this.description = `s3://${bucket}`;
    this.#endpoint = connection.endpoint ?? `s3.${connection.region ?? "us-east-1"}.amazonaws.com`;
    this.#retry = {
      maxAttempts: retry.maxAttempts ?? 6,
      initialBackoffMs: retry.initialBackoffMs ?? 200,
      maxBackoffMs: retry.maxBackoffMs ?? 10_000,
      partSize: Math.max(5 * 1024 * 1024, retry.partSize ?? 8 * 1024 * 1024),
      requestTimeoutMs: retry.requestTimeoutMs ?? 60_000,
    };
    this.#client = newS3Client(connection, this.#retry.requestTimeoutMs);
  }

  /** Fails fast, before any event is accepted, when the bucket is missing or access is denied. */
  async check(): Promise<void> {
    await this.#withRetries(
      `checking bucket '${this.bucket}'`,
      () => this.#client.send(new HeadBucketCommand({ Bucket: this.bucket })),
    );
  }

  async put(key: string, bytes: Uint8Array, encoding: Encoding): Promise<void> {
    const headers = contentHeaders(encoding);
    const params = {
      Bucket: this.bucket,
      Key: key,
      Body: bytes,
      ContentType: headers.type,
      ContentEncoding: headers.encoding,
    };
    await this.#withRetries(`uploading s3://${this.bucket}/${key}`, async () => {
      if (bytes.length <= this.#retry.partSize) {
        await this.#client.send(new PutObjectCommand(params));
        return;
      }
      const upload = new Upload({
        client: this.#client,
        params,
        partSize: this.#retry.partSize,
        queueSize: 4,
        leavePartsOnError: false,
      });
      await upload.done();
    });
  }

  close(): Promise<void> {
    this.#client.destroy();
    return Promise.resolve();
  }

  async #withRetries<T>(what: string, attempt: () => Promise<T>): Promise<T> {
    const backoff = new Backoff({
      initialMs: this.#retry.initialBackoffMs,
      maxMs: this.#retry.maxBackoffMs,
    });
    let last: S3SinkError | undefined;
    for (let n = 1; n <= this.#retry.maxAttempts; n++) {
      try {
        return await attempt();
      } catch (err) {
        last = classifyS3Error(err, this.bucket, this.#endpoint);
        if (!last.retriable) {
          throw new S3SinkError(`${what}: ${last.message}`, { cause: last.cause });
        }
        if (n < this.#retry.maxAttempts) await sleep(backoff.next());
      }
    }
    throw new S3SinkError(`${what} failed after ${this.#retry.maxAttempts} attempts`, {
      cause: last,
      retriable: true,
    });
  }
}

/** Everything `edgepipe sink s3` needs. */
export interface S3SinkOptions extends BatchingOptions {
  /** The bucket written to. */
  bucket: string;
  /** Endpoint, region and credentials. */
  connection: S3Connection;
  /** How failed uploads are retried. */
  retry?: S3RetryOptions;
}

/**
 * Opens an S3 sink and checks the bucket is reachable and writable.
 *
 * @example
 * ```ts ignore
 * import { openS3Sink, s3ConnectionFromEnv } from "./s3.ts";
 * import { PrefixTemplate } from "./object_naming.ts";
 * const sink = await openS3Sink({
 *   bucket: "events",
 *   connection: s3ConnectionFromEnv(),
 *   prefix: new PrefixTemplate("date=%Y-%m-%d/"),
 *   encoding: "ndjson.gz",
 * });
 * await sink.send({ id: "a", value: 1 });
 * await sink.close();
 * ```
 */
export async function openS3Sink(options: S3SinkOptions): Promise<BatchingSink> {
  const store = new S3Store(options.bucket, options.connection, options.retry);
  try {
    await store.check();
  } catch (err) {
    await store.close();
    throw err;
  }
  return new BatchingSink(store, options);
}
