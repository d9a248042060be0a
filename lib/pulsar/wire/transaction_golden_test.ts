// Byte-exact checks of the transaction commands against frames encoded by the Java client's own
// classes (testdata/GoldenTxnFrames.java → testdata/golden_txn_frames.json). Each object below is
// the twin of a Java case: encoding it must give exactly Java's bytes, and decoding Java's bytes
// must give it back.
import assert from "node:assert/strict";
import golden from "./testdata/golden_txn_frames.json" with { type: "json" };
import { type Command, encodeCommand, FrameDecoder } from "./mod.ts";

const TOPIC = "persistent://public/default/payments";
const hex = (bytes: Uint8Array) =>
  Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
const unhex = (text: string) => new Uint8Array(text.match(/../g)!.map((h) => parseInt(h, 16)));
const TXN = { txnidLeastBits: 17, txnidMostBits: 3 };

const CASES: Record<string, Command> = {
  tc_client_connect_request: { type: "TC_CLIENT_CONNECT_REQUEST", requestId: 1, tcId: 3 },
  tc_client_connect_response: { type: "TC_CLIENT_CONNECT_RESPONSE", requestId: 1 },
  tc_client_connect_refused: {
    type: "TC_CLIENT_CONNECT_RESPONSE",
    requestId: 2,
    error: "TransactionCoordinatorNotFound",
    message: "not yet",
  },
  new_txn: { type: "NEW_TXN", requestId: 4, txnTtlSeconds: 60000, tcId: 3 },
  new_txn_response: {
    type: "NEW_TXN_RESPONSE",
    requestId: 4,
    txnidLeastBits: 1234567890123,
    txnidMostBits: 3,
  },
  add_partition_to_txn: {
    type: "ADD_PARTITION_TO_TXN",
    requestId: 5,
    ...TXN,
    partitions: [`${TOPIC}-partition-0`, `${TOPIC}-partition-1`],
  },
  add_partition_to_txn_response: {
    type: "ADD_PARTITION_TO_TXN_RESPONSE",
    requestId: 5,
    ...TXN,
    error: "TransactionNotFound",
    message: "txn (3,17) not found",
  },
  add_subscription_to_txn: {
    type: "ADD_SUBSCRIPTION_TO_TXN",
    requestId: 6,
    ...TXN,
    subscription: [{ topic: TOPIC, subscription: "billing" }],
  },
  add_subscription_to_txn_response: {
    type: "ADD_SUBSCRIPTION_TO_TXN_RESPONSE",
    requestId: 6,
    ...TXN,
  },
  end_txn_commit: { type: "END_TXN", requestId: 7, ...TXN, txnAction: "COMMIT" },
  end_txn_abort: { type: "END_TXN", requestId: 8, ...TXN, txnAction: "ABORT" },
  end_txn_response: {
    type: "END_TXN_RESPONSE",
    requestId: 8,
    ...TXN,
    error: "InvalidTxnStatus",
    message: "Expect Txn 3:17 to be OPEN",
  },
  send_in_txn: { type: "SEND", producerId: 7, sequenceId: 9, numMessages: 2, ...TXN },
  ack_in_txn: {
    type: "ACK",
    consumerId: 2,
    ackType: "Individual",
    messageId: [{ ledgerId: 12, entryId: 34, partition: -1, batchIndex: -1 }],
    ...TXN,
    requestId: 12,
  },
  ack_many_in_txn: {
    type: "ACK",
    consumerId: 2,
    ackType: "Individual",
    messageId: [
      { ledgerId: 12, entryId: 34, partition: 2, batchIndex: -1 },
      { ledgerId: 12, entryId: 35, partition: 2, batchIndex: -1 },
      { ledgerId: 13, entryId: 0, partition: 2, batchIndex: -1 },
    ],
    ...TXN,
    requestId: 13,
  },
  ack_response_in_txn: {
    type: "ACK_RESPONSE",
    consumerId: 2,
    ...TXN,
    error: "TransactionConflict",
    message: "conflict",
    requestId: 12,
  },
};

const fixtures = golden as Record<string, string>;

Deno.test("golden txn: every Java fixture has a TypeScript twin", () => {
  assert.deepEqual(Object.keys(fixtures), Object.keys(CASES));
});

for (const [name, command] of Object.entries(CASES)) {
  Deno.test(`golden txn: ${name} encodes to the Java client's bytes and decodes back`, () => {
    assert.equal(hex(encodeCommand(command)), fixtures[name]);
    const frames = new FrameDecoder().push(unhex(fixtures[name]));
    assert.equal(frames.length, 1);
    assert.deepEqual(frames[0], { command });
  });
}

Deno.test("golden txn: answers without an id decode to txn (0, 0), the proto default", () => {
  const [frame] = new FrameDecoder().push(unhex(fixtures.tc_client_connect_response));
  assert.equal(frame.command.type, "TC_CLIENT_CONNECT_RESPONSE");
  const bytes = encodeCommand({ type: "END_TXN_RESPONSE", requestId: 9 } as Command);
  const [end] = new FrameDecoder().push(bytes);
  assert.deepEqual(end.command, {
    type: "END_TXN_RESPONSE",
    requestId: 9,
    txnidLeastBits: 0,
    txnidMostBits: 0,
  });
});
