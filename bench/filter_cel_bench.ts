/**
 * Why edgepipe evaluates CEL with `@marcbachmann/cel-js`: the two maintained JavaScript CEL
 * implementations side by side on the same envelopes, a filter and a map expression, compiled
 * once and evaluated per event (what `filter` and `map` do). Prints a table.
 *
 * Run: deno run -A bench/filter_cel_bench.ts [events=200000]
 */
import { Environment } from "@marcbachmann/cel-js";
import * as bufbuild from "@bufbuild/cel";

const N = Number(Deno.args[0] ?? 200_000);
const events = Array.from({ length: N }, (_, i) => ({
  id: `e-${i}`,
  eventTime: 1_700_000_000_000 + i,
  value: { origin: ["SFO", "LAX", "JFK"][i % 3], delay: (i % 97) - 10.5, distance: i % 1000 },
}));
const FILTER = 'event.value.delay > 10.0 && event.value.origin == "SFO"';
const MAP = '{"o": event.value.origin, "d": event.value.delay * 2.0}';

const cel = new Environment({ homogeneousAggregateLiterals: false }).registerVariable(
  "event",
  "map",
);
const env = bufbuild.celEnv();
const contenders: [string, (src: string) => (e: unknown) => unknown][] = [
  ["@marcbachmann/cel-js 8.0.0", (src) => {
    const program = cel.parse(src);
    return (e) => program({ event: e });
  }],
  ["@bufbuild/cel 0.6.1", (src) => {
    const program = bufbuild.plan(env, bufbuild.parse(src));
    return (e) => program({ event: e as bufbuild.CelInput });
  }],
];

function rate(fn: (e: unknown) => unknown): number {
  let best = Infinity;
  for (let round = 0; round < 3; round++) {
    const t0 = performance.now();
    for (const e of events) fn(e);
    best = Math.min(best, performance.now() - t0);
  }
  return N / best * 1000;
}

const rows = contenders.map(([name, compile]) => [name, rate(compile(FILTER)), rate(compile(MAP))]);
const base = rows[1];
console.log(`${N} envelopes; evaluations per second, best of 3\n`);
console.log("| implementation             | filter/s   | map/s      | vs @bufbuild/cel |");
console.log("|----------------------------|------------|------------|------------------|");
for (const [name, f, m] of rows) {
  const ratio = `${((f as number) / (base[1] as number)).toFixed(1)}× / ${
    ((m as number) / (base[2] as number)).toFixed(1)
  }×`;
  console.log(
    `| ${String(name).padEnd(26)} | ${
      Math.round(f as number).toLocaleString("en").padStart(10)
    } | ${Math.round(m as number).toLocaleString("en").padStart(10)} | ${ratio.padEnd(16)} |`,
  );
}
