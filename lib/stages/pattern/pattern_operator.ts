/**
 * The keyed state of the `pattern` stage: events waiting for the watermark, and per key the
 * partial matches of the pattern. See `docs/patterns.md` for the semantics.
 *
 * Events are matched in event-time order (ties in arrival order): each one waits until the
 * watermark reaches its time, as in Flink CEP. Every event that matches the first step starts a
 * partial match (unless `skip` is `past-last` and it ended a match). An event then goes to each
 * partial match of its key, oldest first, which
 * - takes it into its current step, while the step is below its maximum count (greedy), else
 * - moves on to the next step that it matches (optional steps may be passed over), else
 * - dies if it is a negated condition between the current step and the next (once the current
 *   step has its minimum count), or if contiguity is strict, else
 * - lets it pass (relaxed contiguity: skip till next match).
 * A partial match is complete when its last step reaches its minimum count, and dies when the
 * next event would make it span more than `within`, or when the watermark passes its start +
 * `within`.
 *
 * @module
 */
import { ackRecord, type Envelope, type Item } from "../../envelope.ts";
import { TimerQueue } from "../window/timers.ts";
import type { Pattern } from "./pattern_language.ts";

/** How the stage is set up. */
export interface PatternOperatorOptions {
  pattern: Pattern;
  /** For each name of the pattern, whether the event matches it. */
  conditions: Map<string, (event: Envelope) => boolean>;
  keyOf: (event: Envelope) => string;
  timeOf: (event: Envelope) => number;
  /** Longest time (ms) from a match's first event to its last. */
  within: number;
  outOfOrderness?: number;
  /** `relaxed` (default): other events may come between; `strict`: none may. */
  contiguity?: "relaxed" | "strict";
  /** `none` (default): overlapping matches; `past-last`: a match discards what started in it. */
  skip?: "none" | "past-last";
  /** Without checkpoints: acknowledge ids when their events leave the state. */
  trackIds?: boolean;
}

/** An event in the state. */
export interface PatternEvent {
  key: string;
  time: number;
  seq: number;
  value: unknown;
  /** The names it matches, in the pattern's name order (computed when it arrives). */
  hits: boolean[];
  id?: string;
  /** Holders: the buffer, and every partial match that took it. */
  refs: number;
}

/** A partial match. */
export interface Partial {
  key: string;
  start: number;
  /** The seq of its first event. */
  first: number;
  /** Creation order, over all keys. */
  born: number;
  step: number;
  count: number;
  /** Events taken, per step. */
  taken: PatternEvent[][];
  dead?: boolean;
  /** Its steps are complete; it waits for `within` to pass without a trailing negation. */
  waiting?: boolean;
}

/** The pattern's state. */
export class PatternOperator {
  out: Item[] = [];
  watermark = -Infinity;
  maxTime = -Infinity;
  /** Events waiting for the watermark, a min-heap by (time, seq). */
  buffer: PatternEvent[] = [];
  readonly partials = new Map<string, Partial[]>();
  readonly #o: PatternOperatorOptions;
  readonly #names: string[];
  readonly #stepName: number[];
  readonly #notBefore: number[][];
  readonly #trailing: number[];
  readonly #expiry = new TimerQueue<Partial>();
  #seq = 0;
  /** Partial matches created so far (their `born` order). */
  born = 0;
  #acks: string[] = [];

  constructor(options: PatternOperatorOptions) {
    this.#o = options;
    this.#names = options.pattern.names;
    const index = (name: string) => this.#names.indexOf(name);
    this.#stepName = options.pattern.steps.map((s) => index(s.name));
    this.#notBefore = options.pattern.steps.map((s) => s.notBefore.map(index));
    this.#trailing = options.pattern.trailingNot.map(index);
  }

  get seq(): number {
    return this.#seq;
  }
  set seq(value: number) {
    this.#seq = value;
  }

  /** Takes one event; it waits for the watermark in the buffer. */
  process(event: Envelope): "absorbed" | "late" {
    const o = this.#o;
    const key = o.keyOf(event);
    const time = o.timeOf(event);
    if (time < this.watermark) return "late";
    const hits = this.#names.map((name) => o.conditions.get(name)!(event));
    const held: PatternEvent = { key, time, seq: this.#seq++, value: event.value, hits, refs: 1 };
    if (o.trackIds && typeof event.id === "string") held.id = event.id;
    this.#push(held);
    if (time > this.maxTime) {
      this.maxTime = time;
      this.#advance(time - (o.outOfOrderness ?? 0));
    }
    this.#flushAcks();
    return "absorbed";
  }

  /** At the end of the stream: every waiting event is matched; unfinished matches are dropped. */
  flushAll(): void {
    this.#advance(Infinity);
    // The end of time has come for matches waiting on a trailing negation: complete.
    for (const p of this.alive()) if (p.waiting) this.#emit(p);
    for (const list of this.partials.values()) for (const p of list) this.#kill(p);
    this.partials.clear();
    this.#flushAcks();
  }

  /** Puts a partial match back (restoring a checkpoint); call in creation order. */
  restorePartial(p: Partial): void {
    let list = this.partials.get(p.key);
    if (list === undefined) this.partials.set(p.key, list = []);
    list.push(p);
    this.#expiry.add(p.start + this.#o.within, p);
  }

  #advance(watermark: number): void {
    if (watermark <= this.watermark) return;
    if (Number.isFinite(watermark)) this.watermark = watermark;
    while (this.buffer.length > 0 && this.buffer[0].time <= watermark) this.#match(this.#pop());
    // A partial match that started more than `within` before the watermark cannot complete.
    const expiry = this.#expiry;
    const touched = new Set<string>();
    while (expiry.peek() < watermark && Number.isFinite(watermark)) {
      for (const p of expiry.pop(expiry.peek())!) {
        if (!p.dead) touched.add(p.key);
        if (p.waiting && !p.dead) this.#emit(p);
        else this.#kill(p);
      }
    }
    for (const key of touched) {
      const alive = this.partials.get(key)?.filter((p) => !p.dead) ?? [];
      if (alive.length === 0) this.partials.delete(key);
      else this.partials.set(key, alive);
    }
  }

  /** The partial matches alive, oldest first. */
  alive(): Partial[] {
    const all: Partial[] = [];
    for (const list of this.partials.values()) for (const p of list) if (!p.dead) all.push(p);
    return all.sort((a, b) => a.born - b.born);
  }

  #match(e: PatternEvent): void {
    const o = this.#o;
    const steps = o.pattern.steps;
    let list = this.partials.get(e.key);
    let ended = false;
    if (list !== undefined) {
      for (const p of list) {
        if (p.dead) continue;
        if (p.waiting) {
          // Past its time without a trailing negation: complete; one now: dead.
          if (e.time - p.start > o.within) this.#emit(p);
          else if (this.#trailing.some((n) => e.hits[n])) this.#kill(p);
          continue;
        }
        if (e.time - p.start > o.within) {
          this.#kill(p);
          continue;
        }
        if (!this.#feed(p, e)) continue;
        if (p.step === steps.length - 1 && p.count >= steps[p.step].min) {
          if (this.#trailing.length > 0) {
            p.waiting = true;
            continue;
          }
          this.#emit(p);
          ended = true;
          if (o.skip === "past-last") {
            for (const other of list) if (!other.dead && other.first <= e.seq) this.#kill(other);
          }
        }
      }
    }
    if (e.hits[this.#stepName[0]] && !(ended && o.skip === "past-last")) {
      const p: Partial = {
        key: e.key,
        start: e.time,
        first: e.seq,
        born: this.born++,
        step: 0,
        count: 1,
        taken: [[e]],
      };
      e.refs++;
      if (steps.length === 1 && steps[0].min <= 1) this.#emit(p);
      else {
        if (list === undefined) this.partials.set(e.key, list = []);
        list.push(p);
        this.#expiry.add(p.start + o.within, p);
      }
    }
    if (list !== undefined) {
      const alive = list.filter((p) => !p.dead);
      if (alive.length === 0) this.partials.delete(e.key);
      else if (alive.length !== list.length) this.partials.set(e.key, alive);
    }
    this.#release(e);
  }

  /** Offers `e` to `p`; true when it took it. */
  #feed(p: Partial, e: PatternEvent): boolean {
    const steps = this.#o.pattern.steps;
    const step = steps[p.step];
    if (e.hits[this.#stepName[p.step]] && p.count < step.max) {
      p.count++;
      p.taken[p.step].push(e);
      e.refs++;
      return true;
    }
    if (p.count >= step.min) {
      // The next step it matches, passing over optional ones.
      for (let t = p.step + 1; t < steps.length; t++) {
        if (e.hits[this.#stepName[t]]) {
          while (p.taken.length < t) p.taken.push([]);
          p.taken.push([e]);
          p.step = t;
          p.count = 1;
          e.refs++;
          return true;
        }
        if (steps[t].min > 0) break;
      }
      if (this.#notBefore[p.step].some((n) => e.hits[n])) {
        this.#kill(p);
        return false;
      }
    }
    if (this.#o.contiguity === "strict") this.#kill(p);
    return false;
  }

  #emit(p: Partial): void {
    const steps = this.#o.pattern.steps;
    const events: Record<string, unknown[]> = {};
    p.taken.forEach((taken, i) => {
      if (taken.length === 0) return;
      (events[steps[i].name] ??= []).push(...taken.map((e) => e.value));
    });
    const last = p.taken.at(-1)!.at(-1)!;
    this.out.push({
      key: p.key,
      eventTime: last.time,
      value: { start: p.start, end: last.time, events },
    } as Envelope);
    p.dead = true;
    for (const taken of p.taken) for (const e of taken) this.#release(e);
  }

  #kill(p: Partial): void {
    if (p.dead) return;
    p.dead = true;
    for (const taken of p.taken) for (const e of taken) this.#release(e);
  }

  #release(e: PatternEvent): void {
    if (--e.refs === 0 && e.id !== undefined) this.#acks.push(e.id);
  }

  #flushAcks(): void {
    if (this.#acks.length === 0) return;
    this.out.push(ackRecord(this.#acks));
    this.#acks = [];
  }

  #push(e: PatternEvent): void {
    const heap = this.buffer;
    let i = heap.push(e) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (before(heap[parent], e)) break;
      heap[i] = heap[parent];
      i = parent;
    }
    heap[i] = e;
  }

  #pop(): PatternEvent {
    const heap = this.buffer;
    const top = heap[0];
    const last = heap.pop()!;
    if (heap.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= heap.length) break;
        const r = l + 1;
        const c = r < heap.length && before(heap[r], heap[l]) ? r : l;
        if (before(last, heap[c])) break;
        heap[i] = heap[c];
        i = c;
      }
      heap[i] = last;
    }
    return top;
  }
}

function before(a: PatternEvent, b: PatternEvent): boolean {
  return a.time < b.time || (a.time === b.time && a.seq < b.seq);
}
