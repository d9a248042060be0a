/**
 * The types of a keyed function, the user module of `edgepipe process` (whose default export it
 * is):
 *
 * ```ts
 * import type { KeyedFunction } from "@edgepipe/edgepipe";
 * const fn: KeyedFunction<{ n: number }> = {
 *   onEvent(event, ctx) {
 *     ctx.state = { n: (ctx.state?.n ?? 0) + 1 };
 *     ctx.timers.setEventTime(ctx.time + 3_600_000);
 *   },
 *   onTimer(time, ctx) {
 *     ctx.emit({ events: ctx.state?.n });
 *     ctx.state = undefined;
 *   },
 * };
 * ```
 *
 * @module
 */

/** Timers of the current key. */
export interface KeyTimers {
  /** Calls `onTimer(time)` once the watermark reaches `time` (event time). */
  setEventTime(time: number): void;
  /** Forgets an event-time timer of this key. */
  deleteEventTime(time: number): void;
  /** Calls `onTimer(time)` once the wall clock reaches `time` (epoch ms). */
  setProcessingTime(time: number): void;
  /** Forgets a processing-time timer of this key. */
  deleteProcessingTime(time: number): void;
}

/** What a keyed function sees of the stage. */
export interface KeyedContext<S> {
  /** The key of the event or timer. */
  readonly key: string;
  /** The event's time (onEvent) or the timer's time (onTimer). */
  readonly time: number;
  /** The current watermark (highest event time seen minus the out-of-orderness). */
  readonly watermark: number;
  /**
   * This key's state: any JSON value, kept (and checkpointed) between calls; `undefined` when
   * there is none. Assign to change it; assign `undefined` to drop it.
   */
  state: S | undefined;
  /** This key's timers. */
  readonly timers: KeyTimers;
  /** Emits a result: `{key, eventTime: time, value: record}`. */
  emit(record: unknown): void;
}

/** An event as the function sees it: the envelope (value, key, eventTime, properties…). */
export interface KeyedEvent {
  /** The payload. */
  value: unknown;
  /** The message key, when there is one. */
  key?: string;
  /** Event time, epoch ms. */
  eventTime?: number;
  /** Message properties. */
  properties?: Record<string, string>;
  /** Every other envelope field (topic, partition, score, …). */
  [field: string]: unknown;
}

/**
 * The default export of a keyed function module. Both functions are synchronous: they run in a
 * Worker that the stage calls and waits for.
 */
export interface KeyedFunction<S = unknown> {
  /** Called for each event, in arrival order per key. */
  onEvent(event: KeyedEvent, ctx: KeyedContext<S>): void;
  /** Called when a timer of the key is due (event-time timers in time order). */
  onTimer?(time: number, ctx: KeyedContext<S>): void;
}
