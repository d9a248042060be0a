import assert from "node:assert/strict";
import {
  type Consumer,
  type ConsumerOptions,
  Message,
  MessageId,
  MultiTopicConsumer,
  type PulsarClient,
} from "../pulsar/mod.ts";
import { MergedReceiver } from "./merged_receiver.ts";

/** A client whose topics hold `count` messages each, handed out with a little delay. */
function fakeClient(partitionsOf: Record<string, string[]>, count: number) {
  const acked = new Map<string, string[]>();
  const child = (topic: string) => {
    let next = 0;
    acked.set(topic, []);
    return {
      topic,
      partition: Number(/-partition-(\d+)$/.exec(topic)?.[1] ?? -1),
      trackLedgers() {},
      receive: async () => {
        await new Promise((r) => setTimeout(r, next % 50 === 0 ? 1 : 0));
        if (next >= count) return await new Promise<Message>(() => {});
        const id = new MessageId(BigInt(topic.length), BigInt(next++));
        return new Message(topic, id, new TextEncoder().encode(String(next)), { publishTime: 1 });
      },
      hasMessageAvailable: () => Promise.resolve(next < count),
      ack: (target: Message) => acked.get(topic)!.push(target.id.toString()),
      flushAcks: () => Promise.resolve(),
      seek: () => Promise.resolve(),
      close: () => Promise.resolve(),
    } as unknown as Consumer;
  };
  const client = {
    subscribe: ({ topics, subscription, receiverQueueSize }: ConsumerOptions) =>
      Promise.resolve(
        new MultiTopicConsumer(
          subscription,
          topics!.flatMap((t) => partitionsOf[t]).map(child),
          receiverQueueSize,
        ),
      ),
  };
  return { client: client as unknown as PulsarClient, acked };
}

Deno.test("MergedReceiver reads every partition to the end through a small queue", async () => {
  const { client, acked } = fakeClient({ a: ["a-partition-0", "a-partition-1"], b: ["b"] }, 700);
  const merged = await MergedReceiver.subscribe(client, ["a", "b"], {
    subscription: "s",
    receiverQueueSize: 10,
  });
  const perTopic = new Map<string, number>();
  while (await merged.hasMessageAvailable()) {
    const msg = await merged.receive();
    perTopic.set(msg.topic, (perTopic.get(msg.topic) ?? 0) + 1);
    merged.ack(msg);
  }
  await merged.close();
  assert.deepEqual(
    Object.fromEntries(perTopic),
    { "a-partition-0": 700, "a-partition-1": 700, b: 700 },
  );
  assert.equal(acked.get("a-partition-1")!.length, 700, "acks go to the partition's consumer");
});

Deno.test("MergedReceiver times out when nothing comes and refuses an id it cannot place", async () => {
  const { client } = fakeClient({ a: ["a"], b: ["b"] }, 0);
  const merged = await MergedReceiver.subscribe(client, ["a", "b"], { subscription: "s" });
  await assert.rejects(merged.receive(20), /nothing arrived within 20 ms/);
  assert.throws(() => merged.ack("CAcQAA=="), /belongs to none of the topics/);
  await assert.rejects(merged.seek(new MessageId(1n, 1n)), /needs a single topic/);
  await merged.close();
});
