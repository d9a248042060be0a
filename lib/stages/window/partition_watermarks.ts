/**
 * Per-partition watermarks: each source partition (the envelope's `topic` and `partition`) has
 * its own watermark, the highest event time seen on it minus the out-of-orderness, and the
 * window's watermark is their minimum — a partition that lags behind in event time holds the
 * windows back instead of having its events turned late (Flink's per-split watermarks). Events
 * without a topic and partition (files, `replay`) are one partition: the same as one global
 * watermark.
 *
 * Idleness, both on the wall clock and so timing-dependent (off by default):
 * - `idleTimeoutMs`: a partition without events for that long stops holding the watermark back
 *   until it has events again (Flink's `withIdleness`). With every partition idle, the
 *   watermark is the highest of theirs.
 * - `idleAdvanceMs`: once the whole input has been quiet that long, the watermark moves on with
 *   the wall clock from the highest event time seen (as if event time went on passing), so the
 *   last windows close without new events.
 *
 * The clock is read by the stage (`tick`), every few dozen events and when the input is quiet,
 * not per event: an event is dated by the latest tick.
 *
 * @module
 */

interface Partition {
  /** Highest event time seen on the partition. */
  max: number;
  /** Wall-clock time (of the latest tick) when it last had an event. */
  seenAt: number;
  idle: boolean;
}

/** Settings of {@linkcode PartitionWatermarks}. */
export interface PartitionWatermarkOptions {
  /** How far (ms) events may arrive out of order on one partition. */
  outOfOrderness: number;
  /** A partition without events for this long (wall clock, ms) stops holding back (0: never). */
  idleTimeoutMs?: number;
  /** With the whole input quiet this long (ms), the watermark follows the wall clock (0: never). */
  idleAdvanceMs?: number;
  /** Wall-clock time at the start (default `Date.now()`). */
  now?: number;
}

/** The watermarks of the source partitions of one window stage. */
export class PartitionWatermarks {
  readonly #parts = new Map<string, Partition>();
  readonly #ooo: number;
  readonly #idleTimeout: number;
  readonly #idleAdvance: number;
  #now: number;
  #lastEventAt: number;
  #eventsSinceTick = 0;
  /** Lowest `max` over the partitions that are not idle (+∞ when none). */
  #minActive = Infinity;
  /** The partition of the previous event, looked up again without building its name. */
  #lastTopic: unknown = Symbol();
  #lastPartition: unknown = Symbol();
  #last: Partition | undefined;

  constructor(options: PartitionWatermarkOptions) {
    this.#ooo = options.outOfOrderness;
    this.#idleTimeout = options.idleTimeoutMs ?? 0;
    this.#idleAdvance = options.idleAdvanceMs ?? 0;
    this.#now = options.now ?? Date.now();
    this.#lastEventAt = this.#now;
  }

  /** Whether the stage should read the clock while its input is quiet. */
  get wantsTicks(): boolean {
    return this.#idleTimeout > 0 || this.#idleAdvance > 0;
  }

  /** Partitions seen so far. */
  get size(): number {
    return this.#parts.size;
  }

  /** Records an event at time `t` of `topic`/`partition`; returns the combined watermark. */
  see(topic: unknown, partition: unknown, t: number): number {
    let part = this.#last;
    if (part === undefined || topic !== this.#lastTopic || partition !== this.#lastPartition) {
      const name = nameOf(topic, partition);
      part = this.#parts.get(name);
      if (part === undefined) {
        part = { max: -Infinity, seenAt: this.#now, idle: false };
        this.#parts.set(name, part);
      }
      this.#last = part;
      this.#lastTopic = topic;
      this.#lastPartition = partition;
    }
    this.#eventsSinceTick++;
    part.seenAt = this.#now;
    if (part.idle) {
      part.idle = false;
      if (part.max < this.#minActive) this.#minActive = part.max;
    }
    if (t > part.max) {
      const old = part.max;
      part.max = t;
      if (old === this.#minActive) this.#recompute();
      else if (t < this.#minActive) this.#minActive = t; // a new partition
    }
    return this.watermark;
  }

  /**
   * A source named the partitions it reads (a `partitions` record): those not seen yet hold the
   * watermark back from now on, until their first event (or, with an idle timeout, until they
   * have been quiet that long); those seen and not named any more stop holding it back.
   */
  announce(partitions: { topic: unknown; partition: unknown }[]): void {
    const named = new Set<string>();
    for (const { topic, partition } of partitions) {
      const name = nameOf(topic, partition);
      named.add(name);
      if (!this.#parts.has(name)) {
        this.#parts.set(name, { max: -Infinity, seenAt: this.#now, idle: false });
      }
    }
    // A partition no longer named went elsewhere (a Failover subscription moved it): it holds
    // nothing back any more; an event of it that still arrives brings it back.
    for (const name of this.#parts.keys()) if (!named.has(name)) this.#parts.delete(name);
    this.#last = undefined;
    this.#recompute();
  }

  /** The combined watermark: the lowest of the partitions that hold it back. */
  get watermark(): number {
    if (this.#minActive !== Infinity) return this.#minActive - this.#ooo;
    let max = -Infinity;
    for (const part of this.#parts.values()) if (part.max > max) max = part.max;
    return max - this.#ooo;
  }

  /**
   * The wall clock moved to `now`: partitions quiet for the idle timeout stop holding back.
   * Returns the watermark then (with idle advance, moved on by the wall clock).
   */
  tick(now: number): number {
    this.#now = now;
    if (this.#eventsSinceTick > 0) {
      this.#eventsSinceTick = 0;
      this.#lastEventAt = now;
    }
    if (this.#idleTimeout > 0) {
      let changed = false;
      for (const part of this.#parts.values()) {
        if (!part.idle && now - part.seenAt >= this.#idleTimeout) {
          part.idle = true;
          changed = true;
        }
      }
      if (changed) this.#recompute();
    }
    const wm = this.watermark;
    const quiet = now - this.#lastEventAt;
    if (this.#idleAdvance > 0 && quiet >= this.#idleAdvance && this.#parts.size > 0) {
      let max = -Infinity;
      for (const part of this.#parts.values()) if (part.max > max) max = part.max;
      return Math.max(wm, max - this.#ooo + quiet);
    }
    return wm;
  }

  /** The highest event time of each partition, for a checkpoint. */
  snapshot(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [name, part] of this.#parts) if (Number.isFinite(part.max)) out[name] = part.max;
    return out;
  }

  /** Puts back what {@linkcode snapshot} saved; restored partitions count as just seen. */
  restore(saved: Record<string, number>): void {
    for (const [name, max] of Object.entries(saved)) {
      this.#parts.set(name, { max, seenAt: this.#now, idle: false });
    }
    this.#last = undefined;
    this.#recompute();
  }

  #recompute(): void {
    let min = Infinity;
    for (const part of this.#parts.values()) if (!part.idle && part.max < min) min = part.max;
    this.#minActive = min;
  }
}

/** The name of a partition in checkpoints: `topic#partition`, or "" for events without one. */
export function nameOf(topic: unknown, partition: unknown): string {
  if (topic === undefined && partition === undefined) return "";
  return `${topic ?? ""}#${partition ?? -1}`;
}
