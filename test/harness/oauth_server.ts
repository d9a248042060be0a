/**
 * A real OAuth2 authorization server for tests: Ory Hydra, built from the Go module proxy by
 * `install_hydra.sh` (cached outside the repository), run as `hydra serve all --dev` with an
 * in-memory store on free loopback ports, issuing RS256 JWT access tokens. Ready in about half a
 * second once built.
 *
 * @module
 */
import { EdgepipeError } from "../../lib/errors.ts";
import { freePort, logTail, run, waitFor } from "./process.ts";

/** The OAuth2 server cannot be built or started. */
export class OAuthServerStartError extends EdgepipeError {}

/** A client registered with the server. */
export interface OAuthClient {
  clientId: string;
  clientSecret: string;
  /** A credentials file (`client_id`, `client_secret`, `issuer_url`) as the Pulsar clients read. */
  credentialsFile: string;
}

/** A running Hydra. */
export interface RunningOAuthServer {
  /** The issuer URL (no trailing slash), also the `iss` claim of its tokens. */
  issuerUrl: string;
  /** The audience every client created here may request, and the broker should accept. */
  audience: string;
  /**
   * Registers a client-credentials client; `tokenLifetime` (e.g. "5s") overrides the default
   * one hour lifetime of its access tokens.
   */
  createClient(id: string, options?: { tokenLifetime?: string }): Promise<OAuthClient>;
  /** Stops the server and removes its files. */
  stop(): Promise<void>;
}

/** Builds (first time only) and returns the Hydra binary. */
export async function ensureHydra(): Promise<string> {
  const script = new URL("./install_hydra.sh", import.meta.url).pathname;
  const result = await run("bash", [script]);
  if (!result.ok) {
    throw new OAuthServerStartError(`cannot build Ory Hydra:\n${result.output.slice(-2000)}`);
  }
  return result.output.trim().split("\n").at(-1)!;
}

/** Starts Hydra on free ports and waits until it answers its readiness probe. */
export async function startOAuthServer(): Promise<RunningOAuthServer> {
  const binary = await ensureHydra();
  const dir = await Deno.makeTempDir({ prefix: "edgepipe-hydra-" });
  const publicPort = await freePort();
  const adminPort = await freePort();
  const issuerUrl = `http://127.0.0.1:${publicPort}`;
  const adminUrl = `http://127.0.0.1:${adminPort}`;
  const audience = "urn:edgepipe:pulsar";
  const logFile = `${dir}/hydra.log`;
  const secret = [...crypto.getRandomValues(new Uint8Array(16))]
    .map((b) => b.toString(16).padStart(2, "0")).join("");
  const child = new Deno.Command("sh", {
    args: [
      "-c",
      `exec "$0" "$@" >>'${logFile}' 2>&1`,
      binary,
      "serve",
      "all",
      "--dev",
      "--sqa-opt-out",
    ],
    env: {
      DSN: "memory",
      SERVE_PUBLIC_HOST: "127.0.0.1",
      SERVE_PUBLIC_PORT: String(publicPort),
      SERVE_ADMIN_HOST: "127.0.0.1",
      SERVE_ADMIN_PORT: String(adminPort),
      URLS_SELF_ISSUER: issuerUrl,
      STRATEGIES_ACCESS_TOKEN: "jwt",
      SECRETS_SYSTEM: secret,
      LOG_LEVEL: "warn",
    },
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  const stop = async () => {
    try {
      child.kill("SIGTERM");
    } catch { /* already gone */ }
    await child.status;
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  };
  try {
    await waitFor(
      async () => {
        try {
          const response = await fetch(`${issuerUrl}/health/ready`);
          await response.body?.cancel();
          return response.ok;
        } catch {
          return false;
        }
      },
      30_000,
      async () =>
        new OAuthServerStartError(`Hydra did not get ready; log tail:\n${await logTail(logFile)}`),
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    issuerUrl,
    audience,
    async createClient(id, options = {}) {
      const clientSecret = `secret-${crypto.randomUUID()}`;
      const response = await fetch(`${adminUrl}/admin/clients`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          client_id: id,
          client_secret: clientSecret,
          grant_types: ["client_credentials"],
          audience: [audience],
          // The Pulsar clients send the id and secret in the form body.
          token_endpoint_auth_method: "client_secret_post",
          ...(options.tokenLifetime
            ? { client_credentials_grant_access_token_lifespan: options.tokenLifetime }
            : {}),
        }),
      });
      const text = await response.text();
      if (!response.ok) {
        throw new OAuthServerStartError(`Hydra refused client ${id}: ${response.status} ${text}`);
      }
      const credentialsFile = `${dir}/${id}.json`;
      await Deno.writeTextFile(
        credentialsFile,
        JSON.stringify({
          type: "client_credentials",
          client_id: id,
          client_secret: clientSecret,
          issuer_url: issuerUrl,
        }),
      );
      return { clientId: id, clientSecret, credentialsFile };
    },
    stop,
  };
}

/**
 * standalone.conf lines, for a broker started with `secure: true`, that make it also accept the
 * server's tokens through Pulsar's OpenID Connect provider (`sub`, the client id, is the role).
 * `superUsers` (client ids) get every permission besides the secure broker's own `admin`.
 */
export function openIdBrokerConfig(
  server: RunningOAuthServer,
  options: { superUsers: string[]; refreshCheckSeconds?: number },
): Record<string, string> {
  return {
    authenticationProviders: [
      "org.apache.pulsar.broker.authentication.oidc.AuthenticationProviderOpenID",
      "org.apache.pulsar.broker.authentication.AuthenticationProviderToken",
      "org.apache.pulsar.broker.authentication.AuthenticationProviderTls",
    ].join(","),
    openIDAllowedTokenIssuers: server.issuerUrl,
    openIDAllowedAudiences: server.audience,
    openIDRequireIssuersUseHttps: "false",
    openIDRoleClaim: "sub",
    superUserRoles: ["admin", "edgepipe-client", ...options.superUsers].join(","),
    // How often the broker checks connections' credentials and challenges expired ones.
    authenticationRefreshCheckSeconds: String(options.refreshCheckSeconds ?? 60),
  };
}
