/**
 * The hot-swap run at 100,000 events (the suite runs 20,000): `deno run -A
 * bench/score_watch_bench.ts [events]`. Prints how many events each model version scored and where
 * the swaps landed; any lost, doubled, misordered or wrongly scored event fails the run.
 */
import { runSwap } from "../test/score_watch_run.ts";

const total = Number(Deno.args[0] ?? 100_000);
const result = await runSwap(total);
console.log(JSON.stringify(
  {
    events: result.events,
    scoredByA: result.byVersion[0],
    scoredByB: result.byVersion[1],
    fedAt: result.fedAt,
    seconds: Math.round(result.seconds * 10) / 10,
    stderr: result.stderr.split("\n"),
  },
  null,
  2,
));
