import assert from "node:assert/strict";
import type { ClientStatus } from "./client_status.ts";
import { Redelivery, type RedeliverySeam } from "./consumer_redelivery.ts";
import type { DeadLetterError } from "./consumer_errors.ts";
import { Message } from "./message.ts";
import { MessageId } from "./message_id.ts";
import type { Producer } from "./producer.ts";

const message = (entry: number, redeliveryCount: number) =>
  new Message("t", new MessageId(1n, BigInt(entry)), new Uint8Array([entry]), {
    publishTime: 1,
    redeliveryCount,
  });

function seam() {
  const log = {
    redelivered: [] as number[],
    acked: [] as number[],
    failed: [] as DeadLetterError[],
    dead: [] as number[],
  };
  const s: RedeliverySeam = {
    redeliver: (messages) =>
      void log.redelivered.push(...messages.map((m) => Number(m.id.entryId))),
    ack: (msg) => void log.acked.push(Number(msg.id.entryId)),
    fail: (error) => void log.failed.push(error),
    createProducer: () =>
      Promise.resolve({
        send: (m: { payload: Uint8Array }) => {
          log.dead.push(m.payload[0]);
          return Promise.resolve();
        },
        close: () => Promise.resolve(),
      } as unknown as Producer),
  };
  return { log, seam: s };
}

/** Waits (bounded) until `done()` holds; the test then asserts what happened. */
async function until(done: () => boolean) {
  for (let i = 0; i < 200 && !done(); i++) await new Promise((r) => setTimeout(r, 5));
}

Deno.test("nacks past the redelivery limit go to the dead-letter topic, the others back", async () => {
  const { log, seam: s } = seam();
  const redelivery = new Redelivery({
    ackTimeoutMs: 0,
    nackDelayMs: 1,
    deadLetter: { maxRedeliverCount: 3, deadLetterTopic: "dlq" },
  }, s);
  try {
    for (const [entry, count] of [[1, 0], [2, 3], [3, 2], [4, 7]]) {
      redelivery.nack(message(entry, count));
    }
    await until(() => log.acked.length === 2 && log.redelivered.length === 2);
    assert.deepEqual(log.redelivered.sort(), [1, 3]);
    assert.deepEqual(log.dead.sort(), [2, 4], "the payloads went to the dead-letter topic");
    assert.deepEqual(log.acked.sort(), [2, 4], "and were acknowledged after it stored them");
    assert.equal(redelivery.held, 0, "nothing is held once redelivered");
  } finally {
    await redelivery.close();
  }
});

Deno.test("the ack timeout redelivers what was not acked in time and forgets what was", async () => {
  const { log, seam: s } = seam();
  const redelivery = new Redelivery({ ackTimeoutMs: 1, nackDelayMs: 60_000 }, s);
  try {
    redelivery.start();
    const [a, b, c] = [message(1, 0), message(2, 0), message(3, 0)];
    for (const msg of [a, b, c]) redelivery.delivered(msg);
    assert.equal(redelivery.find(b.id), b);
    redelivery.acked(b.id);
    redelivery.ackedUpTo(new MessageId(0n, 0n)); // before all of them: changes nothing
    assert.equal(redelivery.held, 2);
    await until(() => log.redelivered.length === 2);
    assert.deepEqual(log.redelivered.sort(), [1, 3]);
    assert.equal(redelivery.held, 0);
    assert.deepEqual(log.failed, []);
  } finally {
    await redelivery.close();
  }
});

Deno.test("a dead-letter move that needs retries reports each one, then the success or the give-up", async () => {
  const { log, seam: s } = seam();
  const statuses: ClientStatus[] = [];
  let sends = 0;
  const failing = (failures: number): RedeliverySeam => ({
    ...s,
    reportStatus: (status) => void statuses.push(status),
    createProducer: () =>
      Promise.resolve({
        send: () =>
          sends++ < failures ? Promise.reject(new Error("broker unavailable")) : Promise.resolve(),
        close: () => Promise.resolve(),
      } as unknown as Producer),
  });
  const options = {
    ackTimeoutMs: 0,
    nackDelayMs: 1,
    backoff: { initialMs: 1, maxMs: 2 },
    deadLetter: { maxRedeliverCount: 1, deadLetterTopic: "dlq", maxSendAttempts: 3 },
  };
  const healing = new Redelivery(options, failing(2));
  try {
    healing.nack(message(1, 1));
    await until(() => log.acked.length === 1);
    assert.deepEqual(log.acked, [1]);
    assert.deepEqual(statuses.map((x) => x.type), ["reconnecting", "reconnecting", "reconnected"]);
    assert.ok(statuses[0].type === "reconnecting" && statuses[0].attempt === 2);
    assert.equal(statuses[0].topic, "dlq");
    assert.match(String(statuses[0].type === "reconnecting" && statuses[0].error), /unavailable/);
  } finally {
    await healing.close();
  }
  statuses.length = 0;
  sends = 0;
  const hopeless = new Redelivery(options, failing(10));
  try {
    hopeless.nack(message(2, 1));
    await until(() => log.failed.length === 1);
    assert.equal(log.failed.length, 1);
    assert.deepEqual(statuses.map((x) => x.type), ["reconnecting", "reconnecting", "gave-up"]);
  } finally {
    await hopeless.close();
  }
});
