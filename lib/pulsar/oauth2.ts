/**
 * OAuth2 client-credentials authentication, as the Pulsar clients' `AuthenticationOAuth2` does it:
 * the issuer's metadata (`<issuerUrl>/.well-known/openid-configuration`) names the token
 * endpoint; a POST there with `grant_type=client_credentials`, the client's id and secret (from
 * the credentials file) and the optional `audience` and `scope` returns an access token, which is
 * sent to the broker as a token (method "token") and to the admin API as a bearer token.
 *
 * The token is cached and fetched anew before it expires (at 90 % of its lifetime) and when the
 * broker challenges it. A failed refresh while the cached token is still valid keeps the cached
 * one. The client secret never appears in an error message.
 *
 * @module
 */
import type { AuthProvider } from "./auth.ts";
import { AuthenticationError } from "./errors.ts";

/** Parameters of OAuth2 client-credentials authentication (the Pulsar clients' `authParams`). */
export interface OAuth2Params {
  /** The authorization server's issuer URL; its metadata names the token endpoint. */
  issuerUrl: string;
  /**
   * The client's credentials: `file:///path` (or a bare path) of a JSON file with `client_id` and
   * `client_secret` (and optionally `issuer_url`), or `data:application/json;base64,…`.
   * Not needed when `clientId` and `clientSecret` are given.
   */
  credentialsUrl?: string;
  /** Client id and secret given directly (as the C++ and Python clients allow). */
  clientId?: string;
  /** Secret of `clientId`. */
  clientSecret?: string;
  /** `audience` of the token request (what the broker expects in the token's `aud`). */
  audience?: string;
  /** `scope` of the token request. */
  scope?: string;
}

/** A client-credentials token source: an {@linkcode AuthProvider} plus the bare token. */
export interface OAuth2Auth extends AuthProvider {
  /** The current access token (cached; fetched when missing, near expiry, or `refresh`). */
  accessToken(options?: { refresh?: boolean }): Promise<string>;
}

/** Options of {@linkcode oauth2Auth} for tests and special set-ups. */
export interface OAuth2Options {
  /** `fetch` to use (default: the global one). */
  fetch?: typeof fetch;
  /** Clock in ms (default `Date.now`). */
  now?: () => number;
  /** Per-request timeout (default 10 000 ms). */
  timeoutMs?: number;
}

interface CachedToken {
  token: string;
  obtainedAt: number;
  /** When to fetch a new one (90 % of the lifetime). */
  refreshAt: number;
  expiresAt: number;
}

/**
 * Parses the `authParams` JSON of `AuthenticationOAuth2` in the spellings the Pulsar clients use:
 * `issuerUrl` / `issuer_url`, `privateKey` / `private_key` / `credentialsUrl`, `client_id`,
 * `client_secret`, `audience`, `scope` (`type`, when present, must be `client_credentials`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseOAuth2Params } from "./oauth2.ts";
 * const params = parseOAuth2Params(
 *   '{"issuerUrl":"https://auth.example","privateKey":"file:///etc/creds.json","audience":"pulsar"}',
 * );
 * assert.equal(params.credentialsUrl, "file:///etc/creds.json");
 * assert.equal(params.audience, "pulsar");
 * ```
 */
export function parseOAuth2Params(json: string): OAuth2Params {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    throw new AuthenticationError(
      "OAuth2 auth params must be a JSON object, e.g. " +
        `'{"issuerUrl":"https://auth.example","privateKey":"file:///creds.json"}'`,
    );
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new AuthenticationError("OAuth2 auth params must be a JSON object");
  }
  const obj = raw as Record<string, unknown>;
  const text = (...names: string[]): string | undefined => {
    for (const name of names) {
      const value = obj[name];
      if (value === undefined || value === null || value === "") continue;
      if (typeof value !== "string") {
        throw new AuthenticationError(`OAuth2 auth params: '${name}' must be a string`);
      }
      return value;
    }
    return undefined;
  };
  const type = text("type");
  if (type !== undefined && type !== "client_credentials") {
    throw new AuthenticationError(
      `OAuth2 auth params: only type 'client_credentials' is supported, got '${type}'`,
    );
  }
  const issuerUrl = text("issuerUrl", "issuer_url");
  if (issuerUrl === undefined) {
    throw new AuthenticationError("OAuth2 auth params: 'issuerUrl' is missing");
  }
  const params: OAuth2Params = { issuerUrl };
  const credentialsUrl = text("privateKey", "private_key", "credentialsUrl", "credentials_url");
  const clientId = text("clientId", "client_id");
  const clientSecret = text("clientSecret", "client_secret");
  if (credentialsUrl !== undefined) params.credentialsUrl = credentialsUrl;
  if (clientId !== undefined) params.clientId = clientId;
  if (clientSecret !== undefined) params.clientSecret = clientSecret;
  if (credentialsUrl === undefined && (clientId === undefined || clientSecret === undefined)) {
    throw new AuthenticationError(
      "OAuth2 auth params: 'privateKey' (the credentials file URL) is missing",
    );
  }
  const audience = text("audience");
  const scope = text("scope");
  if (audience !== undefined) params.audience = audience;
  if (scope !== undefined) params.scope = scope;
  return params;
}

/**
 * OAuth2 client-credentials authentication (see the module doc).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { oauth2Auth } from "./oauth2.ts";
 * const auth = oauth2Auth({
 *   issuerUrl: "https://auth.example",
 *   credentialsUrl: "file:///etc/edgepipe/credentials.json",
 * });
 * assert.equal(auth.methodName, "token");
 * ```
 */
export function oauth2Auth(params: OAuth2Params, options: OAuth2Options = {}): OAuth2Auth {
  const fetchFn = options.fetch ?? fetch;
  const now = options.now ?? Date.now;
  const timeoutMs = options.timeoutMs ?? 10_000;
  let cached: CachedToken | undefined;
  let inFlight: Promise<CachedToken> | undefined;
  let tokenEndpoint: string | undefined;

  const endpoint = async (issuerUrl: string): Promise<string> => {
    if (tokenEndpoint) return tokenEndpoint;
    const url = `${issuerUrl.replace(/\/+$/, "")}/.well-known/openid-configuration`;
    const metadata = await getJson(fetchFn, url, { method: "GET" }, timeoutMs, "issuer metadata");
    const found = (metadata as Record<string, unknown>).token_endpoint;
    if (typeof found !== "string" || found === "") {
      throw new AuthenticationError(
        `OAuth2: the issuer metadata at ${url} names no token_endpoint`,
      );
    }
    return tokenEndpoint = found;
  };

  const fetchToken = async (): Promise<CachedToken> => {
    const credentials = await readCredentials(params);
    const tokenUrl = await endpoint(credentials.issuerUrl);
    const form = new URLSearchParams({
      grant_type: "client_credentials",
      client_id: credentials.clientId,
      client_secret: credentials.clientSecret,
    });
    if (params.audience) form.set("audience", params.audience);
    if (params.scope) form.set("scope", params.scope);
    const started = now();
    const body = await getJson(
      fetchFn,
      tokenUrl,
      {
        method: "POST",
        headers: {
          "content-type": "application/x-www-form-urlencoded",
          accept: "application/json",
        },
        body: form.toString(),
      },
      timeoutMs,
      "token request",
    ) as Record<string, unknown>;
    const token = body.access_token;
    if (typeof token !== "string" || token === "") {
      throw new AuthenticationError(
        `OAuth2: the token endpoint ${tokenUrl} returned no access_token`,
      );
    }
    const lifetimeMs = typeof body.expires_in === "number" && body.expires_in > 0
      ? body.expires_in * 1000
      : 3600_000;
    return {
      token,
      obtainedAt: started,
      refreshAt: started + lifetimeMs * 0.9,
      expiresAt: started + lifetimeMs,
    };
  };

  const accessToken = async (opts: { refresh?: boolean } = {}): Promise<string> => {
    const t = now();
    // A challenge right after a fetch is answered with that token, not a second fetch.
    const fresh = cached && (opts.refresh ? t - cached.obtainedAt < 1000 : t < cached.refreshAt);
    if (cached && fresh) return cached.token;
    inFlight ??= fetchToken().finally(() => inFlight = undefined);
    try {
      cached = await inFlight;
    } catch (error) {
      // The issuer is briefly away: a token that is still valid keeps the stream going.
      if (cached && now() < cached.expiresAt - 1000) return cached.token;
      throw error;
    }
    return cached.token;
  };

  return {
    methodName: "token",
    accessToken,
    async authData(opts?: { refresh?: boolean }) {
      return new TextEncoder().encode(await accessToken(opts));
    },
  };
}

interface Credentials {
  clientId: string;
  clientSecret: string;
  issuerUrl: string;
}

/** The client id and secret: inline, or from the credentials file (re-read on every fetch). */
async function readCredentials(params: OAuth2Params): Promise<Credentials> {
  if (params.credentialsUrl === undefined) {
    return {
      clientId: params.clientId!,
      clientSecret: params.clientSecret!,
      issuerUrl: params.issuerUrl,
    };
  }
  const url = params.credentialsUrl;
  let text: string;
  if (url.startsWith("data:")) {
    const comma = url.indexOf(",");
    const payload = url.slice(comma + 1);
    text = /;base64$/.test(url.slice(0, comma))
      ? new TextDecoder().decode(Uint8Array.from(atob(payload), (c) => c.charCodeAt(0)))
      : decodeURIComponent(payload);
  } else {
    const path = url.startsWith("file://")
      ? decodeURIComponent(new URL(url).pathname)
      : url.replace(/^file:/, "");
    try {
      text = await Deno.readTextFile(path);
    } catch (cause) {
      const reason = cause instanceof Deno.errors.NotFound ? "no such file" : (cause as Error).name;
      throw new AuthenticationError(`OAuth2: cannot read the credentials file ${path}: ${reason}`);
    }
  }
  let obj: Record<string, unknown>;
  try {
    obj = JSON.parse(text);
  } catch {
    // Never quote the file: it holds the secret.
    throw new AuthenticationError("OAuth2: the credentials file is not JSON");
  }
  const id = obj.client_id;
  const secret = obj.client_secret;
  if (typeof id !== "string" || typeof secret !== "string" || id === "" || secret === "") {
    throw new AuthenticationError(
      "OAuth2: the credentials file needs string fields client_id and client_secret",
    );
  }
  // `issuerUrl` of the params wins over the file's `issuer_url`, as in the Java client.
  return { clientId: id, clientSecret: secret, issuerUrl: params.issuerUrl };
}

/** GETs or POSTs and parses JSON, with errors that name the URL and status, never the body sent. */
async function getJson(
  fetchFn: typeof fetch,
  url: string,
  init: RequestInit,
  timeoutMs: number,
  what: string,
): Promise<unknown> {
  let response: Response;
  try {
    response = await fetchFn(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
  } catch (cause) {
    const reason = cause instanceof DOMException && cause.name === "TimeoutError"
      ? `no answer within ${timeoutMs / 1000}s`
      : shortReason(cause);
    throw new AuthenticationError(`OAuth2: cannot reach the issuer at ${url}: ${reason}`, {
      cause,
    });
  }
  const text = await response.text().catch(() => "");
  if (!response.ok) {
    let detail = "";
    try {
      const body = JSON.parse(text) as Record<string, unknown>;
      detail = [body.error, body.error_description].filter((x) => typeof x === "string").join(
        ": ",
      );
    } catch { /* not JSON */ }
    const refused = response.status === 401 || response.status === 400 ||
      response.status === 403;
    throw new AuthenticationError(
      `OAuth2: the issuer ${
        refused ? "refused the " : "failed the "
      }${what} (${url}: HTTP ${response.status}${detail ? `, ${detail.slice(0, 200)}` : ""})`,
    );
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new AuthenticationError(`OAuth2: the ${what} at ${url} did not answer JSON`);
  }
}

function shortReason(cause: unknown): string {
  const message = cause instanceof Error ? cause.message : String(cause);
  if (/Connection refused/i.test(message)) return "connection refused";
  if (/dns error|failed to lookup|Name or service not known/i.test(message)) {
    return "unknown host";
  }
  return message.split("\n")[0].slice(0, 160);
}
