/**
 * Pulsar wire layer benchmarks: the hot paths of producing and consuming.
 *
 *   deno bench bench/wire_bench.ts
 *
 * Throughput: a "1 MiB" case at N iter/s moves N MiB/s.
 *
 * @module
 */
import { compress, decompress } from "../lib/pulsar/compression.ts";
import {
  crc32c,
  encodeCommand,
  encodePayloadCommand,
  FrameDecoder,
  type MessageMetadata,
  packBatch,
  unpackBatch,
} from "../lib/pulsar/wire/mod.ts";

const KiB = 1024;
const payload1k = new Uint8Array(KiB).map((_, i) => (i * 31) & 0xff);
const metadata: MessageMetadata = {
  producerName: "standalone-0-12",
  sequenceId: 123456,
  publishTime: 1732400000000,
  partitionKey: "user-42",
  properties: { source: "web" },
  eventTime: 1732399999000,
};
const messageFrame = encodePayloadCommand(
  {
    type: "MESSAGE",
    consumerId: 3,
    messageId: { ledgerId: 123456, entryId: 7890, partition: -1, batchIndex: -1 },
    redeliveryCount: 0,
  },
  metadata,
  payload1k,
);
// 64 frames back to back, as a socket read delivers them.
const messageChunk = new Uint8Array(messageFrame.length * 64);
for (let i = 0; i < 64; i++) messageChunk.set(messageFrame, i * messageFrame.length);
const decoder = new FrameDecoder();

let sequenceId = 0;
Deno.bench("encode SEND payload frame, 1 KiB message", { group: "frames", baseline: true }, () => {
  metadata.sequenceId = sequenceId;
  encodePayloadCommand(
    { type: "SEND", producerId: 1, sequenceId: sequenceId++, numMessages: 1 },
    metadata,
    payload1k,
  );
});

Deno.bench("decode MESSAGE frames, 1 KiB message (per frame, 64 per chunk)", {
  group: "frames",
  n: 200,
}, () => {
  const frames = decoder.push(messageChunk);
  if (frames.length !== 64) throw new Error("bad decode");
});

Deno.bench("encode FLOW", { group: "frames" }, () => {
  encodeCommand({ type: "FLOW", consumerId: 1, messagePermits: 1000 });
});

Deno.bench("encode ACK of one id", { group: "frames" }, () => {
  encodeCommand({
    type: "ACK",
    consumerId: 1,
    ackType: "Individual",
    messageId: [{ ledgerId: 123456, entryId: 7890 }],
  });
});

const mib = new Uint8Array(1024 * KiB).map((_, i) => (i * 7) & 0xff);
Deno.bench("crc32c, 1 MiB", { group: "crc32c" }, () => {
  crc32c(mib);
});

const batchEntries = Array.from({ length: 100 }, (_, i) => ({
  metadata: { partitionKey: `user-${i}`, eventTime: 1732399999000 + i, sequenceId: i },
  payload: payload1k,
}));
const packed = packBatch(batchEntries);
Deno.bench("packBatch, 100 × 1 KiB", { group: "batch" }, () => {
  packBatch(batchEntries);
});
Deno.bench("unpackBatch, 100 × 1 KiB", { group: "batch" }, () => {
  unpackBatch(packed, 100);
});

const json = new TextEncoder().encode(
  Array.from(
    { length: 1000 },
    (_, i) =>
      JSON.stringify({ origin: ["SFO", "JFK", "LAX"][i % 3], delay: i % 97, id: `evt-${i}` }),
  ).join("\n"),
);
for (const type of ["LZ4", "SNAPPY", "ZLIB", "ZSTD"] as const) {
  const packedJson = compress(type, json);
  Deno.bench(`${type} compress, ${Math.round(json.length / KiB)} KiB JSON`, {
    group: "compression",
  }, () => {
    compress(type, json);
  });
  Deno.bench(`${type} decompress, ${Math.round(json.length / KiB)} KiB JSON`, {
    group: "compression",
  }, () => {
    decompress(type, packedJson, json.length);
  });
}
