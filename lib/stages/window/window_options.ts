/**
 * The settings of a window stage, and opening its checkpoint directory.
 *
 * @module
 */
import type { StateObserver } from "../../observe/state_observer.ts";
import type { CheckpointStore, Restored, RestoreOptions } from "../../checkpoint/store.ts";
import type { SharedCheckpointStore } from "../../checkpoint/shared_store.ts";
import type { DeadLetterSink, ErrorPolicy } from "../../dead_letter.ts";
import type { Envelope } from "../../envelope.ts";
import {
  type LatePolicy,
  openStageCheckpoints,
  type StatefulCheckpointing,
} from "../keyed/stateful_options.ts";
import type { WindowShape } from "./assign.ts";
import { WINDOW_KIND } from "./snapshot.ts";

export type {
  LatePolicy,
  StageRelayFactory as WindowRelayFactory,
  StatefulCheckpointing as WindowCheckpointing,
} from "../keyed/stateful_options.ts";

/** Options of {@linkcode window}. */
export interface WindowOptions {
  /** Dotted path (falls back to `value.<path>`) or CEL expression giving the key. */
  key: string;
  /** Tumbling, sliding or session windows, sizes in ms. */
  shape: WindowShape;
  /** Aggregations, e.g. `count(), avg(value.delay)`. */
  aggregates: string;
  /** Event-time field (default `eventTime`, falling back to `publishTime`). */
  time?: string;
  /** How far (ms) events may arrive out of order before the watermark passes them. */
  outOfOrderness?: number;
  /** How long (ms) after its end a window still takes late events. */
  allowedLateness?: number;
  /** Emit early (partial) results this often, ms of event time. */
  earlyEvery?: number;
  /** Session state of a key idle this long (ms) is dropped. */
  idleKeyTtl?: number;
  /**
   * `partition` (default): one watermark per source partition (the envelope's topic and
   * partition), the window's being their minimum; `global`: one watermark over all events.
   * Events without topic and partition are one partition, so both agree on them.
   */
  watermark?: "partition" | "global";
  /** With `partition`: a partition without events for this long (wall clock, ms) stops holding
   * the watermark back (timing-dependent; default 0, never). */
  idleTimeoutMs?: number;
  /** With `partition`: once the whole input has been quiet this long (ms), the watermark moves
   * on with the wall clock (timing-dependent; default 0, never). */
  idleAdvanceMs?: number;
  /** Events without a usable key, time or value (default `fail`). */
  onError?: ErrorPolicy;
  /** Where dead letters go under `dead-letter`. */
  deadLetters?: DeadLetterSink;
  /** An event's input line, named in errors and dead letters (the CLI knows it). */
  lineOf?: (event: Envelope) => number | undefined;
  /** Events later than the allowed lateness (default: dropped and counted). */
  late?: LatePolicy;
  /** Where the stage says things (late events dropped, paused reading); default stderr. */
  log?: (message: string) => void;
  /** File-backed state, restored on restart. */
  checkpoint?: StatefulCheckpointing;
  /**
   * State per source partition in a store that instances share (`--checkpoint-store`), in place
   * of `checkpoint`: a partition's state follows it to the instance it is handed to.
   */
  sharedCheckpoint?: SharedCheckpointing;
  /** How long the input may idle before a due checkpoint is written anyway (default 200 ms). */
  idleMs?: number;
  /**
   * An output buffer to flush when the input goes quiet, so that results do not wait for more
   * input (the command passes its stdout writer; one idle watch serves both purposes).
   */
  flushWhenIdle?: { buffered: number; flush(): Promise<void> };
  /** Told of late events and checkpoints, and given the state to sample (for metrics). */
  observer?: StateObserver;
}

/** The settings that a checkpoint must have been written with to be restored. */
export function windowConfig(options: WindowOptions): string {
  return JSON.stringify({
    key: options.key,
    shape: options.shape,
    aggregates: options.aggregates,
    time: options.time ?? "eventTime",
    outOfOrderness: options.outOfOrderness ?? 0,
    allowedLateness: options.allowedLateness ?? 0,
    earlyEvery: options.earlyEvery ?? 0,
    idleKeyTtl: options.idleKeyTtl ?? 0,
  });
}

/**
 * Opens (and locks) a window stage's checkpoint directory and loads its newest checkpoint, if
 * any; a corrupt newest one is an error unless `restore.fallback`. The returned
 * `outputPosition` is where the output stood at that checkpoint. The stage made with the store
 * closes it (releasing the lock) when its stream ends.
 */
export function openWindowCheckpoints(
  dir: string,
  options: WindowOptions,
  warn?: (message: string) => void,
  restore: RestoreOptions = {},
): Promise<{ store: CheckpointStore; restored?: Restored; outputPosition: number }> {
  return openStageCheckpoints(dir, WINDOW_KIND, windowConfig(options), warn, restore);
}

/** Checkpoints per source partition in a shared store (`window --checkpoint-store`). */
export interface SharedCheckpointing {
  /** Where the partitions' generations are written. */
  store: SharedCheckpointStore;
  /** Wall-clock time between checkpoints (default 1000 ms). */
  intervalMs?: number;
  /** Opens the ack relay behind a source's hello (as {@linkcode StatefulCheckpointing.relay}). */
  relay?: StatefulCheckpointing["relay"];
  /** Behind a relay: most results that may wait for the terminal's report. */
  maxOutbox?: number;
  /** Behind a relay, after the last item: waits for the terminal's last reports. */
  drain?: () => Promise<void>;
}
