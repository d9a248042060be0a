/**
 * Connection settings shared by `consume` and `produce`: flags first, then a `--client-conf`
 * file (Pulsar's client.conf), then the environment (`PULSAR_SERVICE_URL`, `PULSAR_AUTH_TOKEN`,
 * `PULSAR_AUTH_PLUGIN`, `PULSAR_AUTH_PARAMS`, `PULSAR_CLIENT_CONF`, `PULSAR_TLS_CA`,
 * `PULSAR_TLS_CERT`, `PULSAR_TLS_KEY`), then the local default broker.
 *
 * @module
 */
import type { AdminOptions } from "../pulsar/admin.ts";
import type { AuthProvider, ClientOptions } from "../pulsar/mod.ts";
import { tokenFromSpec, tokenSupplierFromSpec } from "../pulsar/mod.ts";
import { type AuthMethod, authMethod } from "../pulsar/auth_params.ts";
import { type OAuth2Auth, oauth2Auth } from "../pulsar/oauth2.ts";
import { AuthenticationError } from "../pulsar/errors.ts";
import { InputError, UsageError } from "../errors.ts";
import { parseServiceUrls } from "../pulsar/service_url.ts";
import { type ClientConf, readClientConf } from "./client_conf.ts";
import { onClientStatus } from "../observe/client_status_log.ts";

/** The `parseArgs` options every Pulsar command accepts. */
export const CONNECTION_FLAGS = {
  "service-url": { type: "string" },
  token: { type: "string" },
  "auth-plugin": { type: "string" },
  "auth-params": { type: "string" },
  "client-conf": { type: "string" },
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
  --auth-plugin <p>     token | oauth2 | tls, or the Java client's class name, e.g.
                        org.apache.pulsar.client.impl.auth.oauth2.AuthenticationOAuth2
                        (env PULSAR_AUTH_PLUGIN)
  --auth-params <p>     the plugin's parameters as the Pulsar clients take them, e.g. for oauth2
                        '{"issuerUrl":"https://auth.example","privateKey":"file:///creds.json",
                        "audience":"urn:pulsar","scope":"pulsar"}' (the credentials file holds
                        client_id and client_secret), for token 'file:/path' (env PULSAR_AUTH_PARAMS)
  --client-conf <file>  read brokerServiceUrl, webServiceUrl, authPlugin, authParams and
                        tlsTrustCertsFilePath from a Pulsar client.conf (env PULSAR_CLIENT_CONF);
                        flags given as well override it
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
  "auth-plugin"?: string;
  "auth-params"?: string;
  "client-conf"?: string;
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
  const settings = await connectionSettings(flags, env);
  const serviceUrl = settings.serviceUrl;
  try {
    parseServiceUrls(serviceUrl);
  } catch (cause) {
    throw new UsageError((cause as Error).message, { cause });
  }
  const options: ClientOptions = { serviceUrl };
  const auth = authProvider(settings);
  if (auth) options.auth = auth;
  const tls = await tlsFiles(settings);
  if (tls.caCerts || tls.cert || tls.key) options.tls = tls;
  const timeout = flags["connect-timeout"];
  options.connectTimeoutMs = timeout === undefined ? 10_000 : parseTimeout(timeout);
  options.operationTimeoutMs = Math.max(options.connectTimeoutMs, 30_000);
  // A broker back from an outage is found within a few seconds, not after up to 30 s.
  options.backoff = { initialMs: 100, maxMs: 5_000 };
  // Every retry is said on stderr and counted (see lib/observe/client_status_log.ts).
  options.onStatus = onClientStatus;
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
  const settings = await connectionSettings(flags, env);
  const options: AdminOptions = { adminUrl };
  const auth = authProvider(settings);
  if (auth && "accessToken" in auth) options.token = () => (auth as OAuth2Auth).accessToken();
  else if (settings.auth?.kind === "token") {
    options.token = tokenSupplierFromSpec(settings.auth.spec);
  }
  const tls = await tlsFiles(settings);
  if (tls.caCerts) options.caCerts = tls.caCerts;
  if (tls.cert && tls.key) Object.assign(options, { cert: tls.cert, key: tls.key });
  return options;
}

/**
 * The admin API URL: `--admin-url`, then `PULSAR_ADMIN_URL`, then the client.conf's
 * `webServiceUrl` (`--client-conf` or `PULSAR_CLIENT_CONF`); undefined when none says.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { adminUrlOf } from "./pulsar_connect.ts";
 * assert.equal(await adminUrlOf({}, { PULSAR_ADMIN_URL: "http://b:8080" }), "http://b:8080");
 * ```
 */
export async function adminUrlOf(
  flags: ConnectionFlagValues & { "admin-url"?: string },
  env: Record<string, string | undefined> = Deno.env.toObject(),
): Promise<string | undefined> {
  if (flags["admin-url"]) return flags["admin-url"];
  const conf = await clientConfOf(flags, env);
  return conf.webServiceUrl ?? (env.PULSAR_ADMIN_URL || undefined);
}

interface ConnectionSettings {
  serviceUrl: string;
  auth?: AuthMethod;
  ca?: string;
  cert?: string;
  key?: string;
}

/** One OAuth2 token source per parameter set, so the client and the admin API share a token. */
const oauthSources = new Map<string, OAuth2Auth>();

function authProvider(settings: ConnectionSettings): AuthProvider | undefined {
  const auth = settings.auth;
  if (!auth || auth.kind === "tls") return undefined;
  if (auth.kind === "token") return tokenFromSpec(auth.spec);
  const id = JSON.stringify(auth.params);
  let source = oauthSources.get(id);
  if (!source) oauthSources.set(id, source = oauth2Auth(auth.params));
  return source;
}

async function clientConfOf(
  flags: ConnectionFlagValues,
  env: Record<string, string | undefined>,
): Promise<ClientConf> {
  const path = flags["client-conf"] || env.PULSAR_CLIENT_CONF;
  return path ? await readClientConf(path) : {};
}

/** Flags first, then the client.conf, then the environment; empty values count as unset. */
async function connectionSettings(
  flags: ConnectionFlagValues,
  env: Record<string, string | undefined>,
): Promise<ConnectionSettings> {
  const conf = await clientConfOf(flags, env);
  if (conf.tlsAllowInsecureConnection) {
    throw new UsageError(
      "client.conf: tlsAllowInsecureConnection=true is not supported (certificates are always " +
        "verified): set tlsTrustCertsFilePath to the broker's CA instead",
    );
  }
  const pick = (flag: string | undefined, fromConf: string | undefined, name: string) =>
    (flag !== undefined && flag !== "" ? flag : fromConf ?? env[name]) || undefined;
  const settings: ConnectionSettings = {
    serviceUrl: pick(flags["service-url"], conf.brokerServiceUrl, "PULSAR_SERVICE_URL") ??
      "pulsar://127.0.0.1:6650",
    ca: pick(flags["tls-ca"], conf.tlsTrustCertsFilePath, "PULSAR_TLS_CA"),
    cert: pick(flags["tls-cert"], undefined, "PULSAR_TLS_CERT"),
    key: pick(flags["tls-key"], undefined, "PULSAR_TLS_KEY"),
  };
  const auth = authSetting(flags, conf, env);
  if (auth?.kind === "tls") {
    settings.cert = auth.certFile ?? settings.cert;
    settings.key = auth.keyFile ?? settings.key;
  }
  if (auth) settings.auth = auth;
  return settings;
}

/** `--token`, or `--auth-plugin` + `--auth-params`, then the client.conf, then the environment. */
function authSetting(
  flags: ConnectionFlagValues,
  conf: ClientConf,
  env: Record<string, string | undefined>,
): AuthMethod | undefined {
  if (flags.token && flags["auth-plugin"]) {
    throw new UsageError("--token and --auth-plugin both say how to authenticate: give one");
  }
  if (flags["auth-params"] && !flags["auth-plugin"] && !conf.authPlugin) {
    throw new UsageError("--auth-params needs --auth-plugin (token, oauth2 or tls)");
  }
  const method = (plugin: string, params: string | undefined, where: string) => {
    try {
      return authMethod(plugin, params);
    } catch (cause) {
      // The message never quotes the params: they may hold a secret.
      if (cause instanceof AuthenticationError) throw new UsageError(`${where}: ${cause.message}`);
      throw cause;
    }
  };
  if (flags.token) return { kind: "token", spec: flags.token };
  if (flags["auth-plugin"]) {
    return method(flags["auth-plugin"], flags["auth-params"], "--auth-plugin");
  }
  if (conf.authPlugin) {
    return method(conf.authPlugin, flags["auth-params"] ?? conf.authParams, "client.conf");
  }
  if (env.PULSAR_AUTH_TOKEN) return { kind: "token", spec: env.PULSAR_AUTH_TOKEN };
  if (env.PULSAR_AUTH_PLUGIN) {
    return method(env.PULSAR_AUTH_PLUGIN, env.PULSAR_AUTH_PARAMS, "PULSAR_AUTH_PLUGIN");
  }
  return undefined;
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
