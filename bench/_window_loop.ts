/**
 * The hand-written baseline of bench/window_command_bench.ts: NDJSON events on stdin, per-key
 * tumbling windows of `size` ms (count, sum, avg of `value.x`, key `value.k`) in a Map per window
 * start, a window emitted as one NDJSON line once the watermark (highest event time − `delay`)
 * passes its end, everything left at end of input. No edgepipe code.
 *
 * ```sh
 * deno run bench/_window_loop.ts <size ms> <out-of-orderness ms> < events.ndjson
 * ```
 *
 * @module
 */
const SIZE = Number(Deno.args[0] ?? 60_000);
const DELAY = Number(Deno.args[1] ?? 2000);
const open = new Map<number, Map<string, { count: number; sum: number }>>();
const encoder = new TextEncoder();
let out = "";
const fire = async (watermark: number) => {
  for (const [start, byKey] of open) {
    if (start + SIZE - 1 > watermark) continue;
    for (const [key, acc] of [...byKey].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
      out += JSON.stringify({
        key,
        window: { start, end: start + SIZE },
        value: { count: acc.count, sum: acc.sum, avg: acc.sum / acc.count },
        eventTime: start + SIZE - 1,
      }) + "\n";
      if (out.length > 65536) {
        await Deno.stdout.write(encoder.encode(out));
        out = "";
      }
    }
    open.delete(start);
  }
};
const decoder = new TextDecoder();
let rest = "";
let maxTime = -Infinity;
for await (const chunk of Deno.stdin.readable) {
  const lines = (rest + decoder.decode(chunk, { stream: true })).split("\n");
  rest = lines.pop()!;
  for (const line of lines) {
    if (line === "") continue;
    const e = JSON.parse(line);
    const t = e.eventTime as number;
    const v = e.value as { k: string; x: number };
    const start = Math.floor(t / SIZE) * SIZE;
    let byKey = open.get(start);
    if (byKey === undefined) open.set(start, byKey = new Map());
    const acc = byKey.get(v.k);
    if (acc === undefined) byKey.set(v.k, { count: 1, sum: v.x });
    else {
      acc.count++;
      acc.sum += v.x;
    }
    if (t > maxTime) {
      const before = maxTime - DELAY;
      maxTime = t;
      if (Math.floor((maxTime - DELAY + 1) / SIZE) !== Math.floor((before + 1) / SIZE)) {
        await fire(maxTime - DELAY);
      }
    }
  }
}
await fire(Infinity);
await Deno.stdout.write(encoder.encode(out));
