/**
 * The subscription side of a consumer as plain functions: the SUBSCRIBE command for its options
 * and position, and where a reader (non-durable subscription) resumes and what it skips. The
 * consumer keeps the state; these decide from it, so they are tested without a broker.
 *
 * @module
 */
import type { Command } from "./wire/mod.ts";
import type { ConsumerOptions, ReaderStart } from "./consumer_options.ts";
import { MessageId, toWire } from "./message_id.ts";

/** Options of one single-topic consumer (readers add a start position). */
export type SingleConsumerOptions = ConsumerOptions & { topic: string } & Partial<ReaderStart>;

/** Where a reader stands: what it handed out last, where it was asked to start. */
export interface ReaderPosition {
  lastDequeued?: MessageId;
  startMessageId?: MessageId;
  /** Cleared once the first message at or after it arrived. */
  startPublishTime?: number;
}

/**
 * The SUBSCRIBE command of a (re)subscription.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { subscribeCommand } from "./consumer_subscription.ts";
 * const cmd = subscribeCommand(
 *   { topic: "persistent://public/default/t", subscription: "s", initialPosition: "earliest" },
 *   { consumerId: 3, epoch: 0 },
 *   {},
 * ) as unknown as Record<string, unknown>;
 * assert.equal(cmd.subType, "Exclusive");
 * assert.equal(cmd.initialPosition, "Earliest");
 * assert.equal(cmd.startMessageId, undefined, "durable subscriptions resume where they are");
 * ```
 */
export function subscribeCommand(
  options: SingleConsumerOptions,
  ids: { consumerId: number; epoch: number },
  position: ReaderPosition,
  now: number = Date.now(),
): Command {
  const durable = options.durable !== false;
  const subType = options.subscriptionType ?? "Exclusive";
  const start = durable
    ? undefined
    : (position.lastDequeued ?? position.startMessageId ?? MessageId.latest);
  const rollbackSec = !durable && position.startPublishTime !== undefined &&
      !position.lastDequeued
    ? Math.max(1, Math.ceil((now - position.startPublishTime) / 1000) + 1)
    : undefined;
  return {
    type: "SUBSCRIBE",
    topic: options.topic,
    subscription: options.subscription,
    subType,
    consumerId: ids.consumerId,
    ...(options.consumerName ? { consumerName: options.consumerName } : {}),
    ...(options.priorityLevel !== undefined ? { priorityLevel: options.priorityLevel } : {}),
    durable,
    ...(start && rollbackSec === undefined ? { startMessageId: toWire(start, true) } : {}),
    ...(rollbackSec !== undefined
      ? { startMessageId: toWire(MessageId.latest), startMessageRollbackDurationSec: rollbackSec }
      : {}),
    readCompacted: options.readCompacted ?? false,
    initialPosition: options.initialPosition === "earliest" ? "Earliest" : "Latest",
    consumerEpoch: ids.epoch,
    ...(subType === "Key_Shared" ? { keySharedMeta: { keySharedMode: "AUTO_SPLIT" } } : {}),
  } as unknown as Command;
}

/**
 * Whether a reader leaves out a message: it lies before its start, or was handed out before a
 * reconnect. Clears `startPublishTime` once a message reaches it.
 */
export function readerSkips(position: ReaderPosition, id: MessageId, publishTime: number): boolean {
  const after = position.lastDequeued ?? position.startMessageId;
  if (
    after && after !== MessageId.latest && after.ledgerId >= 0 &&
    MessageId.compare(id, after) <= 0
  ) {
    return true;
  }
  if (position.startPublishTime !== undefined) {
    if (publishTime < position.startPublishTime) return true;
    position.startPublishTime = undefined;
  }
  return false;
}

/**
 * Whether the topic holds a message after `after` (the last one the user received; undefined
 * when none yet), given the topic's last message id and the subscription's mark-delete position.
 */
export function messageAfter(
  ends: { last: MessageId; markDelete?: MessageId },
  after: MessageId | undefined,
  position: ReaderPosition,
): boolean {
  const { last, markDelete } = ends;
  if (last.entryId < 0n) return false;
  // The mark-delete position acknowledges its whole entry, so compare entries with it: the
  // broker reports the last message of a batched entry with its batch index.
  const pastMarkDelete = () =>
    !markDelete || MessageId.compare(last.entry(), markDelete.entry()) > 0;
  if (after === undefined && position.startPublishTime !== undefined && markDelete) {
    return pastMarkDelete();
  }
  const reference = after ?? position.startMessageId;
  if (!reference) return pastMarkDelete();
  // A whole-entry id (a batch that could not be decoded, handed on as one message) covers every
  // message of its entry.
  if (reference.batchIndex < 0) return MessageId.compare(last.entry(), reference.entry()) > 0;
  return MessageId.compare(last, reference) > 0;
}

/** The exclusive start that makes a reader deliver `id` itself next. */
export function inclusiveStart(id: MessageId): MessageId {
  if (id.ledgerId < 0 || id.entryId < 0) return MessageId.earliest;
  if (id.batchIndex > 0) {
    return new MessageId(id.ledgerId, id.entryId, id.partition, id.batchIndex - 1, id.batchSize);
  }
  return new MessageId(id.ledgerId, id.entryId - 1n, id.partition);
}
