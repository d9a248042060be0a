import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import type { MessageMetadata } from "../wire/mod.ts";
import { decodeEntryPayload } from "../message_decode.ts";
import { compress } from "../compression.ts";
import { parsePrivateKey, parsePublicKey } from "./keys.ts";
import {
  DATA_KEY_ROTATION_MS,
  DecryptionError,
  MessageDecryptor,
  MessageEncryptor,
} from "./message_crypto.ts";

const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 });
const ec = generateKeyPairSync("ec", { namedCurve: "secp384r1" });
const pem = (k: { export(o: object): string | Buffer }, type: string) =>
  String(k.export({ format: "pem", type }));
const meta = (): MessageMetadata => ({ producerName: "p", sequenceId: 0, publishTime: 0 });
const text = new TextEncoder().encode("a payload ".repeat(50));

Deno.test("private keys parse as PKCS#1, PKCS#8 and SEC1 (with or without EC PARAMETERS)", () => {
  assert.equal(parsePrivateKey(pem(rsa.privateKey, "pkcs1"), "a").kind, "rsa");
  assert.equal(parsePrivateKey(pem(rsa.privateKey, "pkcs8"), "b").kind, "rsa");
  assert.equal(parsePrivateKey(pem(ec.privateKey, "pkcs8"), "c").curve, "secp384r1");
  const sec1 = pem(ec.privateKey, "sec1");
  const params = "-----BEGIN EC PARAMETERS-----\nBgUrgQQAIg==\n-----END EC PARAMETERS-----\n";
  assert.equal(parsePrivateKey(params + sec1, "d").curve, "secp384r1");
  assert.equal(parsePublicKey(pem(ec.publicKey, "spki"), "e").kind, "ec");
  assert.equal(parsePublicKey(pem(rsa.publicKey, "pkcs1"), "f").kind, "rsa");
});

Deno.test("key files that do not parse: one line naming the file", () => {
  const broken = "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n";
  assert.throws(() => parsePrivateKey(broken, "k.pem"), /^KeyFileError: k.pem: the RSA PRIVATE/);
  assert.throws(() => parsePrivateKey(pem(rsa.publicKey, "spki"), "p.pem"), /no PEM private key/);
  assert.throws(() => parsePublicKey("hello", "q.pem"), /q.pem: no PEM public key/);
  const ed = generateKeyPairSync("ed25519");
  assert.throws(
    () => parsePrivateKey(pem(ed.privateKey, "pkcs8"), "e.pem"),
    /unsupported key type/,
  );
});

Deno.test("encrypted for RSA and EC recipients; each private key alone opens it", () => {
  const enc = new MessageEncryptor([
    { name: "r", key: parsePublicKey(pem(rsa.publicKey, "spki"), "r") },
    { name: "e", key: parsePublicKey(pem(ec.publicKey, "spki"), "e"), metadata: { v: "1" } },
  ]);
  const m = meta();
  const sealed = enc.seal(m, text);
  assert.deepEqual(m.encryptionKeys!.map((k) => k.key), ["r", "e"]);
  assert.deepEqual(m.encryptionKeys![1].metadata, { v: "1" });
  assert.equal(m.encryptionParam!.length, 12);
  assert.equal(sealed.length, text.length + 16);
  assert.notDeepEqual(sealed.subarray(0, text.length), text);
  for (const k of [rsa.privateKey, ec.privateKey]) {
    const dec = new MessageDecryptor([parsePrivateKey(pem(k, "pkcs8"), "k")]);
    assert.deepEqual(dec.open(m, sealed), text);
  }
  const other = generateKeyPairSync("ec", { namedCurve: "secp384r1" }).privateKey;
  const wrong = new MessageDecryptor([parsePrivateKey(pem(other, "pkcs8"), "w")]);
  assert.throws(() => wrong.open(m, sealed), DecryptionError);
  const tampered = sealed.slice();
  tampered[3] ^= 1;
  const right = new MessageDecryptor([parsePrivateKey(pem(rsa.privateKey, "pkcs1"), "k")]);
  assert.throws(() => right.open(m, tampered), /does not authenticate/);
});

Deno.test("a new data key every 4 hours (injected clock); old and new both decrypt", () => {
  let now = 1_000_000;
  const enc = new MessageEncryptor([
    { name: "r", key: parsePublicKey(pem(rsa.publicKey, "spki"), "r") },
  ], { now: () => now });
  const dec = new MessageDecryptor([parsePrivateKey(pem(rsa.privateKey, "pkcs1"), "k")]);
  const sealedKey = () => {
    const m = meta();
    const body = enc.seal(m, text);
    assert.deepEqual(dec.open(m, body), text);
    return Buffer.from(m.encryptionKeys![0].value).toString("hex");
  };
  const first = sealedKey();
  now += DATA_KEY_ROTATION_MS - 1;
  assert.equal(sealedKey(), first, "same data key just before 4 h");
  now += 1;
  const second = sealedKey();
  assert.notEqual(second, first, "new data key at 4 h");
  now += DATA_KEY_ROTATION_MS / 2;
  assert.equal(sealedKey(), second);
});

Deno.test("decode: decrypted first, then decompressed; a missing key is an 'encrypted' error", () => {
  const enc = new MessageEncryptor([
    { name: "e", key: parsePublicKey(pem(ec.publicKey, "spki"), "e") },
  ]);
  const m: MessageMetadata = { ...meta(), compression: "LZ4", uncompressedSize: text.length };
  const body = enc.seal(m, compress("LZ4", text));
  const dec = new MessageDecryptor([parsePrivateKey(pem(ec.privateKey, "sec1"), "k")]);
  assert.deepEqual(decodeEntryPayload(m, body, "1:2", dec).payload, text);
  const none = decodeEntryPayload(m, body, "1:2");
  assert.equal(none.error?.kind, "encrypted");
  assert.match(none.error!.message, /message 1:2 is end-to-end encrypted \(key e\)/);
});
