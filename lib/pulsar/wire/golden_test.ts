// Byte-exact checks against frames encoded by the Java client's own classes
// (testdata/GoldenFrames.java → testdata/golden_frames.json). Each object below is the twin of a
// Java case: encoding it must give exactly Java's bytes, and decoding Java's bytes must give it.
import assert from "node:assert/strict";
import golden from "./testdata/golden_frames.json" with { type: "json" };
import {
  type Command,
  encodeCommand,
  encodePayloadCommand,
  FrameDecoder,
  type MessageMetadata,
  packBatch,
  unpackBatch,
} from "./mod.ts";

const TOPIC = "persistent://public/default/payments";
const utf8 = (s: string) => new TextEncoder().encode(s);
const hex = (bytes: Uint8Array) =>
  Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
const unhex = (text: string) => new Uint8Array(text.match(/../g)!.map((h) => parseInt(h, 16)));
const id = (
  ledgerId: number | bigint,
  entryId: number | bigint,
  partition = -1,
  batchIndex = -1,
) => ({
  ledgerId,
  entryId,
  partition,
  batchIndex,
});
const LONG_MAX = 0x7fffffffffffffffn;

const SIMPLE: Record<string, Command> = {
  connect: {
    type: "CONNECT",
    clientVersion: "edgepipe-0.1.0",
    authData: utf8("secret"),
    protocolVersion: 21,
    authMethodName: "token",
    featureFlags: { supportsAuthRefresh: true, supportsBrokerEntryMetadata: true },
  },
  connected: {
    type: "CONNECTED",
    serverVersion: "Pulsar Server4.0.8",
    protocolVersion: 21,
    maxMessageSize: 5242880,
    featureFlags: { supportsTopicWatchers: true },
  },
  ping: { type: "PING" },
  pong: { type: "PONG" },
  auth_challenge: {
    type: "AUTH_CHALLENGE",
    serverVersion: "Pulsar Server4.0.8",
    challenge: { authMethodName: "token", authData: utf8("refresh") },
    protocolVersion: 21,
  },
  auth_response: {
    type: "AUTH_RESPONSE",
    clientVersion: "edgepipe-0.1.0",
    response: { authMethodName: "token", authData: utf8("new-token") },
    protocolVersion: 21,
  },
  success: { type: "SUCCESS", requestId: 3 },
  error: { type: "ERROR", requestId: 7, error: "TopicNotFound", message: "Topic not found" },
  topic_migrated: {
    type: "TOPIC_MIGRATED",
    resourceId: 1,
    resourceType: "Consumer",
    brokerServiceUrl: "pulsar://green:6650",
  },
  lookup: {
    type: "LOOKUP",
    topic: TOPIC,
    requestId: 2,
    authoritative: false,
    properties: { region: "eu" },
  },
  lookup_response: {
    type: "LOOKUP_RESPONSE",
    brokerServiceUrl: "pulsar://127.0.0.1:6650",
    response: "Connect",
    requestId: 2,
    authoritative: true,
    proxyThroughServiceUrl: false,
  },
  lookup_response_failed: {
    type: "LOOKUP_RESPONSE",
    response: "Failed",
    requestId: 5,
    error: "ServiceNotReady",
    message: "Namespace bundle is being unloaded",
  },
  partitioned_metadata: {
    type: "PARTITIONED_METADATA",
    topic: TOPIC,
    requestId: 1,
    metadataAutoCreationEnabled: true,
  },
  partitioned_metadata_response: {
    type: "PARTITIONED_METADATA_RESPONSE",
    partitions: 4,
    requestId: 1,
    response: "Success",
  },
  get_topics_of_namespace: {
    type: "GET_TOPICS_OF_NAMESPACE",
    requestId: 15,
    namespace: "public/default",
    mode: "ALL",
    topicsPattern: "persistent://public/default/pay.*",
  },
  get_topics_of_namespace_response: {
    type: "GET_TOPICS_OF_NAMESPACE_RESPONSE",
    requestId: 15,
    topics: [TOPIC, "persistent://public/default/payouts"],
    filtered: true,
    topicsHash: "6a3f",
    changed: true,
  },
  get_schema: {
    type: "GET_SCHEMA",
    requestId: 16,
    topic: TOPIC,
    schemaVersion: new Uint8Array([0, 0, 0, 0, 0, 0, 0, 1]),
  },
  get_schema_response: {
    type: "GET_SCHEMA_RESPONSE",
    requestId: 16,
    schema: {
      name: "payments",
      schemaData: utf8('{"type":"record"}'),
      type: "Json",
      properties: { owner: "edge" },
    },
    schemaVersion: new Uint8Array([0, 0, 0, 0, 0, 0, 0, 1]),
  },
  get_or_create_schema: {
    type: "GET_OR_CREATE_SCHEMA",
    requestId: 19,
    topic: TOPIC,
    schema: {
      name: "payments",
      schemaData: utf8('{"type":"record","name":"P"}'),
      type: "Avro",
      properties: { __alwaysAllowNull: "true" },
    },
  },
  get_or_create_schema_response: {
    type: "GET_OR_CREATE_SCHEMA_RESPONSE",
    requestId: 19,
    schemaVersion: new Uint8Array([0, 0, 0, 0, 0, 0, 0, 2]),
  },
  get_or_create_schema_response_refused: {
    type: "GET_OR_CREATE_SCHEMA_RESPONSE",
    requestId: 20,
    errorCode: "IncompatibleSchema",
    errorMessage: "Incompatible schema: field amount removed",
  },
  producer_schema: {
    type: "PRODUCER",
    topic: TOPIC,
    producerId: 2,
    requestId: 4,
    schema: { name: "payments", schemaData: utf8('"string"'), type: "String" },
  },
  producer: {
    type: "PRODUCER",
    topic: TOPIC,
    producerId: 1,
    requestId: 3,
    producerName: "edge-1",
    metadata: { app: "edgepipe" },
    userProvidedProducerName: true,
    producerAccessMode: "Exclusive",
  },
  producer_success: {
    type: "PRODUCER_SUCCESS",
    requestId: 3,
    producerName: "standalone-0-1",
    lastSequenceId: -1,
    schemaVersion: new Uint8Array(0),
    producerReady: true,
  },
  send_receipt: {
    type: "SEND_RECEIPT",
    producerId: 1,
    sequenceId: 42,
    messageId: id(12, 34),
    highestSequenceId: 43,
  },
  send_error: {
    type: "SEND_ERROR",
    producerId: 1,
    sequenceId: 43,
    error: "ChecksumError",
    message: "Checksum failed on the broker",
  },
  close_producer: {
    type: "CLOSE_PRODUCER",
    producerId: 1,
    requestId: 9,
    assignedBrokerServiceUrl: "pulsar://broker-2:6650",
  },
  subscribe: {
    type: "SUBSCRIBE",
    topic: TOPIC,
    subscription: "scorer",
    subType: "Key_Shared",
    consumerId: 2,
    requestId: 4,
    consumerName: "c-1",
    durable: true,
    startMessageId: id(LONG_MAX, LONG_MAX),
    metadata: { host: "edge-box" },
    initialPosition: "Earliest",
    keySharedMeta: {
      keySharedMode: "STICKY",
      hashRanges: [{ start: 0, end: 32767 }, { start: 40000, end: 65535 }],
      allowOutOfOrderDelivery: false,
    },
  },
  flow: { type: "FLOW", consumerId: 2, messagePermits: 1000 },
  ack: {
    type: "ACK",
    consumerId: 2,
    ackType: "Individual",
    messageId: [
      { ...id(12, 34, -1, 1), ackSet: [1021, -(2n ** 63n), -1], batchSize: 10 },
      id(-1, -1),
    ],
    properties: { checkpoint: 5 },
    requestId: 11,
  },
  ack_cumulative: {
    type: "ACK",
    consumerId: 2,
    ackType: "Cumulative",
    messageId: [id(2 ** 40, 123456789012, 3)],
    validationError: "DecompressionError",
  },
  ack_response: { type: "ACK_RESPONSE", consumerId: 2, requestId: 11 },
  redeliver: {
    type: "REDELIVER_UNACKNOWLEDGED_MESSAGES",
    consumerId: 2,
    messageIds: [id(12, 35)],
  },
  redeliver_all: { type: "REDELIVER_UNACKNOWLEDGED_MESSAGES", consumerId: 2, consumerEpoch: 3 },
  unsubscribe: { type: "UNSUBSCRIBE", consumerId: 2, requestId: 12, force: true },
  close_consumer: { type: "CLOSE_CONSUMER", consumerId: 2, requestId: 10 },
  seek_time: { type: "SEEK", consumerId: 2, requestId: 13, messagePublishTime: 1732400000000 },
  seek_earliest: { type: "SEEK", consumerId: 2, requestId: 14, messageId: id(-1, -1) },
  get_last_message_id: { type: "GET_LAST_MESSAGE_ID", consumerId: 2, requestId: 17 },
  get_last_message_id_response: {
    type: "GET_LAST_MESSAGE_ID_RESPONSE",
    lastMessageId: id(12, 99),
    requestId: 17,
    consumerMarkDeletePosition: id(12, 50),
  },
  active_consumer_change: { type: "ACTIVE_CONSUMER_CHANGE", consumerId: 2, isActive: true },
  reached_end_of_topic: { type: "REACHED_END_OF_TOPIC", consumerId: 2 },
  consumer_stats: { type: "CONSUMER_STATS", requestId: 18, consumerId: 2 },
  consumer_stats_response: {
    type: "CONSUMER_STATS_RESPONSE",
    requestId: 18,
    msgRateOut: 12.5,
    msgThroughputOut: 1024.25,
    consumerName: "c-1",
    availablePermits: 900,
    unackedMessages: 3,
    blockedConsumerOnUnackedMsgs: false,
    subscriptionType: "Shared",
    msgBacklog: 7,
  },
};

const RICH_METADATA: MessageMetadata = {
  producerName: "edge-1",
  sequenceId: 42,
  publishTime: 1732400000000,
  properties: { source: "web", "ключ": "värde ✓" },
  replicatedFrom: "east",
  partitionKey: "user-42",
  replicateTo: ["west"],
  compression: "LZ4",
  uncompressedSize: 100,
  numMessagesInBatch: 2,
  eventTime: 1732399999000,
  schemaVersion: new Uint8Array([0, 0, 0, 0, 0, 0, 0, 3]),
  orderingKey: utf8("order-7"),
  highestSequenceId: 43,
};

const PAYLOAD_FRAMES: Record<
  string,
  { command: Command; metadata: MessageMetadata; payload: Uint8Array; brokerEntry?: object }
> = {
  send: {
    command: {
      type: "SEND",
      producerId: 1,
      sequenceId: 42,
      numMessages: 2,
      highestSequenceId: 43,
    },
    metadata: RICH_METADATA,
    payload: utf8('{"amount":12.5}'),
  },
  send_plain: {
    command: { type: "SEND", producerId: 7, sequenceId: 0 },
    metadata: { producerName: "p", sequenceId: 0, publishTime: 1732400000000 },
    payload: new Uint8Array(0),
  },
  message: {
    command: {
      type: "MESSAGE",
      consumerId: 2,
      messageId: id(12, 34, 0),
      redeliveryCount: 1,
      ackSet: [3],
    },
    metadata: RICH_METADATA,
    payload: utf8("batch-bytes"),
  },
  message_broker_entry: {
    command: { type: "MESSAGE", consumerId: 2, messageId: id(12, 35), redeliveryCount: 0 },
    metadata: { producerName: "p", sequenceId: 1, publishTime: 1732400000100 },
    payload: utf8("hi"),
    brokerEntry: { brokerTimestamp: 1732400000123, index: 99 },
  },
};

const fixtures = golden as Record<string, string>;

Deno.test("golden: every Java fixture has a TypeScript twin", () => {
  const twins = new Set([...Object.keys(SIMPLE), ...Object.keys(PAYLOAD_FRAMES), "batch"]);
  assert.deepEqual(Object.keys(fixtures).filter((name) => !twins.has(name)), []);
  assert.deepEqual([...twins].filter((name) => !(name in fixtures)), []);
});

for (const [name, command] of Object.entries(SIMPLE)) {
  Deno.test(`golden: ${name} encodes to the Java client's bytes and decodes back`, () => {
    assert.equal(hex(encodeCommand(command)), fixtures[name]);
    const frames = new FrameDecoder().push(unhex(fixtures[name]));
    assert.equal(frames.length, 1);
    assert.deepEqual(frames[0], { command });
  });
}

for (const [name, expected] of Object.entries(PAYLOAD_FRAMES)) {
  Deno.test(`golden: ${name} payload frame matches the Java client's bytes`, () => {
    const [frame] = new FrameDecoder().push(unhex(fixtures[name]));
    assert.deepEqual(frame.command, expected.command);
    assert.deepEqual(frame.metadata, expected.metadata);
    assert.deepEqual(frame.payload, expected.payload);
    assert.deepEqual(frame.brokerEntryMetadata, expected.brokerEntry);
    if (!expected.brokerEntry) {
      // Our encoder (checksum included) must agree byte for byte.
      assert.equal(
        hex(encodePayloadCommand(expected.command, expected.metadata, expected.payload)),
        fixtures[name],
      );
    }
  });
}

Deno.test("golden: batch packs like the Java producer and unpacks back", () => {
  const entries = [
    {
      metadata: {
        properties: { n: "1" },
        partitionKey: "user-1",
        payloadSize: 3,
        eventTime: 1732399999000,
        sequenceId: 10,
      },
      payload: utf8("one"),
    },
    { metadata: { payloadSize: 0, sequenceId: 11, nullValue: true }, payload: new Uint8Array(0) },
    {
      metadata: {
        payloadSize: utf8("three ✓").length,
        compactedOut: false,
        orderingKey: utf8("ok"),
        sequenceId: 12,
      },
      payload: utf8("three ✓"),
    },
  ];
  assert.equal(hex(packBatch(entries)), fixtures.batch);
  assert.deepEqual(unpackBatch(unhex(fixtures.batch), 3), entries);
});
