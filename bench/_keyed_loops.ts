/**
 * Hand-written baselines of bench/keyed_stages_bench.ts: the same work as `join`, `pattern` and
 * `process examples/functions/quiet_hour.ts` do in the benchmark, as plain loops over Maps and
 * arrays reading NDJSON from stdin and writing NDJSON results. No edgepipe code.
 *
 * ```sh
 * deno run bench/_keyed_loops.ts join|pattern|quiet < events.ndjson
 * ```
 *
 * @module
 */
const MINUTE = 60_000;
const kind = Deno.args[0];
const encoder = new TextEncoder();
let out = "";
const emit = async (record: unknown) => {
  out += JSON.stringify(record) + "\n";
  if (out.length > 65536) {
    await Deno.stdout.write(encoder.encode(out));
    out = "";
  }
};

interface Ev {
  eventTime: number;
  value: Record<string, unknown>;
}

async function* events(): AsyncGenerator<Ev> {
  const decoder = new TextDecoder();
  let rest = "";
  for await (const chunk of Deno.stdin.readable) {
    const lines = (rest + decoder.decode(chunk, { stream: true })).split("\n");
    rest = lines.pop()!;
    for (const line of lines) if (line !== "") yield JSON.parse(line);
  }
}

/** Departures × arrivals per airport, arrival in [dep - 5 min, dep + 10 min], left-outer. */
async function join(): Promise<void> {
  const LOWER = -5 * MINUTE, UPPER = 10 * MINUTE, DELAY = 10 * MINUTE;
  type Held = { t: number; v: Record<string, unknown>; matched: boolean };
  const byKey = new Map<string, { left: Held[]; right: Held[] }>();
  let max = -Infinity;
  for await (const e of events()) {
    const key = e.value.airport as string;
    let s = byKey.get(key);
    if (!s) byKey.set(key, s = { left: [], right: [] });
    const h: Held = { t: e.eventTime, v: e.value, matched: false };
    if (e.value.kind === "dep") {
      for (const r of s.right) {
        if (r.t >= h.t + LOWER && r.t <= h.t + UPPER) {
          h.matched = true;
          await emit({ key, value: h.v, right: r.v });
        }
      }
      s.left.push(h);
    } else {
      for (const l of s.left) {
        if (h.t >= l.t + LOWER && h.t <= l.t + UPPER) {
          l.matched = true;
          await emit({ key, value: l.v, right: h.v });
        }
      }
      s.right.push(h);
    }
    if (e.eventTime > max) {
      max = e.eventTime;
      const wm = max - DELAY;
      for (const [k, st] of byKey) {
        while (st.left.length > 0 && st.left[0].t + UPPER < wm) {
          const l = st.left.shift()!;
          if (!l.matched) await emit({ key: k, value: l.v, right: null });
        }
        while (st.right.length > 0 && st.right[0].t - LOWER < wm) st.right.shift();
      }
    }
  }
  for (const [k, st] of byKey) {
    for (const l of st.left) if (!l.matched) await emit({ key: k, value: l.v, right: null });
  }
}

/** Per origin: three departures delayed > 30 min within 2 h, none on time between. */
async function pattern(): Promise<void> {
  const WITHIN = 120 * MINUTE, DELAY = 10 * MINUTE;
  let buffer: Ev[] = [];
  const partials = new Map<string, { start: number; taken: unknown[] }[]>();
  let max = -Infinity;
  const match = async (e: Ev) => {
    const key = e.value.origin as string;
    const delay = e.value.delay as number;
    const late = delay > 30, ontime = delay <= 0;
    const list = partials.get(key) ?? [];
    const alive = [];
    for (const p of list) {
      if (e.eventTime - p.start > WITHIN || ontime) continue;
      if (late) p.taken.push(e.value);
      if (p.taken.length === 3) await emit({ key, value: { events: { late: p.taken } } });
      else alive.push(p);
    }
    if (late) alive.push({ start: e.eventTime, taken: [e.value] });
    partials.set(key, alive);
  };
  for await (const e of events()) {
    buffer.push(e);
    if (e.eventTime > max) {
      max = e.eventTime;
      const ready = buffer.filter((b) => b.eventTime <= max - DELAY);
      if (ready.length > 0) {
        buffer = buffer.filter((b) => b.eventTime > max - DELAY);
        ready.sort((a, b) => a.eventTime - b.eventTime);
        for (const r of ready) await match(r);
      }
    }
  }
  buffer.sort((a, b) => a.eventTime - b.eventTime);
  for (const r of buffer) await match(r);
}

/** Per origin: running count and mean delay, reported after an hour without flights. */
async function quiet(): Promise<void> {
  const HOUR = 60 * MINUTE;
  const state = new Map<string, { n: number; sum: number; due: number }>();
  const timers: { t: number; key: string }[] = [];
  const fire = async (until: number) => {
    timers.sort((a, b) => a.t - b.t);
    while (timers.length > 0 && timers[0].t <= until) {
      const { t, key } = timers.shift()!;
      const s = state.get(key)!;
      if (s.due !== t) continue;
      s.due = NaN;
      await emit({ key, eventTime: t, value: { flights: s.n, mean_delay: s.sum / s.n } });
    }
  };
  let max = -Infinity;
  for await (const e of events()) {
    if (e.eventTime > max) {
      max = e.eventTime;
      await fire(max);
    }
    const key = e.value.origin as string;
    const s = state.get(key) ?? { n: 0, sum: 0, due: NaN };
    s.n++;
    s.sum += e.value.delay as number;
    s.due = e.eventTime + HOUR;
    timers.push({ t: s.due, key });
    state.set(key, s);
  }
  await fire(Infinity);
}

if (kind === "join") await join();
else if (kind === "pattern") await pattern();
else if (kind === "quiet") await quiet();
else throw new Error("usage: _keyed_loops.ts join|pattern|quiet");
await Deno.stdout.write(encoder.encode(out));
