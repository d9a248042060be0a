import assert from "node:assert/strict";
import {
  inclusiveStart,
  messageAfter,
  readerSkips,
  subscribeCommand,
} from "./consumer_subscription.ts";
import { MessageId } from "./message_id.ts";

const topic = "persistent://public/default/t";
const fields = (cmd: unknown) => cmd as Record<string, unknown>;

Deno.test("a reader resubscribes after what it handed out, or rolls back to its start time", () => {
  const options = { topic, subscription: "r", durable: false as const };
  const ids = { consumerId: 1, epoch: 2 };
  const fresh = fields(subscribeCommand(options, ids, {}));
  assert.deepEqual(fresh.startMessageId, {
    ledgerId: 9223372036854775807n,
    entryId: 9223372036854775807n,
  }, "latest by default");
  const resumed = fields(
    subscribeCommand(options, ids, { lastDequeued: new MessageId(4n, 5n, -1, 1, 3) }),
  );
  assert.deepEqual(resumed.startMessageId, {
    ledgerId: 4,
    entryId: 5,
    batchIndex: 1,
    batchSize: 3,
  });
  const byTime = fields(subscribeCommand(options, ids, { startPublishTime: 10_000 }, 70_500));
  assert.equal(byTime.startMessageRollbackDurationSec, 62, "ceil(60.5 s) + 1 s of margin");
  assert.equal(byTime.consumerEpoch, 2);
  assert.equal(byTime.durable, false);
});

Deno.test("Key_Shared subscriptions ask for auto-split hash ranges", () => {
  const cmd = fields(subscribeCommand(
    { topic, subscription: "k", subscriptionType: "Key_Shared" },
    { consumerId: 1, epoch: 0 },
    {},
  ));
  assert.deepEqual(cmd.keySharedMeta, { keySharedMode: "AUTO_SPLIT" });
  assert.equal(cmd.initialPosition, "Latest");
});

Deno.test("a reader skips what lies before its start and clears a reached start time", () => {
  const position = { startMessageId: new MessageId(3n, 7n), startPublishTime: 500 };
  assert.equal(readerSkips(position, new MessageId(3n, 7n), 900), true, "the start is exclusive");
  assert.equal(readerSkips(position, new MessageId(3n, 8n), 400), true, "published before");
  assert.equal(position.startPublishTime, 500);
  assert.equal(readerSkips(position, new MessageId(3n, 8n), 500), false);
  assert.equal(position.startPublishTime, undefined, "reached: later messages are not checked");
  assert.equal(readerSkips(position, new MessageId(3n, 9n), 1), false);
});

Deno.test("the inclusive start of an id is the position just before it", () => {
  assert.deepEqual(inclusiveStart(new MessageId(3n, 7n)), new MessageId(3n, 6n));
  assert.deepEqual(inclusiveStart(new MessageId(3n, 7n, 0, 2, 5)), new MessageId(3n, 7n, 0, 1, 5));
  assert.equal(inclusiveStart(new MessageId(-1n, -1n)), MessageId.earliest);
});

Deno.test("more is available when the last message lies past what was read or acknowledged", () => {
  const last = new MessageId(5n, 9n, -1, 3, 4); // last message of a batched entry
  assert.equal(messageAfter({ last: new MessageId(-1n, -1n) }, undefined, {}), false, "empty");
  assert.equal(messageAfter({ last }, new MessageId(5n, 9n, -1, 2, 4), {}), true);
  assert.equal(messageAfter({ last }, new MessageId(5n, 9n, -1, 3, 4), {}), false, "read it all");
  // A batch that could not be decoded (encrypted, corrupt) is handed on as its whole entry.
  assert.equal(messageAfter({ last }, new MessageId(5n, 9n), {}), false, "whole entry read");
  assert.equal(messageAfter({ last }, new MessageId(5n, 8n), {}), true);
  const markDelete = new MessageId(5n, 9n);
  assert.equal(messageAfter({ last, markDelete }, undefined, {}), false, "acknowledged entry");
  assert.equal(messageAfter({ last, markDelete: new MessageId(5n, 8n) }, undefined, {}), true);
  assert.equal(
    messageAfter({ last }, undefined, { startMessageId: new MessageId(5n, 9n, -1, 3, 4) }),
    false,
    "a reader starting after the last message has nothing",
  );
  assert.equal(
    messageAfter({ last, markDelete }, undefined, { startPublishTime: 1 }),
    false,
    "a publish-time start relies on the mark-delete position",
  );
});
