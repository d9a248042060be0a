/**
 * End-to-end encryption settings of `consume` (`--decrypt-key <file>`, repeatable) and `produce`
 * (`--encrypt-key <name>=<file>`, repeatable), shared with pipeline files. Key files are read and
 * parsed before anything connects; one that does not parse is a usage error (exit 2) naming it.
 *
 * @module
 */
import { UsageError } from "../errors.ts";
import {
  MessageDecryptor,
  MessageEncryptor,
  readPrivateKey,
  readPublicKey,
  type RecipientKey,
} from "../pulsar/mod.ts";

/** Help text of `--decrypt-key`. */
export const DECRYPT_HELP = `Encryption:
  --decrypt-key <file>  decrypt end-to-end encrypted messages (the Java client's format) with
                        this PEM private key: RSA or EC; PKCS#1, SEC1 or PKCS#8. Repeatable:
                        each key is tried on each key name a message carries. A message no
                        key opens follows --on-error (kind "encrypted"), never acknowledged
                        undelivered`;

/** Help text of `--encrypt-key`. */
export const ENCRYPT_HELP = `Encryption:
  --encrypt-key <name>=<file>  encrypt each message end to end (AES-256-GCM; the data key sealed
                        with RSA-OAEP or ECIES for this PEM public key, as the Java client
                        does) under the key name consumers look their private key up by.
                        Repeatable: every named key can decrypt. A new data key every 4 hours`;

/**
 * A decryptor for the private key files `paths`, or undefined when there are none.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decryptorFromFiles } from "./encryption_flags.ts";
 * assert.equal(await decryptorFromFiles([]), undefined);
 * await assert.rejects(decryptorFromFiles(["/no/such.pem"]), /--decrypt-key \/no\/such.pem/);
 * ```
 */
export async function decryptorFromFiles(
  paths: readonly string[],
  flag = "--decrypt-key",
): Promise<MessageDecryptor | undefined> {
  if (paths.length === 0) return undefined;
  return new MessageDecryptor(await Promise.all(paths.map((p) => readPrivateKey(p, flag))));
}

/** Splits `name=file` specs; a spec without both is a usage error. */
export function parseEncryptKeySpecs(
  specs: readonly string[],
  flag = "--encrypt-key",
): { name: string; file: string }[] {
  const seen = new Set<string>();
  return specs.map((spec) => {
    const eq = spec.indexOf("=");
    const name = spec.slice(0, eq).trim(), file = spec.slice(eq + 1);
    if (eq <= 0 || name === "" || file === "") {
      throw new UsageError(`${flag}: expected <key name>=<public key file>, got '${spec}'`);
    }
    if (seen.has(name)) throw new UsageError(`${flag}: key name '${name}' given twice`);
    seen.add(name);
    return { name, file };
  });
}

/**
 * An encryptor for `name → public key file` pairs, or undefined when there are none.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encryptorFromFiles } from "./encryption_flags.ts";
 * assert.equal(await encryptorFromFiles([]), undefined);
 * await assert.rejects(encryptorFromFiles([{ name: "a", file: "/no/such.pem" }]), /no\/such/);
 * ```
 */
export async function encryptorFromFiles(
  keys: readonly { name: string; file: string }[],
  flag = "--encrypt-key",
): Promise<MessageEncryptor | undefined> {
  if (keys.length === 0) return undefined;
  const recipients: RecipientKey[] = await Promise.all(
    keys.map(async ({ name, file }) => ({ name, key: await readPublicKey(file, flag) })),
  );
  return new MessageEncryptor(recipients);
}
