/**
 * The `partitions` control record: a source says which topics and partitions it reads, before
 * its first event, so that a stage keeping per-partition watermarks (`window`) waits for each of
 * them from the start instead of only once a partition's first event arrives. Stages that do not
 * know it pass it on; terminal stages ignore it (docs/envelope.md).
 *
 * ```json
 * {"$edgepipe":"partitions","partitions":[{"topic":"persistent://public/default/flights","partition":0}]}
 * ```
 *
 * @module
 */
import { isControl } from "./envelope.ts";

/** One topic partition as envelopes name it (`partition` is -1 for an unpartitioned topic). */
export interface PartitionName {
  /** The topic, without a `-partition-N` suffix. */
  topic: string;
  /** The partition index, -1 for an unpartitioned topic. */
  partition: number;
}

/** Written by `consume --announce-partitions` after its hello. */
export interface PartitionsRecord {
  /** Marks the record. */
  $edgepipe: "partitions";
  /** Every partition the source reads. */
  partitions: PartitionName[];
}

/**
 * True for a well-formed partitions record.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isPartitionsRecord } from "./partitions_record.ts";
 * assert.ok(isPartitionsRecord({ $edgepipe: "partitions", partitions: [{ topic: "t", partition: 0 }] }));
 * assert.ok(!isPartitionsRecord({ $edgepipe: "partitions", partitions: "t" }));
 * ```
 */
export function isPartitionsRecord(item: unknown): item is PartitionsRecord {
  if (!isControl(item) || item.$edgepipe !== "partitions") return false;
  const list = (item as Record<string, unknown>).partitions;
  return Array.isArray(list) &&
    list.every((p) =>
      typeof p === "object" && p !== null && typeof p.topic === "string" &&
      typeof p.partition === "number"
    );
}
