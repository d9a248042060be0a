/**
 * What end-to-end encryption costs a consumer and a producer, in process: decoding an entry
 * (decrypt + decompress, as the consumer's intake does) and sealing one (encrypt after compress,
 * as the producer does), each against the same work without encryption, in interleaved rounds.
 * Entries: a batch of 1,000 flight-sized JSON messages (about 150 KB, LZ4) and single 1 KiB ones.
 * The RSA step runs once per data key (cached), so it is outside the per-message cost.
 *
 *   deno run -A bench/encryption_rounds.ts [rounds=7]
 *
 * Results: bench/encryption_results.md.
 */
import { generateKeyPairSync } from "node:crypto";
import { compress } from "../lib/pulsar/compression.ts";
import { decodeEntryPayload } from "../lib/pulsar/message_decode.ts";
import {
  MessageDecryptor,
  MessageEncryptor,
  parsePrivateKey,
  parsePublicKey,
} from "../lib/pulsar/mod.ts";
import { packBatch } from "../lib/pulsar/wire/batch.ts";
import type { MessageMetadata } from "../lib/pulsar/wire/mod.ts";
import { interleave, ratio, spread, table } from "./_rounds.ts";

const rounds = Number(Deno.args[0] ?? 7);
const pair = generateKeyPairSync("rsa", { modulusLength: 2048 });
const pem = (k: { export(o: object): string | Buffer }, type: string) =>
  String(k.export({ format: "pem", type }));
const encryptor = new MessageEncryptor([
  { name: "k", key: parsePublicKey(pem(pair.publicKey, "spki"), "pub") },
]);
const decryptor = new MessageDecryptor([parsePrivateKey(pem(pair.privateKey, "pkcs1"), "p")]);
const utf8 = new TextEncoder();

function flight(i: number): string {
  return JSON.stringify({
    origin: ["SFO", "ORD", "ATL"][i % 3],
    dest: "JFK",
    dep_delay: (i * 7) % 90,
    distance: 2586,
    carrier: "UA",
    flight: 100 + i,
    date: "2001-03-12",
  });
}

const meta = (): MessageMetadata => ({ producerName: "p", sequenceId: 0, publishTime: 0 });
const batch = packBatch(
  Array.from({ length: 1000 }, (_, i) => ({
    metadata: { payloadSize: 0 },
    payload: utf8.encode(flight(i)),
  })),
);
const single = utf8.encode("x".repeat(1024));

interface Entry {
  metadata: MessageMetadata;
  body: Uint8Array;
}

function entry(raw: Uint8Array, codec: "LZ4" | "NONE", encrypt: boolean): Entry {
  const metadata: MessageMetadata = meta();
  let body = raw;
  if (codec !== "NONE") {
    metadata.compression = codec;
    metadata.uncompressedSize = raw.length;
    body = compress(codec, raw);
  }
  if (encrypt) body = encryptor.seal(metadata, body);
  return { metadata, body };
}

/** Messages per second decoding `e` for about 300 ms. */
function decodeRate(e: Entry, messages: number, dec?: MessageDecryptor): Promise<number> {
  const start = performance.now();
  let n = 0;
  while (performance.now() - start < 300) {
    const out = decodeEntryPayload(e.metadata, e.body, "1:1", dec);
    if (out.error) throw out.error;
    n++;
  }
  return Promise.resolve((n * messages) / ((performance.now() - start) / 1000));
}

/** Messages per second preparing entries of `raw` for about 300 ms. */
function sealRate(raw: Uint8Array, codec: "LZ4" | "NONE", encrypt: boolean, messages: number) {
  const start = performance.now();
  let n = 0;
  while (performance.now() - start < 300) {
    entry(raw, codec, encrypt);
    n++;
  }
  return Promise.resolve((n * messages) / ((performance.now() - start) / 1000));
}

const plainBatch = entry(batch, "LZ4", false), sealedBatch = entry(batch, "LZ4", true);
const plainSingle = entry(single, "NONE", false), sealedSingle = entry(single, "NONE", true);
decodeEntryPayload(sealedBatch.metadata, sealedBatch.body, "warm", decryptor); // data key cached

const results = await interleave([
  { name: "decode batch", run: () => decodeRate(plainBatch, 1000) },
  { name: "decode batch encrypted", run: () => decodeRate(sealedBatch, 1000, decryptor) },
  { name: "decode 1KiB", run: () => decodeRate(plainSingle, 1) },
  { name: "decode 1KiB encrypted", run: () => decodeRate(sealedSingle, 1, decryptor) },
  { name: "seal batch", run: () => sealRate(batch, "LZ4", false, 1000) },
  { name: "seal batch encrypted", run: () => sealRate(batch, "LZ4", true, 1000) },
  { name: "seal 1KiB", run: () => sealRate(single, "NONE", false, 1) },
  { name: "seal 1KiB encrypted", run: () => sealRate(single, "NONE", true, 1) },
], rounds);
const r = (name: string) => results.get(name)!;
console.log(table(["what", "messages/s without", "messages/s encrypted", "encrypted/plain"], [
  [
    "consumer: decode LZ4 batch of 1,000",
    spread(r("decode batch")),
    spread(r("decode batch encrypted")),
    ratio(r("decode batch encrypted"), r("decode batch")),
  ],
  [
    "consumer: decode single 1 KiB",
    spread(r("decode 1KiB")),
    spread(r("decode 1KiB encrypted")),
    ratio(r("decode 1KiB encrypted"), r("decode 1KiB")),
  ],
  [
    "producer: LZ4 batch of 1,000",
    spread(r("seal batch")),
    spread(r("seal batch encrypted")),
    ratio(r("seal batch encrypted"), r("seal batch")),
  ],
  [
    "producer: single 1 KiB",
    spread(r("seal 1KiB")),
    spread(r("seal 1KiB encrypted")),
    ratio(r("seal 1KiB encrypted"), r("seal 1KiB")),
  ],
]));
