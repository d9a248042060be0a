/**
 * Key-based batching: the messages of one open batch split into batch entries of one key each, so
 * that a Key_Shared subscription (which dispatches whole entries by the entry's key) hands each
 * key to one consumer only. The key of a message is its ordering key when it has one, else its
 * partition key; keyless messages count as one more key.
 *
 * Two ways to split:
 * - `key`: an entry is a run of consecutive messages of one key. The topic keeps the order of the
 *   stream (so an event-time stage behind sees no more disorder than was sent), at the price of
 *   small entries when keys interleave.
 * - `key-grouped`, as the Java client's KEY_BASED batcher: one entry per key of the open batch,
 *   in the order of each key's first message; order is kept per key only, so messages of
 *   different keys sent together can be stored in another order (an event-time stage behind may
 *   then see them late). Sequence ids are given again so that each entry covers a contiguous
 *   range and the ranges rise from entry to entry (a broker that deduplicates by sequence id
 *   would drop an entry whose first id is below the last one it stored).
 *
 * @module
 */
import type { SingleMessageMetadata } from "./wire/mod.ts";

/**
 * How a producer groups messages into batch entries: `default` whatever is sent together;
 * `key` runs of consecutive messages of one key; `key-grouped` all messages of one key in the
 * open batch (per-key order only).
 */
export type BatchingType = "default" | "key" | "key-grouped";

/** What the split needs of a queued message. */
export interface KeyedMessage {
  /** Its metadata inside a batch; `sequenceId` is rewritten. */
  single: SingleMessageMetadata;
  /** Its sequence id; rewritten. */
  sequenceId: number;
}

/** The grouping key: ordering key first (Key_Shared's sticky key), then partition key. */
function keyOf(single: SingleMessageMetadata): string | undefined {
  if (single.orderingKey !== undefined) {
    return "o:" + Array.from(single.orderingKey, (b) => String.fromCharCode(b)).join("");
  }
  return single.partitionKey === undefined ? undefined : "p:" + single.partitionKey;
}

/** Splits `messages` (in send order) into runs of consecutive messages of one key. */
export function splitByKeyRuns<T extends KeyedMessage>(messages: T[]): T[][] {
  const runs: T[][] = [];
  let last: string | undefined | null = null;
  for (const message of messages) {
    const key = keyOf(message.single);
    if (runs.length === 0 || key !== last) runs.push([message]);
    else runs[runs.length - 1].push(message);
    last = key;
  }
  return runs;
}

/**
 * Splits `messages` (in send order, with ascending sequence ids) into one group per key, in the
 * order of each group's first message, and renumbers the sequence ids over the same range so that
 * each group is contiguous.
 */
export function splitByKey<T extends KeyedMessage>(messages: T[]): T[][] {
  const groups = new Map<string | undefined, T[]>();
  for (const message of messages) {
    const key = keyOf(message.single);
    const group = groups.get(key);
    if (group) group.push(message);
    else groups.set(key, [message]);
  }
  if (groups.size <= 1) return [messages];
  const ids = messages.map((m) => m.sequenceId);
  const result = [...groups.values()];
  let i = 0;
  for (const group of result) {
    for (const message of group) {
      message.sequenceId = ids[i++];
      message.single.sequenceId = message.sequenceId;
    }
  }
  return result;
}

/** The key fields a key-based batch entry carries in its own metadata (those of its messages). */
export function entryKey(
  single: SingleMessageMetadata,
): { partitionKey?: string; orderingKey?: Uint8Array } {
  return {
    ...(single.partitionKey !== undefined ? { partitionKey: single.partitionKey } : {}),
    ...(single.orderingKey !== undefined ? { orderingKey: single.orderingKey } : {}),
  };
}
