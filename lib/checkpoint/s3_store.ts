/**
 * A {@linkcode SharedCheckpointStore} in an S3 bucket (AWS or any S3-compatible server that
 * supports conditional writes, as MinIO does): `window --checkpoint-store s3://bucket/prefix`.
 *
 * Object layout: `prefix/<topic, URI-encoded>/<partition>/checkpoint-<generation>.ckpt` (an
 * event without a topic is under `%`, which no encoded topic can be). A generation is written
 * with a conditional PutObject (`If-None-Match: *`): it succeeds only if the object does not
 * exist, so the put is atomic and exclusive, and a 412 (PreconditionFailed) means `"fenced"`.
 * Each object names its writer (`x-amz-meta-writer`: host and pid) for whoever inspects the
 * bucket.
 *
 * @module
 */
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { hostname } from "node:os";
import { Backoff, sleep } from "../pulsar/backoff.ts";
import { classifyS3Error, newS3Client, type S3Connection, type S3SinkError } from "../sinks/s3.ts";
import {
  generationName,
  generationOf,
  type PartitionKey,
  type SharedCheckpointStore,
  type StoredGeneration,
} from "./shared_store.ts";
import { CheckpointError } from "./store.ts";

/** How hard the store tries one request. */
export interface S3CheckpointRetry {
  /** Attempts per request, including the first. Default 6. */
  maxAttempts?: number;
  /** First backoff delay in ms. Default 200. */
  initialBackoffMs?: number;
  /** Largest backoff delay in ms. Default 5 000. */
  maxBackoffMs?: number;
}

/** Times `newest` lists again when the generation it listed was pruned before it was read. */
const RELIST_ATTEMPTS = 5;

/** `s3://bucket/prefix` → bucket and prefix (`""` or ending in `/`); undefined for another form. */
export function parseS3Url(spec: string): { bucket: string; prefix: string } | undefined {
  const match = /^s3:\/\/([^/]+)\/?(.*)$/.exec(spec);
  if (!match) return undefined;
  const prefix = match[2].replace(/\/+$/, "");
  return { bucket: match[1], prefix: prefix === "" ? "" : `${prefix}/` };
}

/**
 * The checkpoints of the partitions in `s3://bucket/prefix`; see the module documentation.
 *
 * @example
 * ```ts ignore
 * import { S3CheckpointStore } from "./s3_store.ts";
 * import { s3ConnectionFromEnv } from "../sinks/s3.ts";
 * const store = await S3CheckpointStore.open("state", "hourly", s3ConnectionFromEnv());
 * const p = { topic: "persistent://public/default/flights", partition: 2 };
 * await store.put(p, 1, new Uint8Array([1])); // "written", then "fenced" for anyone else
 * ```
 */
export class S3CheckpointStore implements SharedCheckpointStore {
  readonly where: string;
  readonly #bucket: string;
  readonly #prefix: string;
  readonly #client: S3Client;
  readonly #endpoint: string;
  readonly #retry: Required<S3CheckpointRetry>;
  readonly #writer = `${hostname()}/${Deno.pid}`;

  private constructor(
    bucket: string,
    prefix: string,
    connection: S3Connection,
    retry: S3CheckpointRetry,
  ) {
    this.#bucket = bucket;
    this.#prefix = prefix === "" ? "" : `${prefix.replace(/\/+$/, "")}/`;
    this.where = `s3://${bucket}/${this.#prefix}`;
    this.#endpoint = connection.endpoint ?? `s3.${connection.region ?? "us-east-1"}.amazonaws.com`;
    this.#retry = {
      maxAttempts: retry.maxAttempts ?? 6,
      initialBackoffMs: retry.initialBackoffMs ?? 200,
      maxBackoffMs: retry.maxBackoffMs ?? 5_000,
    };
    this.#client = newS3Client(connection, 30_000);
  }

  /**
   * Opens the store and proves it usable: the bucket exists and the keys may write and delete
   * under the prefix. A missing bucket or refused keys are one-line {@linkcode CheckpointError}s.
   */
  static async open(
    bucket: string,
    prefix: string,
    connection: S3Connection,
    retry: S3CheckpointRetry = {},
  ): Promise<S3CheckpointStore> {
    const store = new S3CheckpointStore(bucket, prefix, connection, retry);
    try {
      await store.#request(
        "checking the bucket",
        () => store.#client.send(new HeadBucketCommand({ Bucket: bucket })),
      );
      const probe = `${store.#prefix}.probe-${crypto.randomUUID()}`;
      await store.#request(
        "writing a probe object",
        () =>
          store.#client.send(
            new PutObjectCommand({ Bucket: bucket, Key: probe, Body: new Uint8Array(1) }),
          ),
      );
      await store.#request(
        "removing the probe object",
        () => store.#client.send(new DeleteObjectCommand({ Bucket: bucket, Key: probe })),
      );
    } catch (err) {
      store.close();
      throw err;
    }
    return store;
  }

  #dir(key: PartitionKey): string {
    const topic = key.topic === "" ? "%" : encodeURIComponent(key.topic);
    return `${this.#prefix}${topic}/${key.partition}/`;
  }

  /** The generations stored for a partition, newest first. */
  async #generations(dir: string): Promise<number[]> {
    const found: number[] = [];
    let token: string | undefined;
    do {
      const page = await this.#request(
        `listing ${this.where}`,
        () =>
          this.#client.send(
            new ListObjectsV2Command({
              Bucket: this.#bucket,
              Prefix: dir,
              ContinuationToken: token,
            }),
          ),
      );
      for (const item of page.Contents ?? []) {
        const generation = generationOf((item.Key ?? "").slice(dir.length));
        if (generation !== undefined) found.push(generation);
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
    return found.sort((a, b) => b - a);
  }

  async newest(key: PartitionKey): Promise<StoredGeneration | undefined> {
    const dir = this.#dir(key);
    for (let attempt = 0; attempt < RELIST_ATTEMPTS; attempt++) {
      const generations = await this.#generations(dir);
      const [generation] = generations;
      if (generation === undefined) return undefined;
      const name = `${dir}${generationName(generation)}`;
      const bytes = await this.#read(name);
      // Pruned by its owner between the listing and the read: newer ones exist, list again.
      if (bytes === undefined) continue;
      // Leftovers of an owner that died between a put and its prune.
      for (const old of generations.slice(2)) await this.#remove(`${dir}${generationName(old)}`);
      return { generation, bytes };
    }
    throw new CheckpointError(
      `the checkpoints of partition ${key.topic}#${key.partition} in ${this.where} keep ` +
        `changing while they are read; is it owned by two instances?`,
    );
  }

  async #read(name: string): Promise<Uint8Array | undefined> {
    try {
      const got = await this.#request(
        `reading s3://${this.#bucket}/${name}`,
        () => this.#client.send(new GetObjectCommand({ Bucket: this.#bucket, Key: name })),
        ["NoSuchKey"],
      );
      return await got.Body!.transformToByteArray();
    } catch (err) {
      if (err instanceof Expected) return undefined;
      throw err;
    }
  }

  async #remove(name: string): Promise<void> {
    await this.#request(
      `removing s3://${this.#bucket}/${name}`,
      () => this.#client.send(new DeleteObjectCommand({ Bucket: this.#bucket, Key: name })),
    );
  }

  async put(
    key: PartitionKey,
    generation: number,
    bytes: Uint8Array,
  ): Promise<"written" | "fenced"> {
    const dir = this.#dir(key);
    const name = `${dir}${generationName(generation)}`;
    const token = crypto.randomUUID();
    let retried = false;
    try {
      await this.#request(
        `writing s3://${this.#bucket}/${name}`,
        () =>
          this.#client.send(
            new PutObjectCommand({
              Bucket: this.#bucket,
              Key: name,
              Body: bytes,
              IfNoneMatch: "*",
              ContentType: "application/octet-stream",
              Metadata: { writer: this.#writer, put: token },
            }),
          ),
        ["PreconditionFailed"],
        () => void (retried = true),
      );
    } catch (err) {
      if (!(err instanceof Expected)) throw err;
      // After a retry, the object may be this put's own first attempt, whose answer was lost.
      if (!retried || !(await this.#isOurs(name, token))) return "fenced";
    }
    // The generation before the previous one is no longer needed (an owner that restored it
    // has claimed the one after it, or will be fenced).
    if (generation > 2) await this.#remove(`${dir}${generationName(generation - 2)}`);
    return "written";
  }

  async #isOurs(name: string, token: string): Promise<boolean> {
    const head = await this.#request(
      `checking s3://${this.#bucket}/${name}`,
      () => this.#client.send(new HeadObjectCommand({ Bucket: this.#bucket, Key: name })),
    );
    return head.Metadata?.put === token;
  }

  close(): void {
    this.#client.destroy();
  }

  /**
   * Sends `command`, retrying transient failures with backoff. An error whose code is in
   * `expected` is thrown as {@linkcode Expected} at once; others as one-line CheckpointErrors.
   */
  async #request<T>(
    what: string,
    send: () => Promise<T>,
    expected: string[] = [],
    onRetry: () => void = () => {},
  ): Promise<T> {
    const backoff = new Backoff({
      initialMs: this.#retry.initialBackoffMs,
      maxMs: this.#retry.maxBackoffMs,
    });
    let last: S3SinkError | undefined;
    for (let n = 1; n <= this.#retry.maxAttempts; n++) {
      if (n > 1) onRetry();
      try {
        return await send();
      } catch (err) {
        const e = err as { name?: string; Code?: string; $metadata?: { httpStatusCode?: number } };
        const code = e?.Code ?? e?.name ?? "";
        const status = e?.$metadata?.httpStatusCode;
        const precondition = code === "PreconditionFailed" || status === 412;
        if (expected.includes(precondition ? "PreconditionFailed" : code)) throw new Expected(code);
        last = classifyS3Error(err, this.#bucket, this.#endpoint);
        // Two conditional writes of one key at once: S3 asks to try again (409).
        const conflict = code === "ConditionalRequestConflict" || status === 409;
        if (!last.retriable && !conflict) {
          throw new CheckpointError(`checkpoint store ${this.where}: ${what}: ${last.message}`, {
            cause: last,
          });
        }
        if (n < this.#retry.maxAttempts) await sleep(backoff.next());
      }
    }
    throw new CheckpointError(
      `checkpoint store ${this.where}: ${what} failed after ${this.#retry.maxAttempts} attempts ` +
        `(${last?.message})`,
      { cause: last },
    );
  }
}

/** An answer the caller handles (NoSuchKey on a read, PreconditionFailed on a put). */
class Expected extends Error {}
