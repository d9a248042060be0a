/**
 * `window`: keyed event-time windows as a stage, with late events sent to a side output and,
 * optionally, file-backed checkpoints. See `docs/windows.md` and `docs/checkpoints.md`.
 *
 * The stage runs in the shell of every stateful stage (`lib/stages/keyed/stateful_stage.ts`:
 * acknowledgements, checkpoints, the ack relay). Without checkpoints an absorbed event is
 * acknowledged right after the result of the last window holding it has been emitted and the
 * window closed.
 *
 * @module
 */
import type { Stage } from "../types.ts";
import { type StatefulOperator, statefulStage, withCheckpoints } from "../keyed/stateful_stage.ts";
import { parseAggregates } from "./aggregates.ts";
import { eventTimeReader, keyReader } from "./event_fields.ts";
import { WindowOperator } from "./operator.ts";
import { PartitionWatermarks } from "./partition_watermarks.ts";
import { isPartitionsRecord } from "../../partitions_record.ts";
import { restoreWindows, snapshotWindows } from "./snapshot.ts";
import { windowConfig, type WindowOptions } from "./window_options.ts";
import { PartitionStates } from "./partition_states.ts";
import { partitionedWindowStage } from "./partitioned_stage.ts";

export {
  type LatePolicy,
  openWindowCheckpoints,
  type SharedCheckpointing,
  type WindowCheckpointing,
  windowConfig,
  type WindowOptions,
  type WindowRelayFactory,
} from "./window_options.ts";

/**
 * A keyed window stage.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { window } from "./window.ts";
 * const perOrigin = window({
 *   key: "origin",
 *   shape: { kind: "tumbling", size: 3_600_000 },
 *   aggregates: "count(), avg(value.delay)",
 * });
 * const events = [
 *   { eventTime: 0, value: { origin: "SFO", delay: 10 } },
 *   { eventTime: 60_000, value: { origin: "SFO", delay: 20 } },
 * ];
 * const results = await Array.fromAsync(perOrigin(ReadableStream.from(events)));
 * assert.equal(results.length, 1);
 * assert.ok(JSON.stringify(results[0]).includes('"avg_value_delay":15'));
 * ```
 */
export function window(options: WindowOptions): Stage {
  const spec = parseAggregates(options.aggregates);
  const keyOf = keyReader(options.key);
  const timeOf = eventTimeReader(options.time);
  const config = windowConfig(options);
  const shared = options.sharedCheckpoint;
  const operatorOptions = {
    shape: options.shape,
    aggregates: spec,
    keyOf,
    timeOf,
    outOfOrderness: options.outOfOrderness,
    allowedLateness: options.allowedLateness,
    earlyEvery: options.earlyEvery,
    idleKeyTtl: options.idleKeyTtl,
  };
  if (shared !== undefined) {
    // One operator per source partition, each with its own (single) watermark.
    const makeOp = () => new WindowOperator(operatorOptions);
    return partitionedWindowStage({
      states: new PartitionStates(shared.store, config, makeOp),
      intervalMs: shared.intervalMs,
      relay: shared.relay,
      maxOutbox: shared.maxOutbox,
      drain: shared.drain,
    }, { ...options, name: "window" });
  }
  return statefulStage((trackIds) => {
    const op = new WindowOperator({
      ...operatorOptions,
      trackIds,
      ...(options.watermark === "global" ? {} : {
        watermarks: new PartitionWatermarks({
          outOfOrderness: options.outOfOrderness ?? 0,
          idleTimeoutMs: options.idleTimeoutMs,
          idleAdvanceMs: options.idleAdvanceMs,
        }),
      }),
    });
    options.observer?.watch(() => ({
      watermark: op.watermark,
      windows: op.windowCount,
      keys: op.byKey.size,
    }));
    // Idleness of partitions is judged on the wall clock: read it when quiet and every 64 events.
    const clocked = op.watermarks?.wantsTicks === true;
    let sinceClock = 0;
    const hooks: Partial<StatefulOperator> = {
      control: (item) => {
        if (isPartitionsRecord(item)) op.watermarks?.announce(item.partitions);
      },
    };
    if (clocked) {
      hooks.process = (event) => {
        const outcome = op.process(event);
        if (++sinceClock >= 64) {
          sinceClock = 0;
          op.tick(Date.now());
        }
        return outcome;
      };
      hooks.tick = () => op.tick(Date.now());
      hooks.wantsTick = () => true;
    }
    return withCheckpoints(
      op,
      (progress) => snapshotWindows(op, progress, config),
      (data) => restoreWindows(op, data),
      hooks,
    );
  }, { ...options, name: "window" });
}
