/**
 * Connection settings shared by `consume` and `produce`: flags first, then the environment
 * (`PULSAR_SERVICE_URL`, `PULSAR_AUTH_TOKEN`, `PULSAR_TLS_CA`, `PULSAR_TLS_CERT`, `PULSAR_TLS_KEY`),
 * then the local default broker.
 *
 * @module
 */
import type { AdminOptions } from "../pulsar/admin.ts";
import type { ClientOptions } from "../pulsar/mod.ts";
import { tokenFromSpec, tokenSupplierFromSpec } from "../pulsar/mod.ts";
import { InputError, UsageError } from "../errors.ts";
import { parseServiceUrls } from "../pulsar/service_url.ts";

/** The `parseArgs` options every Pulsar command accepts. */
export const CONNECTION_FLAGS = {
  "service-url": { type: "string" },
  token: { type: "string" },
  "tls-ca": { type: "string" },
  "tls-cert": { type: "string" },
  "tls-key": { type: "string" },
  "connect-timeout": { type: "string" },
} as const;

/** Help text for {@linkcode CONNECTION_FLAGS}. */
export const CONNECTION_HELP = `Connection (flags override the environment):
  --service-url <url>   pulsar://host:6650 or pulsar+ssl://host:6651; several hosts
                        (pulsar://h1:6650,h2:6650) are tried in turn
                        (env PULSAR_SERVICE_URL, default pulsar://127.0.0.1:6650)
  --token <t>           token authentication: the token, or file:<path> (env PULSAR_AUTH_TOKEN)
  --tls-ca <file>       PEM CA bundle for pulsar+ssl (env PULSAR_TLS_CA)
  --tls-cert <file>     PEM client certificate for mutual TLS (env PULSAR_TLS_CERT)
  --tls-key <file>      PEM key of --tls-cert (env PULSAR_TLS_KEY)
  --connect-timeout <d> at start: how long to keep trying to reach the broker (lookups,
                        creating producers and subscriptions) before failing: this long, and
                        at least 30s; also the limit of one connection attempt (default 10s).
                        Once running, a lost broker is retried for as long as it takes`;

/** Values of the connection flags, as `parseArgs` returns them. */
export interface ConnectionFlagValues {
  "service-url"?: string;
  token?: string;
  "tls-ca"?: string;
  "tls-cert"?: string;
  "tls-key"?: string;
  "connect-timeout"?: string;
}

/**
 * Builds client options from flags and the environment. Certificate files are read here so that a
 * missing one is named clearly before any connection is tried.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { clientOptions } from "./pulsar_connect.ts";
 * const options = await clientOptions({ "service-url": "pulsar://broker:6650" }, {});
 * assert.equal(options.serviceUrl, "pulsar://broker:6650");
 * ```
 */
export async function clientOptions(
  flags: ConnectionFlagValues,
  env: Record<string, string | undefined> = Deno.env.toObject(),
  parseTimeout: (text: string) => number = (text) => Number(text),
): Promise<ClientOptions> {
  const settings = connectionSettings(flags, env);
  const serviceUrl = settings.serviceUrl;
  try {
    parseServiceUrls(serviceUrl);
  } catch (cause) {
    throw new UsageError((cause as Error).message, { cause });
  }
  const options: ClientOptions = { serviceUrl };
  if (settings.token) options.auth = tokenFromSpec(settings.token);
  const tls = await tlsFiles(settings);
  if (tls.caCerts || tls.cert || tls.key) options.tls = tls;
  const timeout = flags["connect-timeout"];
  options.connectTimeoutMs = timeout === undefined ? 10_000 : parseTimeout(timeout);
  options.operationTimeoutMs = Math.max(options.connectTimeoutMs, 30_000);
  // A broker back from an outage is found within a few seconds, not after up to 30 s.
  options.backoff = { initialMs: 100, maxMs: 5_000 };
  return options;
}

/**
 * Options for the broker's admin API at `adminUrl` from the same flags and environment as
 * {@linkcode clientOptions}: the same token (through the same parser) and the same CA and client
 * certificate for an `https` admin URL.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { adminOptions } from "./pulsar_connect.ts";
 * const options = await adminOptions("http://broker:8080", { token: "token:abc" }, {});
 * assert.equal(typeof options.token === "function" && await options.token(), "abc");
 * ```
 */
export async function adminOptions(
  adminUrl: string,
  flags: ConnectionFlagValues,
  env: Record<string, string | undefined> = Deno.env.toObject(),
): Promise<AdminOptions> {
  const settings = connectionSettings(flags, env);
  const options: AdminOptions = { adminUrl };
  if (settings.token) options.token = tokenSupplierFromSpec(settings.token);
  const tls = await tlsFiles(settings);
  if (tls.caCerts) options.caCerts = tls.caCerts;
  if (tls.cert && tls.key) Object.assign(options, { cert: tls.cert, key: tls.key });
  return options;
}

interface ConnectionSettings {
  serviceUrl: string;
  token?: string;
  ca?: string;
  cert?: string;
  key?: string;
}

/** Flags first, then the environment; empty values count as unset. */
function connectionSettings(
  flags: ConnectionFlagValues,
  env: Record<string, string | undefined>,
): ConnectionSettings {
  const pick = (flag: string | undefined, name: string) =>
    (flag !== undefined ? flag : env[name]) || undefined;
  return {
    serviceUrl: pick(flags["service-url"], "PULSAR_SERVICE_URL") ?? "pulsar://127.0.0.1:6650",
    token: pick(flags.token, "PULSAR_AUTH_TOKEN"),
    ca: pick(flags["tls-ca"], "PULSAR_TLS_CA"),
    cert: pick(flags["tls-cert"], "PULSAR_TLS_CERT"),
    key: pick(flags["tls-key"], "PULSAR_TLS_KEY"),
  };
}

async function tlsFiles(
  settings: ConnectionSettings,
): Promise<{ caCerts?: string[]; cert?: string; key?: string }> {
  return {
    ...(settings.ca ? { caCerts: [await readPem(settings.ca, "--tls-ca")] } : {}),
    ...(settings.cert ? { cert: await readPem(settings.cert, "--tls-cert") } : {}),
    ...(settings.key ? { key: await readPem(settings.key, "--tls-key") } : {}),
  };
}

async function readPem(path: string, flag: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (cause) {
    const reason = cause instanceof Deno.errors.NotFound
      ? "no such file"
      : cause instanceof Deno.errors.PermissionDenied
      ? "permission denied"
      : (cause as Error).message;
    // The reason already says what the cause would: no cause, so the line stays short.
    throw new InputError(`${flag}: cannot read ${path}: ${reason}`);
  }
}
