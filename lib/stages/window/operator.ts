/**
 * The window operator: keyed event-time windows, synchronous and deterministic. It takes events
 * one at a time and appends what they cause (results, acks) to `out`; the stage around it deals
 * with streams, late events, errors and checkpoints.
 *
 * Time: the watermark is the highest event time seen minus `outOfOrderness`. A window
 * `[start, end)` fires when the watermark reaches `end` (no event before the watermark is still
 * expected, so the window is complete); it keeps its state until the watermark reaches
 * `end + allowedLateness`, and an event for it in between updates it and
 * re-emits the result at once (`timing: "late"`). An event all of whose windows are past that
 * point is late: `process` returns `"late"` and changes nothing. Windows that fire together are
 * emitted in (end, start, key) order; nothing in a result depends on the wall clock.
 *
 * @module
 */
import { ackRecord, type Envelope, type Item } from "../../envelope.ts";
import {
  type AggregateSpec,
  mergeSlots,
  newNum,
  newObj,
  results,
  type Slots,
} from "./aggregates.ts";
import { type WindowShape, windowStarts } from "./assign.ts";
import { TimerQueue } from "./timers.ts";
import {
  aggregateSource,
  badValue,
  compileAggregates,
  type CompiledAggregates,
} from "./compiled_aggregates.ts";
import { tumblingSource } from "./tumbling_source.ts";
import type { PartitionWatermarks } from "./partition_watermarks.ts";

/** The state of one window of one key; its accumulators are its `num` and `obj`. */
export interface Win extends Slots {
  key: string;
  start: number;
  end: number;
  /** Events in the window. */
  n: number;
  /** Emitted on time already (later changes re-emit as late updates). */
  fired: boolean;
  /** Merged into another session window or cleaned up: ignore timers that still name it. */
  dead: boolean;
  /** Events since the last early result. */
  early: number;
  /** Ids to acknowledge once the window is gone (only without checkpoints). */
  ids?: string[];
}

/** What a window result looks like. */
export interface WindowResult {
  key: string;
  window: { start: number; end: number };
  value: Record<string, unknown>;
  eventTime: number;
  timing: "early" | "on_time" | "late";
}

/** Settings of a {@linkcode WindowOperator}. */
export interface WindowOperatorOptions {
  shape: WindowShape;
  aggregates: AggregateSpec;
  keyOf: (event: Envelope) => string;
  timeOf: (event: Envelope) => number;
  outOfOrderness?: number;
  allowedLateness?: number;
  /** Emit an early result every N events of a window (0: never). */
  earlyEvery?: number;
  /** Count windows idle this long (event time) are flushed as partial results (0: never). */
  idleKeyTtl?: number;
  /** Keep ids in windows and acknowledge them when windows close (when not checkpointing). */
  trackIds?: boolean;
  /**
   * One watermark per source partition (the envelope's topic and partition), combined as their
   * minimum (`partition_watermarks.ts`). Without it: one watermark, the highest event time seen
   * minus `outOfOrderness`.
   */
  watermarks?: PartitionWatermarks;
}

/** Keyed windows over a stream of events. */
export class WindowOperator {
  /** Items produced so far and not yet taken by the caller. */
  out: Item[] = [];
  /** Highest event time seen. */
  maxTime = -Infinity;
  /** Current watermark. */
  watermark = -Infinity;
  /** Windows by key, in the order the key's windows were created. */
  readonly byKey = new Map<string, Win[]>();

  readonly shape: WindowShape;
  readonly spec: AggregateSpec;
  readonly #opts: Required<Omit<WindowOperatorOptions, "shape" | "aggregates" | "watermarks">>;
  /** Per-partition watermarks, when the stage keeps them. */
  readonly watermarks: PartitionWatermarks | undefined;
  readonly #fire = new TimerQueue<Win>();
  readonly #cleanup = new TimerQueue<Win>();
  readonly #values: unknown[];
  readonly #compiled: CompiledAggregates;
  readonly #starts: number[] = [];
  #sinceTtlScan = 0;
  /** Keys in `byKey` whose window list is empty. */
  #emptyKeys = 0;
  /**
   * Tumbling windows only: an index of live windows by start, then key, filled as events find
   * them (restored windows join it when their key comes back). The generated path looks a window
   * up here with one map lookup instead of walking the key's list.
   */
  readonly #byStart = new Map<number, Map<string, Win>>();
  #forgetIndex: () => void = () => {};
  /** The whole per-event path generated for this configuration (tumbling windows). */
  readonly #fast: ((event: Envelope) => "absorbed" | "late") | undefined;

  constructor(options: WindowOperatorOptions) {
    this.shape = options.shape;
    this.spec = options.aggregates;
    this.#opts = {
      keyOf: options.keyOf,
      timeOf: options.timeOf,
      outOfOrderness: options.outOfOrderness ?? 0,
      allowedLateness: options.allowedLateness ?? 0,
      earlyEvery: options.earlyEvery ?? 0,
      idleKeyTtl: options.idleKeyTtl ?? 0,
      trackIds: options.trackIds ?? false,
    };
    this.watermarks = options.watermarks;
    this.#values = new Array(this.spec.aggregates.length);
    this.#compiled = compileAggregates(this.spec);
    this.#fast = this.shape.kind === "tumbling" ? this.#compileTumbling() : undefined;
  }

  /**
   * Generates `process` for tumbling windows as one straight-line function: time, key and values
   * read inline (the readers are called only for what they must convert or reject), the window
   * found or opened, the accumulators updated, the watermark moved. Behaves exactly as the
   * general path; `operator_test.ts` runs both side by side.
   */
  #compileTumbling(): (event: Envelope) => "absorbed" | "late" {
    const opts = this.#opts;
    const aggs = aggregateSource(this.spec);
    const body = tumblingSource(
      this.shape as { size: number; offset?: number },
      opts,
      aggs,
      this.watermarks !== undefined,
    );
    const mapOf = (start: number): Map<string, Win> => {
      let map = this.#byStart.get(start);
      if (map === undefined) this.#byStart.set(start, map = new Map());
      return map;
    };
    /** A window not in the index yet: restored, or new. */
    const find = (key: string, start: number, end: number, map: Map<string, Win>): Win => {
      const wins = this.byKey.get(key);
      let win: Win | undefined;
      if (wins !== undefined) {
        for (let j = wins.length - 1; j >= 0 && win === undefined; j--) {
          if (wins[j].start === start) win = wins[j];
        }
      }
      if (win === undefined) {
        win = this.#newWindow(key, start, end);
        // A list made with its element has room for one: `[]` then push would reserve 16.
        if (wins === undefined) this.byKey.set(key, [win]);
        else if (wins.push(win) === 1 && this.#emptyKeys > 0) this.#emptyKeys--;
      }
      map.set(key, win);
      return win;
    };
    const make = new Function(
      "op",
      "timeOf",
      "keyOf",
      "R",
      "bad",
      "mapOf",
      "find",
      "settle",
      "pw",
      // The index map of the latest window start, kept across events (most share it).
      `let cs = NaN;\nlet cm;\nreturn {\nforget() {\ncs = NaN;\ncm = undefined;\n},\nprocess(e) {${body}}\n};`,
    );
    const made = make(
      this,
      opts.timeOf,
      opts.keyOf,
      aggs.readers,
      badValue(this.spec),
      mapOf,
      find,
      (win: Win) => this.#settle(win),
      this.watermarks,
    );
    this.#forgetIndex = made.forget;
    return made.process;
  }

  /** Number of open windows. */
  get windowCount(): number {
    let n = 0;
    for (const wins of this.byKey.values()) n += wins.length;
    return n;
  }

  /**
   * Adds one event. Returns `"late"` (and changes nothing) when every window of the event has
   * been cleaned up already. Throws a `FieldError` for a missing key, time or bad value, before
   * changing anything.
   */
  process(event: Envelope): "absorbed" | "late" {
    if (this.#fast !== undefined) return this.#fast(event);
    const t = this.#opts.timeOf(event);
    const key = this.#opts.keyOf(event);
    this.#compiled.read(event, this.#values);
    const id = this.#opts.trackIds && typeof event.id === "string" ? event.id : undefined;
    let outcome: "absorbed" | "late";
    switch (this.shape.kind) {
      case "session":
        outcome = this.#session(key, t, id);
        break;
      case "count":
        outcome = this.#count(key, t, id);
        break;
      default:
        outcome = this.#fixed(key, t, id);
    }
    if (outcome === "late") return outcome;
    if (this.watermarks !== undefined) {
      if (t > this.maxTime) this.maxTime = t;
      const wm = this.watermarks.see(event.topic, event.partition, t);
      if (wm > this.watermark) this.advance(wm);
    } else if (t > this.maxTime) {
      this.maxTime = t;
      const wm = t - this.#opts.outOfOrderness;
      if (wm > this.watermark) this.advance(wm);
    }
    if (this.#opts.idleKeyTtl > 0 && ++this.#sinceTtlScan >= 4096) this.expireIdle();
    return outcome;
  }

  #isLate(end: number): boolean {
    return end + this.#opts.allowedLateness <= this.watermark;
  }

  #fixed(key: string, t: number, id: string | undefined): "absorbed" | "late" {
    // Tumbling windows take the generated path (`#compileTumbling`); this is the general one.
    const size = this.shape.kind === "tumbling" || this.shape.kind === "sliding"
      ? this.shape.size
      : 0;
    const starts = windowStarts(this.shape, t, this.#starts);
    // The latest window is the last to close, so it is the one to carry the id.
    if (this.#isLate(starts[0] + size)) return "late";
    let wins = this.byKey.get(key);
    if (wins === undefined) {
      wins = [];
      this.byKey.set(key, wins);
    }
    for (let i = 0; i < starts.length; i++) {
      const start = starts[i];
      if (this.#isLate(start + size)) continue;
      let win: Win | undefined;
      for (let j = 0; j < wins.length; j++) {
        if (wins[j].start === start) {
          win = wins[j];
          break;
        }
      }
      if (win === undefined) {
        win = this.#newWindow(key, start, start + size);
        if (wins.push(win) === 1 && this.#emptyKeys > 0) this.#emptyKeys--;
      }
      this.#add(win, t, i === 0 ? id : undefined);
    }
    return "absorbed";
  }

  #session(key: string, t: number, id: string | undefined): "absorbed" | "late" {
    const gap = (this.shape as { gap: number }).gap;
    // Sessions whose bounds touch merge (as in Flink): events at most `gap` apart share one.
    let start = t;
    let end = t + gap;
    const wins = this.byKey.get(key);
    let overlapping = 0;
    if (wins !== undefined) {
      for (const w of wins) {
        if (w.start <= t + gap && t <= w.end) {
          overlapping++;
          if (w.start < start) start = w.start;
          if (w.end > end) end = w.end;
        }
      }
    }
    if (this.#isLate(end)) return "late";
    if (wins === undefined || overlapping === 0) {
      const win = this.#newWindow(key, start, end);
      if (wins === undefined) this.byKey.set(key, [win]);
      else if (wins.push(win) === 1 && this.#emptyKeys > 0) this.#emptyKeys--;
      this.#add(win, t, id);
      return "absorbed";
    }
    let target: Win | undefined;
    let anyFired = false; // some part was emitted already
    const kept: Win[] = [];
    for (const w of wins) {
      if (!(w.start <= t + gap && t <= w.end)) {
        kept.push(w);
        continue;
      }
      anyFired ||= w.fired;
      if (target === undefined) {
        target = w;
        kept.push(w);
        continue;
      }
      mergeSlots(this.spec, target, w);
      target.n += w.n;
      target.early += w.early;
      if (w.ids) (target.ids ??= []).push(...w.ids);
      w.dead = true;
    }
    this.byKey.set(key, kept);
    const grew = target!.start !== start || target!.end !== end;
    target!.start = start;
    target!.end = end;
    if (grew) {
      // A merged or extended session is a new window: it fires at its new end, or at once (in
      // #add) as a late update when the watermark is already past that.
      if (end > this.watermark) {
        target!.fired = false;
        this.#fire.add(end, target!);
      } else if (anyFired) {
        target!.fired = true;
        this.#cleanup.add(end + this.#opts.allowedLateness, target!);
      }
    }
    this.#add(target!, t, id);
    return "absorbed";
  }

  #count(key: string, t: number, id: string | undefined): "absorbed" {
    let wins = this.byKey.get(key);
    if (wins === undefined) {
      wins = [this.#newWindow(key, t, t + 1, false)];
      this.byKey.set(key, wins);
    }
    const win = wins[0];
    if (t < win.start) win.start = t;
    if (t + 1 > win.end) win.end = t + 1;
    win.n++;
    this.#compiled.add(win, this.#values, t);
    if (id !== undefined) (win.ids ??= []).push(id);
    if (win.n >= (this.shape as { size: number }).size) {
      this.byKey.delete(key);
      this.#emit(win, "on_time");
      this.#ackWindows([win]);
    }
    return "absorbed";
  }

  #newWindow(key: string, start: number, end: number, timer = true): Win {
    const win: Win = {
      key,
      start,
      end,
      n: 0,
      num: newNum(this.spec),
      obj: newObj(this.spec),
      fired: false,
      dead: false,
      early: 0,
      ids: undefined,
    };
    if (timer) this.#fire.add(end, win);
    return win;
  }

  #add(win: Win, t: number, id: string | undefined): void {
    win.n++;
    this.#compiled.add(win, this.#values, t);
    if (id !== undefined) (win.ids ??= []).push(id);
    this.#settle(win);
  }

  /** What an update of `win` causes: a late or early result. */
  #settle(win: Win): void {
    if (win.fired) {
      this.#emit(win, "late");
    } else if (win.end <= this.watermark) {
      // A window first seen after the watermark passed its end, within the allowed lateness:
      // it is complete as far as anyone knows, so it is emitted now, as a late update.
      win.fired = true;
      this.#emit(win, "late");
      this.#cleanup.add(win.end + this.#opts.allowedLateness, win);
    } else if (this.#opts.earlyEvery > 0 && ++win.early >= this.#opts.earlyEvery) {
      win.early = 0;
      this.#emit(win, "early");
    }
  }

  #emit(win: Win, timing: WindowResult["timing"]): void {
    const result: WindowResult = {
      key: win.key,
      window: { start: win.start, end: win.end },
      value: results(this.spec, win, win.n),
      eventTime: win.end - 1,
      timing,
    };
    this.out.push(result as unknown as Item);
  }

  /** Moves the watermark to `wm` (never back) and fires and cleans up what is due. */
  advance(wm: number): void {
    if (wm <= this.watermark) return;
    this.watermark = wm;
    // Most events move the watermark without closing anything: no allocation then.
    if (this.#fire.peek() > wm && this.#cleanup.peek() > wm) return;
    const lateness = this.#opts.allowedLateness;
    const due: Win[] = [];
    for (let bucket = this.#fire.pop(wm); bucket; bucket = this.#fire.pop(wm)) {
      for (const w of bucket) {
        if (!w.dead && !w.fired && w.end <= wm) {
          w.fired = true; // also marks duplicates of a grown session as done
          due.push(w);
        }
      }
    }
    sortWindows(due, 0);
    const gone: Win[] = [];
    for (const w of due) {
      this.#emit(w, "on_time");
      if (lateness === 0) this.#remove(w, gone);
      else this.#cleanup.add(w.end + lateness, w);
    }
    for (let bucket = this.#cleanup.pop(wm); bucket; bucket = this.#cleanup.pop(wm)) {
      for (const w of bucket) {
        if (!w.dead && w.fired && w.end + lateness <= wm) this.#remove(w, gone);
      }
    }
    this.#ackWindows(gone);
  }

  /**
   * The wall clock moved to `now` (per-partition watermarks with idleness only): idle partitions
   * stop holding the watermark back, or a quiet input moves it on; what is due fires.
   */
  tick(now: number): void {
    if (this.watermarks === undefined) return;
    const wm = this.watermarks.tick(now);
    if (wm > this.watermark) this.advance(wm);
  }

  #remove(win: Win, gone: Win[]): void {
    win.dead = true;
    gone.push(win);
    if (this.#byStart.size > 0) {
      const index = this.#byStart.get(win.start);
      if (index !== undefined && index.delete(win.key) && index.size === 0) {
        this.#byStart.delete(win.start);
        this.#forgetIndex();
      }
    }
    const wins = this.byKey.get(win.key);
    if (wins === undefined) return;
    const i = wins.indexOf(win);
    if (i >= 0) wins.splice(i, 1);
    // Keys come back: keep their (empty) entry rather than churn the map, and drop the empty
    // ones in bulk once they are the majority.
    if (wins.length === 0 && ++this.#emptyKeys > 65_536 && this.#emptyKeys * 2 > this.byKey.size) {
      for (const [key, list] of this.byKey) if (list.length === 0) this.byKey.delete(key);
      this.#emptyKeys = 0;
    }
  }

  #ackWindows(wins: Win[]): void {
    const ids: string[] = [];
    for (const w of wins) if (w.ids) { for (const id of w.ids) ids.push(id); }
    if (ids.length > 0) this.out.push(ackRecord(ids));
  }

  /** Flushes count windows whose last event is older than `idleKeyTtl` behind the watermark. */
  expireIdle(): void {
    this.#sinceTtlScan = 0;
    if (this.shape.kind !== "count" || this.#opts.idleKeyTtl <= 0) return;
    const limit = this.watermark - this.#opts.idleKeyTtl;
    const idle: Win[] = [];
    for (const wins of this.byKey.values()) if (wins[0].end - 1 < limit) idle.push(wins[0]);
    sortWindows(idle, 0);
    for (const w of idle) {
      this.byKey.delete(w.key);
      this.#emit(w, "on_time");
    }
    this.#ackWindows(idle);
  }

  /** End of input: fires every open window, in (end, start, key) order, and clears the state. */
  flushAll(): void {
    const open: Win[] = [];
    for (const wins of this.byKey.values()) {
      for (const w of wins) if (!w.fired) open.push(w);
    }
    sortWindows(open, 0);
    for (const w of open) this.#emit(w, "on_time");
    const all: Win[] = [];
    for (const wins of this.byKey.values()) for (const w of wins) all.push(w);
    this.#ackWindows(all);
    this.byKey.clear();
    this.#byStart.clear();
    this.#forgetIndex();
    this.#fire.clear();
    this.#cleanup.clear();
  }

  /** Puts back a window from a checkpoint (in the order they were saved). */
  restoreWindow(win: Win): void {
    const wins = this.byKey.get(win.key);
    if (wins === undefined) this.byKey.set(win.key, [win]);
    else wins.push(win);
    if (this.shape.kind === "count") return;
    if (win.fired) this.#cleanup.add(win.end + this.#opts.allowedLateness, win);
    else this.#fire.add(win.end, win);
  }
}

/** Sorts `wins[from..]` by end, start, then key. */
function sortWindows(wins: Win[], from: number): void {
  if (wins.length - from < 2) return;
  const tail = wins.splice(from).sort((a, b) =>
    a.end - b.end || a.start - b.start || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)
  );
  for (const w of tail) wins.push(w);
}
