/**
 * ECIES as the Java client seals a data key for an EC public key: BouncyCastle's `ECIES` cipher
 * with its default parameters.
 *
 * ```
 * sealed  = V || C || T
 * V       = ephemeral public key, uncompressed point (0x04 || X || Y)
 * Z       = ECDH(ephemeral private, recipient public): X coordinate, field-size bytes
 * K       = KDF2-SHA1(V || Z), 16 + len(plaintext) bytes  (counter from 1, no derivation vector)
 * K2, K1  = K[0..16), K[16..)       (MAC key first: the ephemeral key is not empty)
 * C       = plaintext XOR K1        (no block cipher: "stream" mode)
 * T       = HMAC-SHA1(K2, C || L2), L2 = 8 zero bytes (the bit length of the empty encoding vector)
 * ```
 *
 * @module
 */
import { createECDH, createHash, createHmac, timingSafeEqual } from "node:crypto";
import type { CryptoKey } from "./keys.ts";

const MAC_KEY_BYTES = 16;
const TAG_BYTES = 20;

function b64url(text: string | undefined): Uint8Array {
  return new Uint8Array(Buffer.from(text ?? "", "base64url"));
}

/** The uncompressed point of an EC key's public half. */
function publicPoint(key: CryptoKey): Uint8Array {
  const jwk = key.key.export({ format: "jwk" });
  const x = b64url(jwk.x), y = b64url(jwk.y);
  const point = new Uint8Array(1 + x.length + y.length);
  point[0] = 4;
  point.set(x, 1);
  point.set(y, 1 + x.length);
  return point;
}

function kdf2Sha1(secret: Uint8Array, length: number): Uint8Array {
  const out = new Uint8Array(length);
  const counter = new Uint8Array(4);
  for (let offset = 0, i = 1; offset < length; i++, offset += 20) {
    new DataView(counter.buffer).setUint32(0, i);
    const block = createHash("sha1").update(secret).update(counter).digest();
    out.set(block.subarray(0, Math.min(20, length - offset)), offset);
  }
  return out;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function macAndStream(v: Uint8Array, z: Uint8Array, length: number) {
  const k = kdf2Sha1(concat(v, z), MAC_KEY_BYTES + length);
  return { macKey: k.subarray(0, MAC_KEY_BYTES), stream: k.subarray(MAC_KEY_BYTES) };
}

function tag(macKey: Uint8Array, c: Uint8Array): Uint8Array {
  return new Uint8Array(createHmac("sha1", macKey).update(c).update(new Uint8Array(8)).digest());
}

function xor(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i] ^ b[i];
  return out;
}

/**
 * Seals `plaintext` for the EC public key `recipient`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { generateKeyPairSync } from "node:crypto";
 * import { eciesOpen, eciesSeal } from "./ecies.ts";
 * const pair = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
 * const pub = { kind: "ec" as const, curve: "prime256v1", key: pair.publicKey, source: "t" };
 * const priv = { ...pub, key: pair.privateKey };
 * const sealed = eciesSeal(pub, new Uint8Array([1, 2, 3]));
 * assert.equal(sealed.length, 65 + 3 + 20);
 * assert.deepEqual(eciesOpen(priv, sealed), new Uint8Array([1, 2, 3]));
 * ```
 */
export function eciesSeal(recipient: CryptoKey, plaintext: Uint8Array): Uint8Array {
  const ephemeral = createECDH(recipient.curve!);
  const v = new Uint8Array(ephemeral.generateKeys());
  const z = new Uint8Array(ephemeral.computeSecret(publicPoint(recipient)));
  const { macKey, stream } = macAndStream(v, z, plaintext.length);
  const c = xor(plaintext, stream);
  return concat(v, c, tag(macKey, c));
}

/** Opens what {@linkcode eciesSeal} (or the Java client) sealed; throws when it is not for `key`. */
export function eciesOpen(key: CryptoKey, sealed: Uint8Array): Uint8Array {
  const jwk = key.key.export({ format: "jwk" });
  const d = b64url(jwk.d);
  const fieldBytes = b64url(jwk.x).length;
  const pointBytes = sealed[0] === 4 ? 1 + 2 * fieldBytes : 1 + fieldBytes;
  if (sealed.length < pointBytes + TAG_BYTES) throw new Error("ECIES data too short");
  const v = sealed.subarray(0, pointBytes);
  const c = sealed.subarray(pointBytes, sealed.length - TAG_BYTES);
  const t = sealed.subarray(sealed.length - TAG_BYTES);
  const ecdh = createECDH(key.curve!);
  ecdh.setPrivateKey(d);
  let z: Uint8Array;
  try {
    z = new Uint8Array(ecdh.computeSecret(v));
  } catch (cause) {
    throw new Error("ECIES ephemeral key is not on the key's curve", { cause });
  }
  const { macKey, stream } = macAndStream(v, z, c.length);
  if (!timingSafeEqual(tag(macKey, c), t)) throw new Error("ECIES MAC check failed");
  return xor(c, stream);
}
