/**
 * The loop shared by `filter` and `map`: each event becomes zero or one event. Ids of events that
 * produce nothing (dropped, skipped, dead-lettered) are acknowledged in-band with an `ack` record
 * that is flushed when the batch is full, right before a control record, after `ackIdleMs`
 * without input, `ackIdleMs` after its first id even while input keeps coming, and at end of
 * input. An ack record always comes after the events that came in
 * before the ids it carries, so acknowledgements never overtake data, and never wait forever.
 * (Letting emitted events go ahead of pending acks only delays the acks; it keeps ack records
 * few when most events are dropped one by one.) Control records pass through in order.
 *
 * @module
 */
import { ackRecord, type Envelope, isControl, type Item } from "../envelope.ts";
import type { Stage } from "./types.ts";
import type { Rejects } from "./window/rejects.ts";
import { TICK, withIdleTicks } from "./idle_ticks.ts";
import { DueFlag } from "./due_flag.ts";

/** Result of transforming one event: the event to emit, or `DROP`. */
export const DROP: unique symbol = Symbol("edgepipe.drop");

/** Tuning shared by event-by-event stages. */
export interface AckBatching {
  /**
   * Flush dropped ids after this long without input, and at the latest this long after the first
   * of them while input keeps coming (default 200 ms).
   */
  ackIdleMs?: number;
  /** Flush dropped ids once this many are pending (default 1000). */
  maxAckBatch?: number;
}

/**
 * Builds a stage from a per-event transform. A transform that throws hands the event to `rejects`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DROP, eventByEventStage } from "./filter_core.ts";
 * import { Rejects } from "./window/rejects.ts";
 * const evens = eventByEventStage(
 *   (e) => (e.value as number) % 2 === 0 ? e : DROP,
 *   new Rejects("evens", { kind: "fail" }),
 * );
 * const out = [];
 * for await (const item of evens(ReadableStream.from([{ id: "a", value: 1 }, { value: 2 }]))) {
 *   out.push(item);
 * }
 * assert.equal(out.length, 2); // { value: 2 }, then the ack for "a"
 * ```
 */
export function eventByEventStage(
  transform: (event: Envelope) => Envelope | typeof DROP,
  rejects: Rejects,
  { ackIdleMs = 200, maxAckBatch = 1000 }: AckBatching = {},
): Stage {
  return async function* (input: AsyncIterable<Item>): AsyncGenerator<Item> {
    let pending: string[] = [];
    // A steady stream of dropped events is never idle: its acks must not wait for a full batch.
    const ackDue = new DueFlag(ackIdleMs);
    const takeAcks = () => {
      const ids = pending;
      pending = [];
      ackDue.clear();
      return ackRecord(ids);
    };
    try {
      for await (const item of withIdleTicks(input, ackIdleMs, () => pending.length > 0)) {
        if (item === TICK || ackDue.due) {
          if (pending.length > 0) yield takeAcks();
          if (item === TICK) continue;
        }
        if (isControl(item)) {
          if (pending.length > 0) yield takeAcks();
          yield item;
          continue;
        }
        let out: Envelope | typeof DROP;
        try {
          out = transform(item);
        } catch (error) {
          await rejects.reject(item, error);
          out = DROP;
        }
        if (out === DROP) {
          if (typeof item.id === "string") {
            pending.push(item.id);
            if (pending.length === 1) ackDue.arm();
            if (pending.length >= maxAckBatch) yield takeAcks();
          }
          continue;
        }
        yield out;
      }
      if (pending.length > 0) yield takeAcks();
    } finally {
      ackDue.clear();
    }
  };
}
