/**
 * `score --watch` while 20,000 events flow: replaced by a good model, then by a broken one; every
 * event scored exactly once by the version in force (see `test/score_watch_run.ts`; the 100k run
 * is `bench/score_watch_bench.ts`).
 */
import assert from "node:assert/strict";
import { runSwap } from "./score_watch_run.ts";

Deno.test({
  name: "score --watch: two replacements mid-stream (one broken), every event scored once",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const result = await runSwap(20_000);
    console.log(
      `20k events: ${result.byVersion[0]} by A, ${
        result.byVersion[1]
      } by B; fed at B installed ${result.fedAt.installB}, B serving ${result.fedAt.servingB}, broken refused ${result.fedAt.refused}`,
    );
    assert.ok(result.byVersion[0] > 0 && result.byVersion[1] > 0);
  },
});
