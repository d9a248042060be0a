/**
 * Authentication providers: what the client sends in CONNECT and in answer to the broker's
 * AUTH_CHALLENGE (tokens expire; the broker asks again and gets a fresh one).
 *
 * @module
 */
import { AuthenticationError } from "./errors.ts";

/** Supplies credentials for one authentication method. */
export interface AuthProvider {
  /** `auth_method_name` in CONNECT, e.g. "token". */
  readonly methodName: string;
  /** Fresh credential bytes; called on connect and on every AUTH_CHALLENGE. */
  authData(): Promise<Uint8Array>;
}

/** Where a token comes from: a fixed string, or a function that returns the current one. */
export type TokenSupplier = string | (() => string | Promise<string>);

/**
 * Token (JWT) authentication: the method Pulsar calls "token".
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tokenAuth } from "./auth.ts";
 * const auth = tokenAuth(() => Deno.env.get("PULSAR_TOKEN") ?? "dev-token");
 * assert.equal(auth.methodName, "token");
 * ```
 */
export function tokenAuth(supplier: TokenSupplier): AuthProvider {
  return {
    methodName: "token",
    async authData() {
      let token: string;
      try {
        token = typeof supplier === "string" ? supplier : await supplier();
      } catch (cause) {
        throw new AuthenticationError("the token supplier failed", { cause });
      }
      token = token.trim().replace(/^token:/, "");
      if (token === "") throw new AuthenticationError("the token supplier returned an empty token");
      return new TextEncoder().encode(token);
    },
  };
}

/**
 * Reads a token the way Pulsar's tools accept it: `token:<jwt>`, `file:<path>` (re-read on
 * every challenge, so rotated files are picked up), or the bare token.
 */
export function tokenFromSpec(spec: string): AuthProvider {
  if (spec.startsWith("file:")) {
    const path = spec.slice("file:".length).replace(/^\/\/(?=\/)/, "");
    return tokenAuth(() => Deno.readTextFile(path));
  }
  return tokenAuth(spec);
}

/**
 * TLS client-certificate authentication (the method Pulsar calls "tls"): the identity is the
 * certificate given in the client's `tls.cert` / `tls.key`, so no data travels in CONNECT.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tlsAuth } from "./auth.ts";
 * assert.equal(tlsAuth().methodName, "tls");
 * ```
 */
export function tlsAuth(): AuthProvider {
  return { methodName: "tls", authData: () => Promise.resolve(new Uint8Array()) };
}
