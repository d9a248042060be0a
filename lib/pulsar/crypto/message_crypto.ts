/**
 * End-to-end encryption of message payloads, as the Java client does it (MessageCryptoBc): each
 * payload (after compression; a batch as a whole) is sealed with AES-256-GCM (12-byte IV in
 * `encryption_param`, 128-bit tag appended) under a data key; the data key travels in
 * `encryption_keys`, once per recipient key name, sealed with RSA-OAEP (SHA-1, MGF1-SHA-1) for
 * RSA keys or ECIES (see `ecies.ts`) for EC keys. Producers make a new data key every 4 hours.
 *
 * @module
 */
import {
  constants,
  createCipheriv,
  createDecipheriv,
  privateDecrypt,
  publicEncrypt,
  randomBytes,
} from "node:crypto";
import { eciesOpen, eciesSeal } from "./ecies.ts";
import type { CryptoKey } from "./keys.ts";

const IV_BYTES = 12;
const TAG_BYTES = 16;
/** How often a producer makes a new data key (the Java client's period). */
export const DATA_KEY_ROTATION_MS = 4 * 60 * 60 * 1000;
const MAX_CACHED_DATA_KEYS = 64;

function sealDataKey(key: CryptoKey, dataKey: Uint8Array): Uint8Array {
  if (key.kind === "ec") return eciesSeal(key, dataKey);
  return new Uint8Array(publicEncrypt(
    { key: key.key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: "sha1" },
    dataKey,
  ));
}

function openDataKey(key: CryptoKey, sealed: Uint8Array): Uint8Array {
  if (key.kind === "ec") return eciesOpen(key, sealed);
  return new Uint8Array(privateDecrypt(
    { key: key.key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: "sha1" },
    sealed,
  ));
}

function aesName(dataKey: Uint8Array): "aes-128-gcm" | "aes-192-gcm" | "aes-256-gcm" {
  if (dataKey.length === 16) return "aes-128-gcm";
  if (dataKey.length === 24) return "aes-192-gcm";
  if (dataKey.length === 32) return "aes-256-gcm";
  throw new Error(`data key of ${dataKey.length} bytes is not an AES key`);
}

/** A data key sealed for one key name, as `encryption_keys` carries it. */
export interface SealedDataKey {
  /** The key name. */
  key: string;
  /** The data key, sealed with RSA-OAEP or ECIES. */
  value: Uint8Array;
  /** Key metadata (the Java `EncryptionKeyInfo` metadata). */
  metadata?: Record<string, string>;
}

/** The message metadata fields encryption reads and sets (part of the wire's MessageMetadata). */
export interface EncryptionFields {
  /** `encryption_keys`: the data key, once per key name. */
  encryptionKeys?: SealedDataKey[];
  /** `encryption_param`: the AES-GCM IV. */
  encryptionParam?: Uint8Array;
}

/** A recipient of encrypted messages: the key name the consumer looks its private key up by. */
export interface RecipientKey {
  /** Key name carried in `encryption_keys` (the Java client's key name). */
  name: string;
  /** The recipient's RSA or EC public key. */
  key: CryptoKey;
  /** Key metadata carried with the sealed data key (the Java `EncryptionKeyInfo` metadata). */
  metadata?: Record<string, string>;
}

/**
 * Encrypts payloads for a producer.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { generateKeyPairSync } from "node:crypto";
 * import { MessageDecryptor, MessageEncryptor } from "./message_crypto.ts";
 * const pair = generateKeyPairSync("rsa", { modulusLength: 2048 });
 * const enc = new MessageEncryptor([
 *   { name: "app", key: { kind: "rsa", key: pair.publicKey, source: "pub" } },
 * ]);
 * const meta = { producerName: "p", sequenceId: 0, publishTime: 0 } as Record<string, unknown>;
 * const sealed = enc.seal(meta as never, new TextEncoder().encode("hi"));
 * const dec = new MessageDecryptor([{ kind: "rsa", key: pair.privateKey, source: "priv" }]);
 * assert.equal(new TextDecoder().decode(dec.open(meta as never, sealed)), "hi");
 * ```
 */
export class MessageEncryptor {
  readonly #recipients: RecipientKey[];
  readonly #now: () => number;
  readonly #rotateMs: number;
  #dataKey!: Uint8Array;
  #sealedKeys!: SealedDataKey[];
  #createdAt = 0;

  /** `now` and `rotateMs` (default 4 h) decide when a new data key is made. */
  constructor(
    recipients: RecipientKey[],
    options: { now?: () => number; rotateMs?: number } = {},
  ) {
    if (recipients.length === 0) throw new Error("encryption needs at least one public key");
    this.#recipients = recipients;
    this.#now = options.now ?? Date.now;
    this.#rotateMs = options.rotateMs ?? DATA_KEY_ROTATION_MS;
    this.#rotate();
  }

  #rotate(): void {
    this.#dataKey = new Uint8Array(randomBytes(32));
    this.#sealedKeys = this.#recipients.map((r) => ({
      key: r.name,
      value: sealDataKey(r.key, this.#dataKey),
      ...(r.metadata && Object.keys(r.metadata).length > 0 ? { metadata: r.metadata } : {}),
    }));
    this.#createdAt = this.#now();
  }

  /** Encrypts `body` and sets `encryptionKeys` and `encryptionParam` on `metadata`. */
  seal(metadata: EncryptionFields, body: Uint8Array): Uint8Array {
    if (this.#now() - this.#createdAt >= this.#rotateMs) this.#rotate();
    const iv = new Uint8Array(randomBytes(IV_BYTES));
    const cipher = createCipheriv("aes-256-gcm", this.#dataKey, iv);
    const head = cipher.update(body), tail = cipher.final(), tag = cipher.getAuthTag();
    const out = new Uint8Array(head.length + tail.length + tag.length);
    out.set(head, 0);
    out.set(tail, head.length);
    out.set(tag, head.length + tail.length);
    metadata.encryptionKeys = this.#sealedKeys;
    metadata.encryptionParam = iv;
    return out;
  }
}

/** Why a payload could not be decrypted. */
export class DecryptionError extends Error {}

/**
 * Decrypts payloads for a consumer with one or more private keys (tried on every key name the
 * message carries). Data keys are cached by their sealed bytes, so the RSA or ECIES step runs
 * once per producer data key.
 */
export class MessageDecryptor {
  readonly #keys: CryptoKey[];
  readonly #cache = new Map<string, Uint8Array>();

  /** Decrypts with `keys`. */
  constructor(keys: CryptoKey[]) {
    this.#keys = keys;
  }

  /** The plaintext of `payload`; throws {@linkcode DecryptionError} saying why not. */
  open(metadata: EncryptionFields, payload: Uint8Array): Uint8Array {
    const iv = metadata.encryptionParam;
    if (!iv || iv.length === 0) throw new DecryptionError("no encryption_param (IV)");
    const reasons: string[] = [];
    for (const sealed of metadata.encryptionKeys ?? []) {
      const dataKey = this.#dataKey(sealed, reasons);
      if (!dataKey) continue;
      try {
        return aesGcmOpen(dataKey, iv, payload);
      } catch (cause) {
        reasons.push(`key ${sealed.key}: payload does not authenticate (${errText(cause)})`);
      }
    }
    throw new DecryptionError(
      reasons.length > 0 ? reasons.join("; ") : "the message carries no data key",
    );
  }

  #dataKey(sealed: SealedDataKey, reasons: string[]): Uint8Array | undefined {
    const id = `${sealed.key}:${Buffer.from(sealed.value).toString("base64")}`;
    const cached = this.#cache.get(id);
    if (cached) return cached;
    for (const key of this.#keys) {
      try {
        const dataKey = openDataKey(key, sealed.value);
        aesName(dataKey);
        if (this.#cache.size >= MAX_CACHED_DATA_KEYS) {
          this.#cache.delete(this.#cache.keys().next().value!);
        }
        this.#cache.set(id, dataKey);
        return dataKey;
      } catch {
        // not this key: try the next one
      }
    }
    reasons.push(
      `no --decrypt-key opens the data key of key name '${sealed.key}' (${this.#keys.length} ` +
        `key${this.#keys.length === 1 ? "" : "s"} tried)`,
    );
    return undefined;
  }
}

function aesGcmOpen(dataKey: Uint8Array, iv: Uint8Array, payload: Uint8Array): Uint8Array {
  if (payload.length < TAG_BYTES) throw new Error("payload shorter than the GCM tag");
  const decipher = createDecipheriv(aesName(dataKey), dataKey, iv);
  decipher.setAuthTag(payload.subarray(payload.length - TAG_BYTES));
  const head = decipher.update(payload.subarray(0, payload.length - TAG_BYTES));
  const tail = decipher.final();
  const out = new Uint8Array(head.length + tail.length);
  out.set(head, 0);
  out.set(tail, head.length);
  return out;
}

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
