/**
 * The source of the window operator's generated per-event path for tumbling windows: time, key
 * and values read inline (the readers are called only for what they must convert or reject), the
 * window found or opened, the accumulators updated, the watermark moved. `operator.ts` turns it
 * into a function with the names it uses bound (`op`, `timeOf`, `keyOf`, `R`, `bad`, `mapOf`,
 * `find`, `settle`, `pw`, and `cs`/`cm`, the index map of the latest window start).
 *
 * @module
 */
import type { Envelope } from "../../envelope.ts";
import type { AggregateSource } from "./compiled_aggregates.ts";
import { MAX_EVENT_TIME, readerSource } from "./event_fields.ts";

/** What the generated path needs of the operator's options. */
export interface TumblingSettings {
  timeOf: (event: Envelope) => number;
  keyOf: (event: Envelope) => string;
  outOfOrderness: number;
  allowedLateness: number;
  earlyEvery: number;
  trackIds: boolean;
}

/** The body of `process(e)` for tumbling windows of `shape`. */
export function tumblingSource(
  shape: { size: number; offset?: number },
  opts: TumblingSettings,
  aggs: Pick<AggregateSource, "read" | "add">,
  perPartition: boolean,
): string {
  const num = (x: number) => {
    if (!Number.isFinite(x)) throw new RangeError(`window setting ${x} is not finite`);
    return `(${x})`;
  };
  const timeSource = readerSource(opts.timeOf, "t");
  const keySource = readerSource(opts.keyOf, "key");
  return `
let t;
${
    timeSource === undefined
      ? "t = +timeOf(e);"
      : `${timeSource}if (typeof t !== "number" || !(t >= ${-MAX_EVENT_TIME} && t <= ${MAX_EVENT_TIME})) t = +timeOf(e);`
  }
let key;
${
    keySource === undefined
      ? "key = keyOf(e);"
      : `${keySource}if (typeof key !== "string") key = keyOf(e);`
  }
${aggs.read}
const start = Math.floor((t - ${num(shape.offset ?? 0)}) / ${num(shape.size)}) * ${
    num(shape.size)
  } + ${num(shape.offset ?? 0)};
const end = start + ${num(shape.size)};
if (end + ${num(opts.allowedLateness)} <= op.watermark) return "late";
if (start !== cs) {
cm = mapOf(start);
cs = start;
}
let win = cm.get(key);
if (win === undefined) win = find(key, start, end, cm);
win.n++;
{
const num = win.num;
const obj = win.obj;
${aggs.add}}
${opts.trackIds ? 'if (typeof e.id === "string") (win.ids ??= []).push(e.id);' : ""}
if (${opts.earlyEvery > 0 ? "true" : "win.fired || end <= op.watermark"}) settle(win);
${
    !perPartition
      ? `if (t > op.maxTime) {
op.maxTime = t;
const wm = t - ${num(opts.outOfOrderness)};
if (wm > op.watermark) op.advance(wm);
}`
      : `if (t > op.maxTime) op.maxTime = t;
{
const wm = pw.see(e.topic, e.partition, t);
if (wm > op.watermark) op.advance(wm);
}`
  }
return "absorbed";
`;
}
