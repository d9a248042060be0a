/**
 * What a stateful stage tells about its state, for metrics (see `state_metrics.ts`).
 *
 * @module
 */

/** What an operator's state looks like now (read when metrics are rendered). */
export interface StateSample {
  /** The event-time watermark (ms since the epoch; -Infinity before the first event). */
  watermark: number;
  /** Open windows. */
  windows?: number;
  /** Keys held in state. */
  keys?: number;
}

/** What a stateful stage tells about its state. */
export interface StateObserver {
  /** Samples an operator's state at render time (a stage may have several operators). */
  watch(sample: () => StateSample): void;
  /** An event came too late for any state (whatever `--late` does with it). */
  late(): void;
  /** A checkpoint is durable: it took `seconds` from snapshot to fsync and has `bytes`. */
  checkpointed(seconds: number, bytes: number): void;
}
