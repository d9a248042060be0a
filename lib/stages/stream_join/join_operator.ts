/**
 * The keyed state of a stream-stream join: the events of both sides that can still meet a
 * partner, per key, and the rule that pairs them.
 *
 * - Interval join: a left event at time `t` pairs with every right event of the same key whose
 *   time lies in `[t + lower, t + upper]` (both ends included), whichever of the two arrives
 *   first.
 * - Window join: a left and a right event pair once for every window (tumbling, or sliding by
 *   `slide`) that holds them both; each result names its window, as Flink's window join does.
 *
 * Event time and the watermark work as in `window`: the watermark is the highest event time seen
 * minus the out-of-orderness, an event older than the watermark is late (nothing it could pair
 * with is guaranteed to be kept), and state is let go of as soon as the watermark shows that no
 * future event can pair with it. In a left-outer join, a left event let go of without a partner
 * is emitted alone then, with the right side `null`.
 *
 * @module
 */
import { ackRecord, type Envelope, type Item } from "../../envelope.ts";
import { FieldError } from "../window/event_fields.ts";
import { TimerQueue } from "../window/timers.ts";

/** Which events pair up. */
export type JoinRule =
  | { kind: "interval"; lower: number; upper: number }
  | { kind: "window"; size: number; slide?: number; offset?: number };

/** What the operator needs to know about the events and the output. */
export interface JoinOperatorOptions {
  rule: JoinRule;
  /** `inner` emits pairs only; `left` also emits left events that found no partner. */
  type: "inner" | "left";
  /** `left`, `right`, or undefined for an event of neither side (an error). */
  sideOf: (event: Envelope) => "left" | "right" | undefined;
  keyOf: (event: Envelope) => string;
  timeOf: (event: Envelope) => number;
  /** How far (ms) events may arrive out of order before the watermark passes them. */
  outOfOrderness?: number;
  /** The field of the result that holds the right event's value (default `right`). */
  as?: string;
  /** Without checkpoints: acknowledge ids when their events leave the state. */
  trackIds?: boolean;
}

/** One kept event. */
export interface Held {
  side: "left" | "right";
  key: string;
  time: number;
  /** The event without its transport fields. */
  event: Envelope;
  /** Left events: whether a partner was found. */
  matched: boolean;
  /** The input id, while the operator acknowledges on its own. */
  id?: string;
  /** Arrival order over all keys (checkpoints keep it). */
  seq: number;
  gone?: boolean;
}

interface KeyState {
  left: Held[];
  right: Held[];
}

/** The join's state and its rule. */
export class JoinOperator {
  /** Results and ack records waiting to be emitted. */
  out: Item[] = [];
  watermark = -Infinity;
  maxTime = -Infinity;
  readonly byKey = new Map<string, KeyState>();
  readonly #opts: JoinOperatorOptions;
  readonly #expiry = new TimerQueue<Held>();
  readonly #as: string;
  #seq = 0;

  constructor(options: JoinOperatorOptions) {
    this.#opts = options;
    this.#as = options.as ?? "right";
  }

  /** Events kept, over all keys. */
  get size(): number {
    let n = 0;
    for (const state of this.byKey.values()) n += state.left.length + state.right.length;
    return n;
  }

  /** Takes one event: pairs it with what is kept, keeps it while it can still pair. */
  process(event: Envelope): "absorbed" | "late" | "done" {
    const o = this.#opts;
    const side = o.sideOf(event);
    if (side === undefined) {
      throw new FieldError("event belongs to neither side of the join (--left / --right)");
    }
    const key = o.keyOf(event);
    const time = o.timeOf(event);
    if (time < this.watermark) return "late";
    const held: Held = {
      side,
      key,
      time,
      event: stripTransport(event),
      matched: false,
      seq: this.#seq++,
    };
    if (o.trackIds && typeof event.id === "string") held.id = event.id;
    let state = this.byKey.get(key);
    if (state === undefined) this.byKey.set(key, state = { left: [], right: [] });
    if (side === "left") {
      for (const right of state.right) if (!right.gone) this.#pair(held, right);
      state.left.push(held);
    } else {
      for (const left of state.left) if (!left.gone) this.#pair(left, held);
      state.right.push(held);
    }
    this.#expiry.add(this.#lastUse(held), held);
    if (time > this.maxTime) {
      this.maxTime = time;
      this.#advance(time - (o.outOfOrderness ?? 0));
    }
    return "absorbed";
  }

  /** At the end of the stream: every kept left event without a partner (left join), in order. */
  flushAll(): void {
    this.#advance(Infinity);
  }

  /** Every kept event, in arrival order. */
  held(): Held[] {
    const all: Held[] = [];
    for (const state of this.byKey.values()) {
      for (const h of state.left) if (!h.gone) all.push(h);
      for (const h of state.right) if (!h.gone) all.push(h);
    }
    return all.sort((a, b) => a.seq - b.seq);
  }

  /** Puts a kept event back (restoring a checkpoint); call in arrival order. */
  restoreHeld(held: Held): void {
    held.seq = this.#seq++;
    let state = this.byKey.get(held.key);
    if (state === undefined) this.byKey.set(held.key, state = { left: [], right: [] });
    (held.side === "left" ? state.left : state.right).push(held);
    this.#expiry.add(this.#lastUse(held), held);
  }

  /** Emits the results of a left and a right event: none, one, or one per shared window. */
  #pair(left: Held, right: Held): void {
    const rule = this.#opts.rule;
    const l = left.time, r = right.time;
    if (rule.kind === "interval") {
      if (r >= l + rule.lower && r <= l + rule.upper) this.#emit(left, right);
      return;
    }
    // Windows [s, s + size) with s = offset + k * slide that hold both times, oldest first.
    const slide = rule.slide ?? rule.size;
    const offset = rule.offset ?? 0;
    const first = Math.floor((Math.max(l, r) - rule.size - offset) / slide + 1) * slide + offset;
    for (let start = first; start <= Math.min(l, r); start += slide) {
      if (start > Math.max(l, r) - rule.size) this.#emit(left, right, start, start + rule.size);
    }
  }

  /** The last watermark at which `held` can still pair with an event that is not late. */
  #lastUse(held: Held): number {
    const rule = this.#opts.rule;
    if (rule.kind === "window") {
      // The end of the last window holding it.
      const slide = rule.slide ?? rule.size;
      const offset = rule.offset ?? 0;
      return Math.floor((held.time - offset) / slide) * slide + offset + rule.size - 1;
    }
    // A future event is at or after the watermark. A left event at t needs rights up to t+upper;
    // a right event at t is needed by lefts down to t-upper and up to t-lower.
    return held.side === "left" ? held.time + rule.upper : held.time - rule.lower;
  }

  #emit(left: Held, right: Held | undefined, start?: number, end?: number): void {
    left.matched ||= right !== undefined;
    const result: Record<string, unknown> = { key: left.key };
    result.eventTime = right === undefined ? left.time : Math.max(left.time, right.time);
    if (start !== undefined) result.window = { start, end };
    if (left.event.properties !== undefined) result.properties = left.event.properties;
    result.value = left.event.value;
    result[this.#as] = right === undefined ? null : right.event.value;
    this.out.push(result as Envelope);
  }

  #advance(watermark: number): void {
    if (watermark <= this.watermark) return;
    if (Number.isFinite(watermark)) this.watermark = watermark;
    const ids: string[] = [];
    // Let go of what the watermark has passed: its last use is before the watermark.
    const expiry = this.#expiry;
    while (expiry.peek() < watermark) {
      for (const held of expiry.pop(expiry.peek())!) this.#release(held, ids);
    }
    if (ids.length > 0) this.out.push(ackRecord(ids));
  }

  #release(held: Held, ids: string[]): void {
    held.gone = true;
    if (held.side === "left" && !held.matched && this.#opts.type === "left") {
      this.#emit(held, undefined);
    }
    if (held.id !== undefined) ids.push(held.id);
    const state = this.byKey.get(held.key)!;
    const list = held.side === "left" ? state.left : state.right;
    // Expiry mostly follows arrival order: drop the released prefix, and compact now and then.
    let i = 0;
    while (i < list.length && list[i].gone) i++;
    if (i > 0) list.splice(0, i);
    else if (list.length > 64 && list.filter((h) => h.gone).length > list.length / 2) {
      const kept = list.filter((h) => !h.gone);
      list.length = 0;
      list.push(...kept);
    }
    if (state.left.length === 0 && state.right.length === 0) this.byKey.delete(held.key);
  }
}

const TRANSPORT = new Set(["id", "topic", "partition", "publishTime", "redeliveryCount"]);

/** The event without the fields that say where it came from (they do not travel on). */
function stripTransport(event: Envelope): Envelope {
  const kept: Record<string, unknown> = {};
  for (const name in event) {
    if (!TRANSPORT.has(name)) kept[name] = (event as Record<string, unknown>)[name];
  }
  return kept as Envelope;
}
