import assert from "node:assert/strict";
import type { Consumer } from "./consumer.ts";
import { Message } from "./message.ts";
import { MessageId } from "./message_id.ts";
import { MultiTopicConsumer } from "./multi_topic_consumer.ts";

/** A per-topic consumer whose every message comes from a new ledger. */
function childOf(topic: string, count: number, acked: string[]) {
  let next = 0;
  return {
    topic,
    partition: -1,
    trackLedgers() {},
    receive: async () => {
      if (next >= count) return await new Promise<Message>(() => {});
      const id = new MessageId(BigInt(topic.length * 1_000_000 + next), BigInt(next++));
      return new Message(topic, id, new Uint8Array(), { publishTime: 1 });
    },
    ack: (target: string) => acked.push(`${topic} ${target}`),
    close: () => Promise.resolve(),
  } as unknown as Consumer;
}

Deno.test("a multi-topic consumer's ledger bookkeeping stays bounded, acks by id still routed", async () => {
  const acked: string[] = [];
  const consumer = new MultiTopicConsumer("s", [
    childOf("a", 5000, acked),
    childOf("bb", 5000, acked),
  ]);
  let last: Message | undefined;
  for (let i = 0; i < 10_000; i++) last = await consumer.receive();
  assert.ok(consumer.trackedLedgers <= 1024, `${consumer.trackedLedgers} ledgers remembered`);
  consumer.ack(last!.id.toString());
  assert.deepEqual(acked, [`${last!.topic} ${last!.id.toString()}`]);
  await consumer.close();
});
