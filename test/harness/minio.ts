/**
 * A real S3 server for tests: MinIO built from the Go module proxy (see `install_minio.sh`),
 * started on a free loopback port with a temporary data directory and known credentials.
 *
 * `S3_ENDPOINT` (with `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY`, optional `AWS_REGION`) points
 * tests at an existing server instead. `deno run -A test/harness/minio.ts` starts one and prints
 * the variables to export.
 *
 * @module
 */
import { EdgepipeError } from "../../lib/errors.ts";
import { freePort, logTail, waitFor } from "./process.ts";

/** How tests reach the S3 server. */
export interface S3Server {
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
}

/** A MinIO process this harness started. */
export interface RunningMinio extends S3Server {
  dataDir: string;
  /** Stops the server (SIGTERM) and removes its data. */
  stop(): Promise<void>;
  /** Stops the server at once (SIGKILL), keeping its data: to test a server dying mid-upload. */
  kill(): Promise<void>;
  /** Starts the server again on the same port and data after {@linkcode RunningMinio.kill}. */
  restart(): Promise<void>;
}

/** MinIO did not build or start. */
export class MinioStartError extends EdgepipeError {}

const INSTALL_SCRIPT = new URL("./install_minio.sh", import.meta.url).pathname;

/** Builds MinIO once (cached outside the repository) and returns the binary's path. */
export async function ensureMinio(): Promise<string> {
  const result = await new Deno.Command("bash", {
    args: [INSTALL_SCRIPT],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  if (!result.success) {
    throw new MinioStartError(
      `building MinIO failed:\n${decoder.decode(result.stderr).slice(-3000)}`,
    );
  }
  return decoder.decode(result.stdout).trim().split("\n").at(-1)!;
}

/** Starts a fresh MinIO on a free loopback port. */
export async function startMinio(): Promise<RunningMinio> {
  const binary = await ensureMinio();
  const dataDir = await Deno.makeTempDir({ prefix: "edgepipe-minio-" });
  const port = await freePort();
  const consolePort = await freePort();
  const accessKeyId = "edgepipe";
  const secretAccessKey = `edgepipe-${crypto.randomUUID()}`;
  const endpoint = `http://127.0.0.1:${port}`;
  const logPath = `${dataDir}.log`;
  let child: Deno.ChildProcess | undefined;

  const spawn = async () => {
    const log = await Deno.open(logPath, { append: true, create: true, write: true });
    child = new Deno.Command(binary, {
      args: [
        "server",
        `${dataDir}/data`,
        "--address",
        `127.0.0.1:${port}`,
        "--console-address",
        `127.0.0.1:${consolePort}`,
        "--quiet",
      ],
      env: {
        MINIO_ROOT_USER: accessKeyId,
        MINIO_ROOT_PASSWORD: secretAccessKey,
        MINIO_BROWSER: "off",
        MINIO_UPDATE: "off",
        MINIO_CI_CD: "1",
      },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    // The server's output goes to a log file that startup errors quote.
    const logged = child.stdout.pipeTo(log.writable, { preventClose: true });
    const loggedErr = child.stderr.pipeTo(log.writable, { preventClose: true });
    Promise.allSettled([logged, loggedErr]).then(() => log.close());
    await waitFor(
      () => healthy(endpoint),
      60_000,
      async () =>
        new MinioStartError(`MinIO did not answer at ${endpoint}:\n${await logTail(logPath)}`),
    );
  };

  const terminate = async (signal: Deno.Signal) => {
    if (!child) return;
    const running = child;
    child = undefined;
    try {
      running.kill(signal);
    } catch { /* already gone */ }
    await running.status;
  };

  await spawn();
  return {
    endpoint,
    accessKeyId,
    secretAccessKey,
    region: "us-east-1",
    dataDir,
    async stop() {
      await terminate("SIGTERM");
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
      await Deno.remove(logPath).catch(() => {});
    },
    kill: () => terminate("SIGKILL"),
    restart: spawn,
  };
}

async function healthy(endpoint: string): Promise<boolean> {
  try {
    const response = await fetch(`${endpoint}/minio/health/live`, {
      signal: AbortSignal.timeout(2_000),
    });
    await response.body?.cancel();
    return response.ok;
  } catch {
    return false;
  }
}

let shared: Promise<S3Server> | undefined;

/**
 * The S3 server tests should use: `S3_ENDPOINT` and the AWS credential variables when set,
 * otherwise one MinIO started for this process and stopped when the process exits.
 */
export function s3Server(): Promise<S3Server> {
  const endpoint = Deno.env.get("S3_ENDPOINT");
  if (endpoint) {
    const accessKeyId = Deno.env.get("AWS_ACCESS_KEY_ID");
    const secretAccessKey = Deno.env.get("AWS_SECRET_ACCESS_KEY");
    if (!accessKeyId || !secretAccessKey) {
      throw new MinioStartError(
        "S3_ENDPOINT is set but AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY are not",
      );
    }
    return Promise.resolve({
      endpoint,
      accessKeyId,
      secretAccessKey,
      region: Deno.env.get("AWS_REGION") ?? "us-east-1",
    });
  }
  shared ??= startMinio().then((minio) => {
    globalThis.addEventListener("unload", () => {
      // The process is ending: only synchronous work runs here.
      new Deno.Command("pkill", { args: ["-KILL", "-f", minio.dataDir] }).outputSync();
      try {
        Deno.removeSync(minio.dataDir, { recursive: true });
        Deno.removeSync(`${minio.dataDir}.log`);
      } catch { /* best effort */ }
    });
    return minio;
  });
  return shared;
}

/** Environment variables that point edgepipe (and the AWS tools) at `server`. */
export function s3Env(server: S3Server): Record<string, string> {
  return {
    S3_ENDPOINT: server.endpoint,
    AWS_ENDPOINT_URL: server.endpoint,
    AWS_ACCESS_KEY_ID: server.accessKeyId,
    AWS_SECRET_ACCESS_KEY: server.secretAccessKey,
    AWS_REGION: server.region,
  };
}

if (import.meta.main) {
  const minio = await startMinio();
  for (const [name, value] of Object.entries(s3Env(minio))) console.log(`export ${name}=${value}`);
  console.error("MinIO running; Ctrl-C stops it and removes its data.");
  Deno.addSignalListener("SIGINT", async () => {
    await minio.stop();
    Deno.exit(0);
  });
}

/** One object as the independent client (boto3 + pyarrow) read it. */
export interface InspectedObject {
  key: string;
  size: number;
  /** A multipart upload's ETag ends in `-<parts>`. */
  etag: string;
  contentType?: string;
  contentEncoding?: string;
  /** Events decoded from the object. */
  events: number;
  /** Their `id` fields, in order. */
  ids: (string | null)[];
  /** The decoded events, when asked for. */
  lines?: Record<string, unknown>[];
}

const INSPECT_SCRIPT = new URL("./s3_inspect.py", import.meta.url).pathname;

async function inspect(server: S3Server, request: Record<string, unknown>): Promise<unknown> {
  const child = new Deno.Command("python3", {
    args: [INSPECT_SCRIPT],
    env: s3Env(server),
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(JSON.stringify(request)));
  await writer.close();
  const result = await child.output();
  const decoder = new TextDecoder();
  if (!result.success) {
    throw new Error(`s3_inspect.py ${request.op} failed:\n${decoder.decode(result.stderr)}`);
  }
  return JSON.parse(decoder.decode(result.stdout));
}

/** Creates a bucket with boto3. */
export async function createBucket(server: S3Server, bucket: string): Promise<void> {
  await inspect(server, { op: "create-bucket", bucket });
}

/** Lists and decodes every object under `prefix` with boto3 and pyarrow, not with edgepipe. */
export async function inspectObjects(
  server: S3Server,
  bucket: string,
  prefix = "",
  withEvents = false,
): Promise<InspectedObject[]> {
  return await inspect(server, { op: "objects", bucket, prefix, withEvents }) as InspectedObject[];
}

/** An object as boto3 lists it, with its user metadata (`x-amz-meta-*`), not decoded. */
export interface ObjectHead {
  key: string;
  size: number;
  metadata: Record<string, string>;
}

/** Lists every object under `prefix` with its metadata, with boto3. */
export async function objectHeads(
  server: S3Server,
  bucket: string,
  prefix = "",
): Promise<ObjectHead[]> {
  return await inspect(server, { op: "heads", bucket, prefix }) as ObjectHead[];
}

/** Writes an object with boto3 (whatever its bytes), bypassing edgepipe. */
export async function putObject(
  server: S3Server,
  bucket: string,
  key: string,
  bytes: Uint8Array,
): Promise<void> {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  await inspect(server, { op: "put", bucket, key, base64: btoa(binary) });
}

/** A checkpoint object, its JSON section read by boto3 and Python (not by edgepipe). */
export interface InspectedCheckpoint extends ObjectHead {
  json: Record<string, unknown>;
}

/** Reads every checkpoint under `prefix` with boto3; its CRC32 is checked with zlib. */
export async function inspectCheckpoints(
  server: S3Server,
  bucket: string,
  prefix = "",
): Promise<InspectedCheckpoint[]> {
  return await inspect(server, { op: "checkpoints", bucket, prefix }) as InspectedCheckpoint[];
}
