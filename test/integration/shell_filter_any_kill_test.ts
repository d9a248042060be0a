/**
 * `consume | filter | produce` on the real broker with kill -9 of any of its three processes
 * (each at least once, the rest at random), each kill checked to fall mid-stream, the pipe
 * started again on the same subscription after each. At the end every kept event is in the
 * output topic (the Java client reads it back; duplicates counted, none missing), no dropped one
 * is, and the source backlog is 0.
 */
import assert from "node:assert/strict";
import { eachProcessFirst } from "../harness/kill_pipe.ts";
import { middleStageKill } from "../harness/middle_stage_kill.ts";

const EVENTS = 10_000;

/** The input, and the numbers of the events the filter keeps (two in three; the rest dropped). */
function input() {
  const values = Array.from({ length: EVENTS }, (_, n) => ({ n, k: `k${n % 31}` }));
  return { values, expected: values.filter(({ n }) => n % 3 !== 0).map(({ n }) => n) };
}

Deno.test({
  name: "kill -9 of any process of consume | filter | produce loses no kept event",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const { values, expected } = input();
    const report = await middleStageKill({
      label: "filter-any",
      stage: ["filter", "int(event.value.n) % 3 != 0"],
      values,
      expected,
      identify: (payload) => (payload as { n: number }).n,
      // Each process until it has had a mid-stream kill, the other kills at random.
      victim: eachProcessFirst(3),
      // consume reads at most 500 messages ahead of what produce has reported: killing it leaves
      // a short tail in flight (by default it reads the whole input at once, and one kill of it
      // late in a run left too little input for the kills still to come).
      consumeFlags: ["--max-unreported", "500"],
      kills: 5,
    });
    const killed = report.kill.rounds.filter((r) => r.midStream).map((r) => r.stage);
    assert.deepEqual(new Set(killed), new Set(["consume", "filter", "produce"]));
    assert.equal(report.kill.midStreamKills, 5, "every kill must land mid-stream");
    assert.deepEqual(report.kill.last.codes, [0, 0, 0], report.kill.last.stderr.join("\n"));
    assert.equal(report.read, report.published);
    assert.deepEqual(
      report.output.missing.slice(0, 10),
      [],
      `${report.output.missing.length} missing`,
    );
    assert.deepEqual(report.output.unexpected.slice(0, 10), [], "dropped events were published");
    assert.equal(report.output.distinct, expected.length);
    assert.equal(report.backlog, 0);
  },
});
