import assert from "node:assert/strict";
import { TxnAckBatcher } from "./txn_acks.ts";
import type { MessageIdWire } from "./message_id.ts";
import type { Transaction } from "./transaction.ts";

const txnA = { text: "0:1" } as Transaction;
const txnB = { text: "0:2" } as Transaction;
const id = (entryId: number): MessageIdWire => ({ ledgerId: 9, entryId });

/** A sender that records requests and settles each one when the test says. */
function recorder() {
  const requests: { txn: string; entries: number[]; answer: (error?: Error) => void }[] = [];
  const send = (txn: Transaction, ids: MessageIdWire[]) =>
    new Promise<void>((resolve, reject) => {
      requests.push({
        txn: txn.text,
        entries: ids.map((i) => Number(i.entryId)),
        answer: (error) => error ? reject(error) : resolve(),
      });
    });
  return { requests, send };
}

/** Settled state of a promise, without waiting for it. */
async function state(p: Promise<unknown>): Promise<"pending" | "fulfilled" | "rejected"> {
  const marker = {};
  try {
    return await Promise.race([p, Promise.resolve(marker)]) === marker ? "pending" : "fulfilled";
  } catch {
    return "rejected";
  }
}

Deno.test("txn acks: the acks of one transaction within the delay share one request", async () => {
  const { requests, send } = recorder();
  const batcher = new TxnAckBatcher({ send, delayMs: 5 });
  const acks = [1, 2, 3].map((n) => batcher.add(txnA, [id(n)]));
  assert.equal(requests.length, 0, "nothing is sent before the delay");
  await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(requests.map((r) => r.entries), [[1, 2, 3]]);
  assert.equal(await state(acks[0]), "pending", "an ack settles with the broker's answer");
  requests[0].answer();
  await Promise.all(acks);
  assert.equal(batcher.waiting, 0);
});

Deno.test("txn acks: two transactions never share a request", async () => {
  const { requests, send } = recorder();
  const batcher = new TxnAckBatcher({ send, delayMs: 1 });
  const acks = [batcher.add(txnA, [id(1)]), batcher.add(txnB, [id(2)]), batcher.add(txnA, [id(3)])];
  await new Promise((r) => setTimeout(r, 20));
  const byTxn = Object.fromEntries(requests.map((r) => [r.txn, r.entries]));
  assert.deepEqual(byTxn, { "0:1": [1, 3], "0:2": [2] });
  assert.equal(requests.length, 2);
  for (const r of requests) r.answer();
  await Promise.all(acks);
});

Deno.test("txn acks: a full batch goes at once, the rest waits for the next", async () => {
  const { requests, send } = recorder();
  const batcher = new TxnAckBatcher({ send, maxIds: 3, delayMs: 60_000 });
  const first = batcher.add(txnA, [id(1), id(2)]);
  const second = batcher.add(txnA, [id(3)]);
  assert.deepEqual(requests.map((r) => r.entries), [[1, 2, 3]], "sent without waiting");
  const third = batcher.add(txnA, [id(4)]);
  assert.equal(requests.length, 1);
  batcher.flush();
  assert.deepEqual(requests.map((r) => r.entries), [[1, 2, 3], [4]]);
  requests[0].answer();
  await Promise.all([first, second]);
  assert.equal(await state(third), "pending", "the second request is not answered yet");
  requests[1].answer();
  await third;
});

Deno.test("txn acks: a refused request fails each of its acks, not the next request's", async () => {
  const { requests, send } = recorder();
  const batcher = new TxnAckBatcher({ send, delayMs: 60_000 });
  const refused = [batcher.add(txnA, [id(1)]), batcher.add(txnA, [id(2)])];
  batcher.flush(txnA);
  const later = batcher.add(txnA, [id(3)]);
  batcher.flush(txnA);
  requests[0].answer(new Error("TransactionConflict"));
  requests[1].answer();
  for (const ack of refused) await assert.rejects(ack, /TransactionConflict/);
  await later;
});

Deno.test("txn acks: a sender that throws fails the acks it was given", async () => {
  const batcher = new TxnAckBatcher({
    send: () => {
      throw new Error("consumer closed");
    },
    delayMs: 60_000,
  });
  const ack = batcher.add(txnA, [id(1)]);
  batcher.flush();
  await assert.rejects(ack, /consumer closed/);
});

Deno.test("txn acks: nothing to acknowledge sends nothing", async () => {
  const { requests, send } = recorder();
  const batcher = new TxnAckBatcher({ send, delayMs: 1 });
  await batcher.add(txnA, []);
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(requests.length, 0);
  assert.equal(batcher.waiting, 0);
});
