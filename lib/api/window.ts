/**
 * Keyed event-time state (`@edgepipe/edgepipe/window`): tumbling, sliding and session windows
 * with aggregates, stream-stream joins (interval and window, inner and left-outer) and event
 * patterns per key (CEP) and keyed functions in TypeScript (`processStage`), with
 * watermarks, late events and file-backed checkpoints.
 *
 * @example Count events per key and hour
 * ```ts
 * import assert from "node:assert/strict";
 * import { window } from "./window.ts";
 * const hourly = window({
 *   key: "origin",
 *   shape: { kind: "tumbling", size: 3_600_000 },
 *   aggregates: "count()",
 * });
 * const events = [
 *   { eventTime: Date.UTC(2001, 0, 1, 6, 10), value: { origin: "SFO" } },
 *   { eventTime: Date.UTC(2001, 0, 1, 6, 50), value: { origin: "SFO" } },
 * ];
 * const [result] = await Array.fromAsync(hourly(ReadableStream.from(events)));
 * assert.deepEqual((result as { value: unknown }).value, { count: 2 });
 * ```
 *
 * @module
 */
export {
  type LatePolicy,
  openWindowCheckpoints,
  type SharedCheckpointing,
  window,
  type WindowCheckpointing,
  type WindowOptions,
  type WindowRelayFactory,
} from "../stages/window/window.ts";
export type { WindowShape } from "../stages/window/assign.ts";
export {
  DirectoryCheckpointStore,
  type PartitionKey,
  type SharedCheckpointStore,
  type StoredGeneration,
} from "../checkpoint/shared_store.ts";
export {
  type JoinRule,
  openJoinCheckpoints,
  streamJoin,
  type StreamJoinOptions,
} from "../stages/stream_join/stream_join.ts";
export { openPatternCheckpoints, pattern, type PatternOptions } from "../stages/pattern/pattern.ts";
export {
  KeyedFunctionError,
  type ModulePermissions,
  openProcessCheckpoints,
  type ProcessOptions,
  processStage,
} from "../stages/process/keyed_function.ts";
export type {
  KeyedContext,
  KeyedEvent,
  KeyedFunction,
  KeyTimers,
} from "../stages/process/types.ts";
export type { StatefulStageOptions } from "../stages/keyed/stateful_options.ts";
export type { StateObserver, StateSample } from "../observe/state_observer.ts";
export {
  CheckpointError,
  CheckpointStore,
  type Restored,
  type RestoreOptions,
} from "../checkpoint/store.ts";
export type { CheckpointData } from "../checkpoint/format.ts";
