/**
 * `consume | filter | produce` on the real broker: the filter process is killed with SIGKILL at
 * random moments, each checked to fall mid-stream, and the whole pipe is started again on the
 * same subscription. At the end every kept event is in the output topic (read back by the Java
 * client; duplicates are counted, none may be missing), no dropped event is, and the in-band
 * acknowledgements of the dropped events have brought the source backlog to 0.
 */
import assert from "node:assert/strict";
import { middleStageKill } from "../harness/middle_stage_kill.ts";

const EVENTS = 10_000;
const KILLS = 3;

/** The input, and the numbers of the events the filter keeps (two in three; the rest dropped). */
function input() {
  const values = Array.from({ length: EVENTS }, (_, n) => ({ n, k: `k${n % 31}` }));
  return { values, expected: values.filter(({ n }) => n % 3 !== 0).map(({ n }) => n) };
}

Deno.test({
  name: "kill -9 of filter between consume and produce loses no kept event, acks every drop",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    // The dropped events are acknowledged in-band, interleaved with the kept ones.
    const { values, expected } = input();
    const report = await middleStageKill({
      label: "filter",
      stage: ["filter", "int(event.value.n) % 3 != 0"],
      values,
      expected,
      identify: (payload) => (payload as { n: number }).n,
      kills: KILLS,
    });
    assert.equal(report.kill.midStreamKills, KILLS, "every kill must land mid-stream");
    assert.deepEqual(report.kill.last.codes, [0, 0, 0], report.kill.last.stderr.join("\n"));
    assert.equal(report.read, report.published);
    assert.deepEqual(
      report.output.missing.slice(0, 10),
      [],
      `${report.output.missing.length} missing`,
    );
    assert.deepEqual(report.output.unexpected.slice(0, 10), [], "dropped events were published");
    assert.equal(report.output.distinct, expected.length);
    assert.equal(report.backlog, 0, "the drops' acknowledgements reach the source");
  },
});
