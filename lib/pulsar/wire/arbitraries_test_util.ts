/**
 * fast-check generators of commands, metadata and batches, shared by the wire tests.
 * Generated values are in canonical decoded form (defaults present, Longs as numbers when safe),
 * so `decode(encode(x))` must deep-equal `x`.
 *
 * @module
 */
import fc from "fast-check";
import type { Command, Long, MessageIdData, MessageMetadata } from "./mod.ts";
import { toLong } from "./protobuf.ts";

const { constant } = fc;

// Decoded objects have Object.prototype; generate the same (fast-check may use null prototypes).
function record<T>(
  model: { [K in keyof T]: fc.Arbitrary<T[K]> },
  options: { requiredKeys?: (keyof T)[] } = {},
): fc.Arbitrary<Partial<T> & T> {
  const keys = options.requiredKeys ?? (Object.keys(model) as (keyof T)[]);
  return fc.record(model, { requiredKeys: keys, noNullPrototype: true }) as fc.Arbitrary<T>;
}

/** Any 64-bit integer, as a number when that is exact. */
export const long: fc.Arbitrary<Long> = fc.oneof(
  fc.maxSafeInteger(),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map(toLong),
  fc.constantFrom<Long>(-1, 0, 2n ** 63n - 1n),
);
const u64 = fc.maxSafeNat();
const u32 = fc.nat({ max: 0xffffffff });
const i32 = fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });
const text = fc.string({ unit: "grapheme", maxLength: 40 });
const bytes = fc.uint8Array({ maxLength: 64 });
// Empty maps and lists are not sent at all, so they decode as absent: generate non-empty ones.
const kv = fc.dictionary(text, text, { minKeys: 1, maxKeys: 4, noNullPrototype: true });
const serverError = fc.constantFrom(
  "UnknownError",
  "ServiceNotReady",
  "TopicNotFound",
  "ProducerFenced",
  "ChecksumError",
) as fc.Arbitrary<"TopicNotFound">;

/** A message id with its decode defaults filled in. */
export const messageId: fc.Arbitrary<MessageIdData> = record(
  {
    ledgerId: long,
    entryId: long,
    partition: i32,
    batchIndex: i32,
    ackSet: fc.array(long, { minLength: 1, maxLength: 3 }),
    batchSize: i32,
  },
  { requiredKeys: ["ledgerId", "entryId", "partition", "batchIndex"] },
);

/** Message metadata with any mix of optional fields. */
export const metadata: fc.Arbitrary<MessageMetadata> = record(
  {
    producerName: text,
    sequenceId: u64,
    publishTime: u64,
    properties: kv,
    replicatedFrom: text,
    partitionKey: text,
    replicateTo: fc.array(text, { minLength: 1, maxLength: 3 }),
    compression: fc.constantFrom("NONE", "LZ4", "ZLIB", "ZSTD", "SNAPPY") as fc.Arbitrary<"LZ4">,
    uncompressedSize: u32,
    numMessagesInBatch: i32,
    eventTime: u64,
    encryptionKeys: fc.array(
      record({ key: text, value: bytes, metadata: kv }, { requiredKeys: ["key", "value"] }),
      { minLength: 1, maxLength: 2 },
    ),
    encryptionAlgo: text,
    encryptionParam: bytes,
    schemaVersion: bytes,
    partitionKeyB64Encoded: fc.boolean(),
    orderingKey: bytes,
    deliverAtTime: u64,
    markerType: i32,
    txnidLeastBits: u64,
    txnidMostBits: u64,
    highestSequenceId: u64,
    nullValue: fc.boolean(),
    uuid: text,
    numChunksFromMsg: i32,
    totalChunkMsgSize: i32,
    chunkId: i32,
    nullPartitionKey: fc.boolean(),
  },
  { requiredKeys: ["producerName", "sequenceId", "publishTime"] },
);

/** Commands of every family (each with its decode defaults filled in). */
export const command: fc.Arbitrary<Command> = fc.oneof(
  record({ type: constant("PING" as const) }),
  record(
    {
      type: constant("CONNECT" as const),
      clientVersion: text,
      authData: bytes,
      protocolVersion: i32,
      authMethodName: text,
      featureFlags: record({ supportsAuthRefresh: fc.boolean() }, { requiredKeys: [] }),
    },
    { requiredKeys: ["type", "clientVersion"] },
  ),
  record({ type: constant("FLOW" as const), consumerId: u64, messagePermits: u32 }),
  record(
    {
      type: constant("SEND" as const),
      producerId: u64,
      sequenceId: u64,
      numMessages: i32,
      highestSequenceId: u64,
      isChunk: fc.boolean(),
      messageId,
    },
    { requiredKeys: ["type", "producerId", "sequenceId"] },
  ),
  record(
    {
      type: constant("MESSAGE" as const),
      consumerId: u64,
      messageId,
      redeliveryCount: u32,
      ackSet: fc.array(long, { minLength: 1, maxLength: 4 }),
      consumerEpoch: u64,
    },
    { requiredKeys: ["type", "consumerId", "messageId", "redeliveryCount"] },
  ),
  record(
    {
      type: constant("ACK" as const),
      consumerId: u64,
      ackType: fc.constantFrom("Individual", "Cumulative") as fc.Arbitrary<"Individual">,
      messageId: fc.array(messageId, { minLength: 1, maxLength: 5 }),
      properties: fc.dictionary(text, u64, { minKeys: 1, maxKeys: 3, noNullPrototype: true }),
      requestId: u64,
    },
    { requiredKeys: ["type", "consumerId", "ackType"] },
  ),
  record(
    {
      type: constant("SUBSCRIBE" as const),
      topic: text,
      subscription: text,
      subType: fc.constantFrom("Exclusive", "Shared", "Failover", "Key_Shared") as fc.Arbitrary<
        "Shared"
      >,
      consumerId: u64,
      requestId: u64,
      startMessageId: messageId,
      metadata: kv,
      initialPosition: fc.constantFrom("Latest", "Earliest") as fc.Arbitrary<"Latest">,
      keySharedMeta: record({
        keySharedMode: fc.constantFrom("AUTO_SPLIT", "STICKY") as fc.Arbitrary<"STICKY">,
        hashRanges: fc.array(record({ start: i32, end: i32 }), { minLength: 1, maxLength: 3 }),
      }),
    },
    { requiredKeys: ["type", "topic", "subscription", "subType", "consumerId", "requestId"] },
  ),
  record(
    {
      type: constant("LOOKUP_RESPONSE" as const),
      brokerServiceUrl: text,
      response: fc.constantFrom("Redirect", "Connect", "Failed") as fc.Arbitrary<"Connect">,
      requestId: u64,
      authoritative: fc.boolean(),
      error: serverError,
      message: text,
    },
    { requiredKeys: ["type", "requestId"] },
  ),
  record({ type: constant("ERROR" as const), requestId: u64, error: serverError, message: text }),
  record({
    type: constant("PRODUCER_SUCCESS" as const),
    requestId: u64,
    producerName: text,
    lastSequenceId: fc.integer({ min: -1, max: Number.MAX_SAFE_INTEGER }),
    producerReady: fc.boolean(),
  }),
  record(
    {
      type: constant("CONSUMER_STATS_RESPONSE" as const),
      requestId: u64,
      msgRateOut: fc.double(),
      consumerName: text,
      msgBacklog: u64,
    },
    { requiredKeys: ["type", "requestId"] },
  ),
  record({
    type: constant("GET_TOPICS_OF_NAMESPACE_RESPONSE" as const),
    requestId: u64,
    topics: fc.array(text, { minLength: 1, maxLength: 5 }),
  }),
);

/** A payload-carrying command (SEND or MESSAGE). */
export const payloadCommand: fc.Arbitrary<Command> = command.filter((c) =>
  c.type === "SEND" || c.type === "MESSAGE"
);

/** Splits `bytes` into chunks at the given cut points. */
export function chunk(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let start = 0;
  for (const point of points) {
    chunks.push(bytes.subarray(start, point));
    start = point;
  }
  chunks.push(bytes.subarray(start));
  return chunks;
}
