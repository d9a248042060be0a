/**
 * The Worker that runs a keyed function (`edgepipe process`): it loads the user module, keeps the
 * keyed state and timers, and serves the stage's synchronous requests over the shared-memory
 * channel (`sync_channel.ts`). It runs with only the permissions the command line gave.
 *
 * Requests and answers:
 * - `{op:"batch", items: [{event, key, time}…]}` → `{out, empty, nextProc}`: per event, moves
 *   the watermark (firing the event-time timers it passes), then runs onEvent.
 * - `{op:"tick", now}` → `{out, empty}`: fires due processing-time timers.
 * - `{op:"end"}` → `{out, empty}`: the watermark goes to the end of time; every event-time timer fires.
 * - `{op:"snapshot"}` → the state, `{op:"restore", state}` → null.
 * `out` is the emitted records, `empty` the keys left with neither state nor timers.
 *
 * @module
 */
/// <reference lib="deno.worker" />
import { type ChannelBuffers, serveChannel } from "./sync_channel.ts";
import type { KeyedContext, KeyedFunction } from "./types.ts";

interface Setup {
  module: string;
  buffers: ChannelBuffers;
  outOfOrderness: number;
}

interface Snapshot {
  watermark: number | null;
  maxTime: number | null;
  states: [string, unknown][];
  eventTimers: [string, number][];
  procTimers: [string, number][];
}

class Runtime {
  readonly fn: KeyedFunction;
  readonly ooo: number;
  watermark = -Infinity;
  maxTime = -Infinity;
  states = new Map<string, unknown>();
  /** Timers per key, as "time" sets. */
  eventTimers = new Map<string, Set<number>>();
  procTimers = new Map<string, Set<number>>();
  out: unknown[] = [];
  touched = new Set<string>();

  constructor(fn: KeyedFunction, ooo: number) {
    this.fn = fn;
    this.ooo = ooo;
  }

  context(key: string, time: number): KeyedContext<unknown> {
    this.touched.add(key);
    const timers = (map: Map<string, Set<number>>) => ({
      set: (t: number) => {
        if (!Number.isFinite(t)) throw new TypeError(`timer time ${t} is not a finite number`);
        let set = map.get(key);
        if (set === undefined) map.set(key, set = new Set());
        set.add(t);
      },
      delete: (t: number) => void map.get(key)?.delete(t),
    });
    const ev = timers(this.eventTimers);
    const proc = timers(this.procTimers);
    const states = this.states;
    return {
      key,
      time,
      watermark: this.watermark,
      get state() {
        return states.get(key);
      },
      set state(value) {
        if (value === undefined) states.delete(key);
        else states.set(key, value);
      },
      timers: {
        setEventTime: ev.set,
        deleteEventTime: ev.delete,
        setProcessingTime: proc.set,
        deleteProcessingTime: proc.delete,
      },
      emit: (record) => void this.out.push({ key, eventTime: time, value: record }),
    };
  }

  call(f: () => unknown): void {
    const result = f();
    if (result instanceof Promise) {
      throw new TypeError("onEvent and onTimer must be synchronous (they returned a Promise)");
    }
  }

  /**
   * Fires the timers of `map` due at or before `until`, in time order, ties in key order (never
   * in Map order, which depends on when keys came and went).
   */
  fire(map: Map<string, Set<number>>, until: number): void {
    for (;;) {
      let best: [string, number] | undefined;
      for (const [key, set] of map) {
        for (const t of set) {
          if (t > until) continue;
          if (best === undefined || t < best[1] || (t === best[1] && key < best[0])) {
            best = [key, t];
          }
        }
      }
      if (best === undefined) return;
      const [key, t] = best;
      map.get(key)!.delete(t);
      if (this.fn.onTimer) this.call(() => this.fn.onTimer!(t, this.context(key, t)));
    }
  }

  answer(): { out: unknown[]; empty: string[]; nextProc: number | null } {
    const empty: string[] = [];
    for (const key of this.touched) {
      if (this.eventTimers.get(key)?.size === 0) this.eventTimers.delete(key);
      if (this.procTimers.get(key)?.size === 0) this.procTimers.delete(key);
      if (!this.states.has(key) && !this.eventTimers.has(key) && !this.procTimers.has(key)) {
        empty.push(key);
      }
    }
    const out = this.out;
    this.out = [];
    this.touched.clear();
    let nextProc: number | null = null;
    for (const set of this.procTimers.values()) {
      for (const t of set) if (nextProc === null || t < nextProc) nextProc = t;
    }
    return { out, empty, nextProc };
  }

  handle(request: Record<string, unknown>): unknown {
    switch (request.op) {
      case "batch":
        for (const item of request.items as { event: unknown; key: string; time: number }[]) {
          this.event(item.event, item.key, item.time);
        }
        return this.answer();
      case "tick":
        this.fire(this.procTimers, request.now as number);
        return this.answer();
      case "end":
        this.watermark = Infinity;
        this.fire(this.eventTimers, Infinity);
        return this.answer();
      case "snapshot":
        return this.snapshot();
      case "restore":
        this.restore(request.state as Snapshot);
        return null;
      default:
        throw new TypeError(`unknown request ${String(request.op)}`);
    }
  }

  event(event: unknown, key: string, time: number): void {
    // The watermark moves first: timers due at or before it fire before this event.
    if (time > this.maxTime) {
      this.maxTime = time;
      const wm = time - this.ooo;
      if (wm > this.watermark) {
        this.watermark = wm;
        this.fire(this.eventTimers, wm);
      }
    }
    this.call(() => this.fn.onEvent(event as never, this.context(key, time)));
  }

  snapshot(): Snapshot {
    const list = (map: Map<string, Set<number>>) =>
      [...map].flatMap(([key, set]) => [...set].map((t): [string, number] => [key, t]));
    return {
      watermark: Number.isFinite(this.watermark) ? this.watermark : null,
      maxTime: Number.isFinite(this.maxTime) ? this.maxTime : null,
      states: [...this.states],
      eventTimers: list(this.eventTimers),
      procTimers: list(this.procTimers),
    };
  }

  restore(s: Snapshot): void {
    this.watermark = s.watermark ?? -Infinity;
    this.maxTime = s.maxTime ?? -Infinity;
    this.states = new Map(s.states);
    const load = (rows: [string, number][]) => {
      const map = new Map<string, Set<number>>();
      for (const [key, t] of rows) {
        let set = map.get(key);
        if (set === undefined) map.set(key, set = new Set());
        set.add(t);
      }
      return map;
    };
    this.eventTimers = load(s.eventTimers);
    this.procTimers = load(s.procTimers);
  }
}

self.onmessage = async (message: MessageEvent<Setup>) => {
  const setup = message.data;
  let runtime: Runtime;
  try {
    const loaded = await import(setup.module);
    const fn = loaded.default as KeyedFunction;
    if (fn === null || typeof fn !== "object" || typeof fn.onEvent !== "function") {
      throw new TypeError("its default export has no onEvent function");
    }
    runtime = new Runtime(fn, setup.outOfOrderness);
  } catch (error) {
    self.postMessage({ loadError: error instanceof Error ? error.message : String(error) });
    return;
  }
  self.postMessage({ ready: true });
  serveChannel(setup.buffers, (request) => runtime.handle(request as Record<string, unknown>));
};
