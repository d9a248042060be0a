/**
 * Token and TLS material for a broker with authentication: an HMAC secret and HS256 tokens (made
 * here with WebCrypto, so tests can mint fresh or short-lived tokens at will), and a CA with a
 * server and a client certificate made by openssl.
 *
 * @module
 */
import { run } from "./process.ts";

/** Files and tokens for a secured broker. */
export interface SecureMaterial {
  /** Token of the broker's super-user, `admin`. */
  adminToken: string;
  /** Mints a token for `subject`, optionally expiring after `ttlSeconds`. */
  mintToken(subject: string, ttlSeconds?: number): Promise<string>;
  caCertFile: string;
  serverCertFile: string;
  serverKeyFile: string;
  /** Client certificate (CN `edgepipe-client`) and key for mutual TLS. */
  clientCertFile: string;
  clientKeyFile: string;
  /** standalone.conf lines enabling token + TLS authentication on the given TLS ports. */
  brokerConfig(tlsPort: number, webTlsPort: number): Record<string, string>;
}

/** Writes the secret, certificates and keys under `dir`. */
export async function writeSecureMaterial(_home: string, dir: string): Promise<SecureMaterial> {
  await Deno.mkdir(dir, { recursive: true });
  const secret = crypto.getRandomValues(new Uint8Array(32));
  const secretFile = `${dir}/token-secret.key`;
  await Deno.writeFile(secretFile, secret);
  const key = await crypto.subtle.importKey(
    "raw",
    secret,
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const mintToken = async (subject: string, ttlSeconds?: number) => {
    const header = base64url(JSON.stringify({ alg: "HS256" }));
    const claims: Record<string, unknown> = { sub: subject };
    if (ttlSeconds !== undefined) claims.exp = Math.floor(Date.now() / 1000) + ttlSeconds;
    const body = `${header}.${base64url(JSON.stringify(claims))}`;
    const signature = await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(body));
    return `${body}.${base64url(new Uint8Array(signature))}`;
  };
  const adminToken = await mintToken("admin");

  const openssl = async (...args: string[]) => {
    const result = await run("openssl", args, { cwd: dir });
    if (!result.ok) throw new Error(`openssl ${args[0]} failed: ${result.output}`);
  };
  await openssl(
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-days",
    "2",
    "-subj",
    "/CN=edgepipe-test-ca",
    "-keyout",
    "ca.key",
    "-out",
    "ca.crt",
  );
  for (
    const [name, cn, ext] of [
      ["server", "localhost", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
      ["client", "edgepipe-client", "extendedKeyUsage=clientAuth"],
    ]
  ) {
    await openssl(
      "req",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-subj",
      `/CN=${cn}`,
      "-keyout",
      `${name}.key.pem`,
      "-out",
      `${name}.csr`,
    );
    await Deno.writeTextFile(`${dir}/${name}.ext`, `${ext}\n`);
    await openssl(
      "x509",
      "-req",
      "-in",
      `${name}.csr`,
      "-CA",
      "ca.crt",
      "-CAkey",
      "ca.key",
      "-CAcreateserial",
      "-days",
      "2",
      "-extfile",
      `${name}.ext`,
      "-out",
      `${name}.crt`,
    );
    // The broker reads PKCS#8 keys.
    await openssl("pkcs8", "-topk8", "-nocrypt", "-in", `${name}.key.pem`, "-out", `${name}.key`);
  }

  return {
    adminToken,
    mintToken,
    caCertFile: `${dir}/ca.crt`,
    serverCertFile: `${dir}/server.crt`,
    serverKeyFile: `${dir}/server.key`,
    clientCertFile: `${dir}/client.crt`,
    clientKeyFile: `${dir}/client.key`,
    brokerConfig: (tlsPort, webTlsPort) => ({
      brokerServicePortTls: String(tlsPort),
      webServicePortTls: String(webTlsPort),
      tlsCertificateFilePath: `${dir}/server.crt`,
      tlsKeyFilePath: `${dir}/server.key`,
      tlsTrustCertsFilePath: `${dir}/ca.crt`,
      authenticationEnabled: "true",
      authorizationEnabled: "true",
      authenticationProviders:
        "org.apache.pulsar.broker.authentication.AuthenticationProviderToken," +
        "org.apache.pulsar.broker.authentication.AuthenticationProviderTls",
      tokenSecretKey: `file://${secretFile}`,
      superUserRoles: "admin,edgepipe-client",
      brokerClientAuthenticationPlugin: "org.apache.pulsar.client.impl.auth.AuthenticationToken",
      brokerClientAuthenticationParameters: `token:${adminToken}`,
    }),
  };
}

function base64url(data: string | Uint8Array): string {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}
