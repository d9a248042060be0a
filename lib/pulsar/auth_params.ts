/**
 * `authPlugin` / `authParams` as the Pulsar clients' configuration spells them (client.conf,
 * `pulsar-client --auth-plugin … --auth-params …`), turned into an authentication method:
 *
 * | plugin                                                            | params                                          |
 * | ----------------------------------------------------------------- | ----------------------------------------------- |
 * | `org.apache.pulsar.client.impl.auth.AuthenticationToken`, `token` | `token:<jwt>`, `file:<path>`, `{"token":"…"}`    |
 * | `org.apache.pulsar.client.impl.auth.oauth2.AuthenticationOAuth2`, `oauth2` | `{"issuerUrl":…,"privateKey":…,"audience":…}` |
 * | `org.apache.pulsar.client.impl.auth.AuthenticationTls`, `tls`     | `tlsCertFile:<path>,tlsKeyFile:<path>` or JSON   |
 *
 * @module
 */
import { AuthenticationError } from "./errors.ts";
import { type OAuth2Params, parseOAuth2Params } from "./oauth2.ts";

/** An authentication method chosen by `authPlugin` + `authParams`. */
export type AuthMethod =
  | { kind: "token"; spec: string }
  | { kind: "oauth2"; params: OAuth2Params }
  | { kind: "tls"; certFile?: string; keyFile?: string };

const PLUGINS: Record<string, AuthMethod["kind"]> = {
  "token": "token",
  "org.apache.pulsar.client.impl.auth.AuthenticationToken": "token",
  "oauth2": "oauth2",
  "org.apache.pulsar.client.impl.auth.oauth2.AuthenticationOAuth2": "oauth2",
  "tls": "tls",
  "org.apache.pulsar.client.impl.auth.AuthenticationTls": "tls",
};

/**
 * The method `plugin` names, configured from `params`. Unknown plugins and malformed params are
 * {@linkcode AuthenticationError}s whose message never repeats a secret.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { authMethod } from "./auth_params.ts";
 * const method = authMethod(
 *   "org.apache.pulsar.client.impl.auth.AuthenticationToken",
 *   "file:///etc/pulsar/token",
 * );
 * assert.deepEqual(method, { kind: "token", spec: "file:///etc/pulsar/token" });
 * ```
 */
export function authMethod(plugin: string, params: string | undefined): AuthMethod {
  const kind = PLUGINS[plugin.trim()] ?? PLUGINS[plugin.trim().toLowerCase()];
  if (kind === undefined) {
    throw new AuthenticationError(
      `auth plugin '${plugin}' is not supported (use token, oauth2 or tls, or their ` +
        "org.apache.pulsar.client.impl.auth class names)",
    );
  }
  const text = (params ?? "").trim();
  if (kind === "oauth2") return { kind, params: parseOAuth2Params(text) };
  if (kind === "token") {
    if (text === "") throw new AuthenticationError("token auth plugin: the auth params are empty");
    if (text.startsWith("{")) {
      const token = jsonObject(text, "token").token;
      if (typeof token !== "string" || token === "") {
        throw new AuthenticationError("token auth plugin: JSON auth params need a 'token' string");
      }
      return { kind, spec: token };
    }
    return { kind, spec: text };
  }
  const fields = text === ""
    ? {}
    : text.startsWith("{")
    ? jsonObject(text, "tls")
    : Object.fromEntries(
      text.split(",").map((pair) => {
        const colon = pair.indexOf(":");
        if (colon <= 0) {
          throw new AuthenticationError(
            `tls auth plugin: expected tlsCertFile:<path>,tlsKeyFile:<path>, got '${pair}'`,
          );
        }
        return [pair.slice(0, colon).trim(), pair.slice(colon + 1).trim()];
      }),
    );
  const cert = fields.tlsCertFile;
  const key = fields.tlsKeyFile;
  return {
    kind,
    ...(typeof cert === "string" && cert ? { certFile: cert } : {}),
    ...(typeof key === "string" && key ? { keyFile: key } : {}),
  };
}

function jsonObject(text: string, plugin: string): Record<string, unknown> {
  try {
    const value = JSON.parse(text);
    if (typeof value === "object" && value !== null && !Array.isArray(value)) return value;
  } catch { /* below */ }
  throw new AuthenticationError(`${plugin} auth plugin: the auth params are not a JSON object`);
}
