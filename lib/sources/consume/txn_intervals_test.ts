import assert from "node:assert/strict";
import { TxnIntervals } from "./txn_intervals.ts";
import {
  Message,
  MessageId,
  type Transaction,
  type TransactionCoordinatorClient,
} from "../../pulsar/mod.ts";
import type { TxnRecord } from "../../envelope.ts";

/** A coordinator whose transactions record what happens to them. */
function fakes() {
  const log: string[] = [];
  let next = 0;
  const coordinator = {
    newTransaction: () => {
      const text = `0:${next++}`;
      const txn = {
        text,
        commit: () => (log.push(`commit ${text}`), Promise.resolve()),
        abort: () => (log.push(`abort ${text}`), Promise.resolve()),
      };
      return Promise.resolve(txn as unknown as Transaction);
    },
  } as unknown as TransactionCoordinatorClient;
  const acker = {
    ackInTransaction: (msg: Message, txn: Transaction) => {
      log.push(`ack ${msg.id.entryId}:${msg.id.batchIndex} in ${txn.text}`);
      return Promise.resolve();
    },
  };
  return { log, coordinator, acker };
}

const msg = (entry: number, index = -1, size = 0) =>
  new Message("t", new MessageId(1n, BigInt(entry), -1, index, size), new Uint8Array(), {
    publishTime: 0,
  });

Deno.test("txn intervals: one transaction per interval, announced first, committed when all is reported", async () => {
  const { log, coordinator, acker } = fakes();
  const records: TxnRecord[] = [];
  const intervals = new TxnIntervals({
    coordinator,
    acker,
    intervalMs: 20,
    timeoutMs: 1000,
    emit: (r) => (records.push(r), Promise.resolve()),
    onFatal: (e) => assert.fail(`unexpected failure ${e}`),
  });
  await intervals.beforeMessage();
  intervals.written("a", msg(1));
  await intervals.beforeMessage();
  intervals.written("b", msg(2, 0, 2));
  await new Promise((r) => setTimeout(r, 60));
  // Time is up, but the interval ends inside a batch entry: it stays open for the entry's rest.
  await intervals.beforeMessage();
  intervals.written("c", msg(2, 1, 2));
  await intervals.beforeMessage(); // closed at the boundary: a new transaction
  intervals.written("d", msg(3));
  assert.deepEqual(records, [{ $edgepipe: "txn", txn: "0:0" }, { $edgepipe: "txn", txn: "0:1" }]);
  intervals.reported("a", msg(1));
  intervals.reported("c", msg(2, 1, 2));
  await new Promise((r) => setTimeout(r, 5));
  assert.ok(!log.includes("commit 0:0"), "b is not reported yet: no commit");
  intervals.reported("b", msg(2, 0, 2));
  await new Promise((r) => setTimeout(r, 5));
  assert.ok(log.includes("commit 0:0"));
  assert.equal(intervals.reported("zzz", msg(9)), false, "an id this run never wrote");
  const { aborted } = await intervals.finish();
  assert.equal(aborted, 1, "d was never reported: its transaction is aborted");
  assert.deepEqual(log, [
    "ack 1:-1 in 0:0",
    "ack 2:1 in 0:0",
    "ack 2:0 in 0:0",
    "commit 0:0",
    "abort 0:1",
  ]);
});

Deno.test("txn intervals: a failed commit stops the source and aborts what is left", async () => {
  const { coordinator, acker } = fakes();
  const failures: unknown[] = [];
  const failing = {
    newTransaction: async () => {
      const txn = await coordinator.newTransaction();
      (txn as unknown as { commit: () => Promise<void> }).commit = () =>
        Promise.reject(new Error("TransactionConflict"));
      return txn;
    },
  } as unknown as TransactionCoordinatorClient;
  const intervals = new TxnIntervals({
    coordinator: failing,
    acker,
    intervalMs: 1,
    timeoutMs: 1000,
    emit: () => Promise.resolve(),
    onFatal: (e) => failures.push(e),
  });
  await intervals.beforeMessage();
  intervals.written("a", msg(1));
  await new Promise((r) => setTimeout(r, 10));
  intervals.reported("a", msg(1));
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(failures.length, 1);
  await assert.rejects(intervals.beforeMessage(), /TransactionConflict/);
  await assert.rejects(intervals.finish(), /TransactionConflict/);
});
