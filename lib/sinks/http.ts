/**
 * The HTTP sink (`edgepipe sink http --url …`), for alerting and webhooks: events are POSTed in
 * batches (a JSON array of the delivered records, or NDJSON), each batch counting as delivered
 * when the server answers 2xx. Network errors, timeouts, 408, 429 and 5xx are retried with
 * exponential backoff (a `Retry-After` in seconds is honoured) up to `maxAttempts`; other 4xx
 * answers are the batch's own fault and are not retried. Header values may come from files or
 * the environment, so that tokens never appear on a command line; they are never printed.
 *
 * @module
 */
import { deliveredRecord, type PayloadShape, RECORD_SHAPE } from "../delivered_record.ts";
import type { Envelope } from "../envelope.ts";
import { describeError, EdgepipeError, InputError, UsageError } from "../errors.ts";
import type { Sink } from "./types.ts";

/** The server did not take a batch (after the retries). */
export class HttpSinkError extends EdgepipeError {}

/** The server refused a batch as malformed (a 4xx other than 408/429): retrying cannot help. */
export class HttpRejectedError extends InputError {}

/** Options of {@linkcode HttpSink}. */
export interface HttpSinkOptions {
  url: string;
  /** Request headers (values already read from files or the environment). */
  headers?: Record<string, string>;
  /** Events per request (default 100). */
  batch?: number;
  /** Longest an event waits for its batch to fill, ms (default 200). */
  batchDelayMs?: number;
  /** `json` (an array, default) or `ndjson`. */
  format?: "json" | "ndjson";
  /** Per-request timeout, ms (default 10 s). */
  timeoutMs?: number;
  /** Attempts per batch (default 5). */
  maxAttempts?: number;
  /** First backoff, ms (default 250; doubles, at most 30 s). */
  backoffMs?: number;
  /** Requests at once (default 2). */
  maxInFlight?: number;
  payload?: PayloadShape;
  /** Retry notices. */
  log: (message: string) => void;
}

interface Pending {
  body: unknown;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/** POSTs events in batches. */
export class HttpSink implements Sink {
  readonly description: string;
  readonly #o: HttpSinkOptions;
  #batch: Pending[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  #inFlight = new Set<Promise<void>>();

  constructor(options: HttpSinkOptions) {
    this.#o = options;
    const url = new URL(options.url);
    url.username = "";
    url.password = "";
    url.search = "";
    this.description = url.toString();
  }

  send(event: Envelope): Promise<void> {
    let body: unknown;
    try {
      body = deliveredRecord(event, this.#o.payload ?? RECORD_SHAPE).payload;
    } catch (err) {
      return Promise.reject(err);
    }
    return new Promise((resolve, reject) => {
      this.#batch.push({ body, resolve, reject });
      if (this.#batch.length >= (this.#o.batch ?? 100)) this.#dispatch();
      else this.#timer ??= setTimeout(() => this.#dispatch(), this.#o.batchDelayMs ?? 200);
    });
  }

  #dispatch(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#batch.length === 0) return;
    const batch = this.#batch;
    this.#batch = [];
    const run = (async () => {
      while (this.#inFlight.size > (this.#o.maxInFlight ?? 2)) await Promise.race(this.#inFlight);
      try {
        await this.#post(batch.map((p) => p.body));
        for (const p of batch) p.resolve();
      } catch (err) {
        for (const p of batch) p.reject(err);
      }
    })();
    const tracked = run.finally(() => this.#inFlight.delete(tracked));
    this.#inFlight.add(tracked);
  }

  async #post(bodies: unknown[]): Promise<void> {
    const o = this.#o;
    const ndjson = o.format === "ndjson";
    const body = ndjson
      ? bodies.map((b) => JSON.stringify(b)).join("\n") + "\n"
      : JSON.stringify(bodies);
    const headers = {
      "content-type": ndjson ? "application/x-ndjson" : "application/json",
      ...o.headers,
    };
    const attempts = o.maxAttempts ?? 5;
    let delay = o.backoffMs ?? 250;
    let last = "";
    for (let attempt = 1; attempt <= attempts; attempt++) {
      let wait = delay;
      try {
        const response = await fetch(o.url, {
          method: "POST",
          headers,
          body,
          signal: AbortSignal.timeout(o.timeoutMs ?? 10_000),
        });
        const text = await response.text().catch(() => "");
        if (response.ok) return;
        last = `HTTP ${response.status}${text ? `: ${text.slice(0, 200)}` : ""}`;
        const retryable = response.status === 408 || response.status === 429 ||
          response.status >= 500;
        if (!retryable) {
          throw new HttpRejectedError(
            `${this.description} refused a batch of ${bodies.length}: ${last}`,
          );
        }
        const after = Number(response.headers.get("retry-after"));
        if (Number.isFinite(after) && after > 0) wait = Math.min(after * 1000, 60_000);
      } catch (err) {
        if (err instanceof HttpRejectedError) throw err;
        last = describeError(err);
      }
      if (attempt === attempts) break;
      o.log(`POST ${this.description} failed (${last}); attempt ${attempt + 1} in ${wait} ms`);
      await new Promise((r) => setTimeout(r, wait));
      delay = Math.min(delay * 2, 30_000);
    }
    throw new HttpSinkError(
      `POST ${this.description} failed ${attempts} time(s); last: ${last}`,
    );
  }

  async flush(): Promise<void> {
    this.#dispatch();
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
  }

  close(): Promise<void> {
    return this.flush();
  }
}

/**
 * Header flags: `--header 'Name: value'`, `--header-file 'Name=path'` (the file's content, one
 * trailing newline dropped), `--header-env 'Name=VAR'`. Errors name the header, never its value.
 */
export async function readHeaders(
  flags: { header?: string[]; "header-file"?: string[]; "header-env"?: string[] },
  env: Record<string, string | undefined> = Deno.env.toObject(),
): Promise<Record<string, string>> {
  const headers: Record<string, string> = {};
  for (const h of flags.header ?? []) {
    const colon = h.indexOf(":");
    if (colon <= 0) throw new UsageError(`--header must be 'Name: value' (got no name)`);
    headers[h.slice(0, colon).trim()] = h.slice(colon + 1).trim();
  }
  const pairs = (list: string[] | undefined, flag: string) =>
    (list ?? []).map((item) => {
      const eq = item.indexOf("=");
      if (eq <= 0) throw new UsageError(`${flag} must be Name=<source>`);
      return [item.slice(0, eq).trim(), item.slice(eq + 1)] as const;
    });
  for (const [name, path] of pairs(flags["header-file"], "--header-file")) {
    try {
      headers[name] = (await Deno.readTextFile(path)).replace(/\r?\n$/, "");
    } catch (cause) {
      throw new UsageError(`--header-file ${name}: cannot read ${path}`, { cause });
    }
  }
  for (const [name, variable] of pairs(flags["header-env"], "--header-env")) {
    const value = env[variable];
    if (value === undefined) throw new UsageError(`--header-env ${name}: ${variable} is not set`);
    headers[name] = value;
  }
  return headers;
}
