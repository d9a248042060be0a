/**
 * The `pulsar:` and `s3:` blocks of a pipeline file, turned into what the commands' flags would
 * give: connection flag values for `lib/sources/pulsar_connect.ts` (so `run` authenticates the
 * way `consume` and `produce` do) and an S3 connection for the AWS default credential chain.
 *
 * @module
 */
import type { ConnectionFlagValues } from "../sources/pulsar_connect.ts";
import type { S3Connection } from "../sinks/s3.ts";
import type { PipelineConfig } from "./schema.ts";

/**
 * Connection flags from the file's `pulsar:` block; a consume source's own `serviceUrl` wins.
 * Relative file paths (client.conf, TLS files, `file:` tokens) are taken from the file's
 * directory through `path`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { pulsarConnectionFlags } from "./connection_plan.ts";
 * const flags = pulsarConnectionFlags(
 *   { auth: { oauth2: { issuerUrl: "https://auth.example", privateKey: "file:///c.json" } } },
 *   undefined,
 *   (p) => p,
 * );
 * assert.equal(flags["auth-plugin"], "oauth2");
 * ```
 */
export function pulsarConnectionFlags(
  pulsar: PipelineConfig["pulsar"],
  consumeServiceUrl: string | undefined,
  path: (p: string) => string,
): ConnectionFlagValues {
  const flags: ConnectionFlagValues = {};
  const serviceUrl = consumeServiceUrl ?? pulsar?.serviceUrl;
  if (serviceUrl) flags["service-url"] = serviceUrl;
  if (pulsar?.clientConf) flags["client-conf"] = path(pulsar.clientConf);
  const auth = pulsar?.auth;
  if (auth?.token) {
    flags.token = auth.token.startsWith("file:") && !auth.token.startsWith("file://")
      ? `file:${path(auth.token.slice("file:".length))}`
      : auth.token;
  } else if (auth?.oauth2) {
    flags["auth-plugin"] = "oauth2";
    flags["auth-params"] = JSON.stringify(auth.oauth2);
  } else if (auth?.plugin) {
    flags["auth-plugin"] = auth.plugin;
    if (auth.params !== undefined) flags["auth-params"] = auth.params;
  }
  if (pulsar?.tls?.ca) flags["tls-ca"] = path(pulsar.tls.ca);
  if (pulsar?.tls?.cert) flags["tls-cert"] = path(pulsar.tls.cert);
  if (pulsar?.tls?.key) flags["tls-key"] = path(pulsar.tls.key);
  return flags;
}

/**
 * How the plan prints the authentication: the method and where its secret lives, never the
 * secret itself.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { describeAuth } from "./connection_plan.ts";
 * assert.equal(describeAuth({ token: "eyJhbGciOi.secret.sig" }), "token");
 * ```
 */
export function describeAuth(flags: ConnectionFlagValues): string | undefined {
  if (flags.token) return flags.token.startsWith("file:") ? `token from ${flags.token}` : "token";
  if (flags["auth-plugin"] === "oauth2") {
    const issuer = (JSON.parse(flags["auth-params"] ?? "{}") as { issuerUrl?: string }).issuerUrl;
    return `OAuth2 client credentials from ${issuer}`;
  }
  if (flags["auth-plugin"]) return `auth plugin ${flags["auth-plugin"]}`;
  if (flags["client-conf"]) return `client.conf ${flags["client-conf"]}`;
  return undefined;
}

/** The S3 connection of the file's `s3:` block (unset fields: the environment and AWS chain). */
export function s3ConnectionOf(s3: PipelineConfig["s3"]): S3Connection {
  return {
    ...(s3?.profile ? { profile: s3.profile } : {}),
    ...(s3?.endpoint ? { endpoint: s3.endpoint } : {}),
    ...(s3?.region ? { region: s3.region } : {}),
  };
}
