import assert from "node:assert/strict";
import { Message, MessageId, TimeoutError } from "../pulsar/mod.ts";
import { EndOfTopic, type Receiver } from "./end_of_topic.ts";

const message = (topic: string, id: MessageId) =>
  new Message(topic, id, new Uint8Array(), { publishTime: 1 });

/** Messages of several topics, handed out in order; then silence (a TimeoutError). */
function multiTopic(
  messages: Message[],
  last: Map<string, MessageId>,
): Receiver & { given: number } {
  const queue = [...messages];
  return {
    given: 0,
    receive(timeoutMs?: number) {
      const next = queue.shift();
      if (next) {
        this.given++;
        return Promise.resolve(next);
      }
      return Promise.reject(new TimeoutError(`nothing arrived within ${timeoutMs} ms`));
    },
    getLastMessageIds: () => Promise.resolve(last),
  };
}

Deno.test("EndOfTopic over several topics stops at each topic's last id, batches included", async () => {
  const a = "persistent://public/default/a";
  const b = "persistent://public/default/b";
  const messages = [
    message(a, new MessageId(1n, 0n, -1, 0, 2)),
    message(b, new MessageId(2n, 0n)),
    message(a, new MessageId(1n, 0n, -1, 1, 2)), // last message of a's last (batch) entry
    message(b, new MessageId(2n, 1n)), // b's last
    message(a, new MessageId(1n, 1n)), // published after start: not waited for, not read
  ];
  const receiver = multiTopic(
    messages,
    new Map([[a, new MessageId(1n, 0n)], [b, new MessageId(2n, 1n)]]),
  );
  const end = await EndOfTopic.start(receiver, 50);
  const got: string[] = [];
  for (let msg = await end.next(); msg; msg = await end.next()) got.push(msg.id.toString());
  assert.equal(receiver.given, 4);
  assert.deepEqual(got, messages.slice(0, 4).map((m) => m.id.toString()));
});

Deno.test("EndOfTopic ends after a quiet period when a topic sends nothing more", async () => {
  const a = "persistent://public/default/a";
  // The subscription had already acknowledged a's last message: nothing will come for it.
  const receiver = multiTopic([], new Map([[a, new MessageId(5n, 9n)]]));
  const end = await EndOfTopic.start(receiver, 20);
  assert.equal(await end.next(), undefined);
});

Deno.test("EndOfTopic asks a receiver that knows whether more is available", async () => {
  let available = 3;
  const receiver: Receiver = {
    receive: () => Promise.resolve(message("t", new MessageId(1n, BigInt(available--)))),
    hasMessageAvailable: () => Promise.resolve(available > 0),
  };
  const end = await EndOfTopic.start(receiver, 10_000);
  let count = 0;
  while (await end.next()) count++;
  assert.equal(count, 3);
});

Deno.test("EndOfTopic passes other receive failures on", async () => {
  const receiver: Receiver = {
    receive: () => Promise.reject(new Error("connection reset")),
    getLastMessageIds: () => Promise.resolve(new Map([["t", new MessageId(1n, 1n)]])),
  };
  const end = await EndOfTopic.start(receiver, 10);
  await assert.rejects(end.next(), /connection reset/);
});

Deno.test("EndOfTopic bounded: 'more is available' with nothing to send ends for now", async () => {
  // A subscription whose later messages were acknowledged while earlier ones came again: the
  // broker's last id lies past the last message received, so it answers "more", and nothing
  // more will come. A receive without a bound would wait forever.
  const queue = [message("t", new MessageId(1n, 0n))];
  const asked: (number | undefined)[] = [];
  const receiver: Receiver = {
    receive(timeoutMs?: number) {
      asked.push(timeoutMs);
      const next = queue.shift();
      if (next) return Promise.resolve(next);
      if (timeoutMs === undefined) return Promise.reject(new Error("a receive without a bound"));
      return Promise.reject(new TimeoutError(`nothing arrived within ${timeoutMs} ms`));
    },
    hasMessageAvailable: () => Promise.resolve(true),
  };
  const end = await EndOfTopic.start(receiver, 30, true);
  assert.equal((await end.next())?.id.toHuman(), "1:0:-1:-1");
  assert.equal(await end.next(), undefined);
  assert.deepEqual(asked, [30, 30]);
});
