/**
 * Key files for end-to-end encryption, read as the Java client's default key reader reads them:
 * PEM, RSA or EC. Private keys may be PKCS#1 (`RSA PRIVATE KEY`), SEC1 (`EC PRIVATE KEY`, with or
 * without a leading `EC PARAMETERS` block) or PKCS#8 (`PRIVATE KEY`); public keys are
 * SubjectPublicKeyInfo (`PUBLIC KEY`, `RSA PUBLIC KEY`) or a certificate's key.
 *
 * @module
 */
import { createPrivateKey, createPublicKey, type KeyObject, X509Certificate } from "node:crypto";
import { UsageError } from "../../errors.ts";

/** A key file that cannot be read or does not hold a usable key. Exit code 2 in commands. */
export class KeyFileError extends UsageError {}

/** A parsed RSA or EC key. */
export interface CryptoKey {
  /** "rsa" (data key sealed with RSA-OAEP) or "ec" (sealed with ECIES). */
  kind: "rsa" | "ec";
  /** OpenSSL name of the curve of an EC key (`prime256v1`, `secp384r1`, …). */
  curve?: string;
  /** The key. */
  key: KeyObject;
  /** Where it came from (for messages; never the key itself). */
  source: string;
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g;

function blocks(text: string): { label: string; pem: string }[] {
  return [...text.matchAll(PEM_BLOCK)].map((m) => ({ label: m[1], pem: m[0] }));
}

function describe(key: KeyObject, source: string): CryptoKey {
  const type = key.asymmetricKeyType;
  if (type === "rsa") return { kind: "rsa", key, source };
  if (type === "ec") {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (!curve) throw new KeyFileError(`${source}: EC key without a named curve`);
    return { kind: "ec", curve, key, source };
  }
  throw new KeyFileError(`${source}: unsupported key type ${type} (RSA or EC keys only)`);
}

/**
 * Parses a PEM private key. `source` names it in errors (a file name).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { generateKeyPairSync } from "node:crypto";
 * import { parsePrivateKey } from "./keys.ts";
 * const { privateKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
 * const pem = privateKey.export({ format: "pem", type: "sec1" }) as string;
 * assert.equal(parsePrivateKey(pem, "k.pem").curve, "prime256v1");
 * assert.throws(() => parsePrivateKey("junk", "bad.pem"), /bad.pem: no PEM private key/);
 * ```
 */
export function parsePrivateKey(text: string, source: string): CryptoKey {
  const found = blocks(text).find((b) => /^(RSA |EC |ENCRYPTED )?PRIVATE KEY$/.test(b.label));
  if (!found) {
    throw new KeyFileError(
      `${source}: no PEM private key (expected RSA PRIVATE KEY, EC PRIVATE KEY or PRIVATE KEY)`,
    );
  }
  if (found.label === "ENCRYPTED PRIVATE KEY") {
    throw new KeyFileError(`${source}: the private key is protected by a passphrase`);
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(found.pem);
  } catch (cause) {
    throw new KeyFileError(`${source}: the ${found.label} does not parse`, { cause });
  }
  return describe(key, source);
}

/**
 * Parses a PEM public key (or the key of a PEM certificate).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { generateKeyPairSync } from "node:crypto";
 * import { parsePublicKey } from "./keys.ts";
 * const { publicKey } = generateKeyPairSync("rsa", { modulusLength: 1024 });
 * const pem = publicKey.export({ format: "pem", type: "spki" }) as string;
 * assert.equal(parsePublicKey(pem, "k.pem").kind, "rsa");
 * ```
 */
export function parsePublicKey(text: string, source: string): CryptoKey {
  const found = blocks(text).find((b) => /^((RSA )?PUBLIC KEY|CERTIFICATE)$/.test(b.label));
  if (!found) {
    throw new KeyFileError(
      `${source}: no PEM public key (expected PUBLIC KEY, RSA PUBLIC KEY or CERTIFICATE)`,
    );
  }
  let key: KeyObject;
  try {
    key = found.label === "CERTIFICATE"
      ? new X509Certificate(found.pem).publicKey
      : createPublicKey(found.pem);
  } catch (cause) {
    throw new KeyFileError(`${source}: the ${found.label} does not parse`, { cause });
  }
  return describe(key, source);
}

async function readKeyFile(path: string, flag: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (cause) {
    throw new KeyFileError(`${flag} ${path}: ${(cause as Error).message}`, { cause });
  }
}

/** Reads and parses the private key file at `path`; `flag` names it in errors. */
export async function readPrivateKey(path: string, flag = "--decrypt-key"): Promise<CryptoKey> {
  return parsePrivateKey(await readKeyFile(path, flag), `${flag} ${path}`);
}

/** Reads and parses the public key file at `path`; `flag` names it in errors. */
export async function readPublicKey(path: string, flag = "--encrypt-key"): Promise<CryptoKey> {
  return parsePublicKey(await readKeyFile(path, flag), `${flag} ${path}`);
}
