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
  /**
   * Fresh credential bytes; called on connect and on every AUTH_CHALLENGE (then with
   * `refresh: true`: the broker found the last credentials expired, so a cached token is stale).
   */
  authData(options?: { refresh?: boolean }): Promise<Uint8Array>;
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
 * Parses a token spec the way Pulsar's tools accept it: `token:<jwt>`, `file:<path>` (also
 * `file:///path`; the file is re-read on every call, so rotated files are picked up), or the bare
 * token. The one parser behind both the broker's CONNECT ({@linkcode tokenFromSpec}) and the
 * admin API's bearer token, so the two always send the same token.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tokenSupplierFromSpec } from "./auth.ts";
 * assert.equal(await tokenSupplierFromSpec("token:eyJhbGciOi")(), "eyJhbGciOi");
 * assert.equal(await tokenSupplierFromSpec(" eyJhbGciOi\n")(), "eyJhbGciOi");
 * ```
 */
export function tokenSupplierFromSpec(spec: string): () => Promise<string> {
  if (spec.startsWith("file:")) {
    const path = spec.slice("file:".length).replace(/^\/\/(?=\/)/, "");
    return async () => bareToken(await Deno.readTextFile(path));
  }
  const token = bareToken(spec);
  return () => Promise.resolve(token);
}

/** The token itself: surrounding whitespace and a `token:` prefix dropped. */
function bareToken(text: string): string {
  return text.trim().replace(/^token:/, "").trim();
}

/** Token authentication from a spec (see {@linkcode tokenSupplierFromSpec}). */
export function tokenFromSpec(spec: string): AuthProvider {
  return tokenAuth(tokenSupplierFromSpec(spec));
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
