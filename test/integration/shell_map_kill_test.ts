/**
 * `consume | map | produce` on the real broker: the map process is killed with SIGKILL at random
 * moments, each checked to fall mid-stream, and the whole pipe is started again on the same
 * subscription. At the end every event is in the output topic, rewritten (read back by the Java
 * client; duplicates are counted, none may be missing), and the source backlog is 0.
 */
import assert from "node:assert/strict";
import { middleStageKill } from "../harness/middle_stage_kill.ts";

const EVENTS = 10_000;
const KILLS = 3;

Deno.test({
  name: "kill -9 of map between consume and produce loses no event",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const values = Array.from({ length: EVENTS }, (_, n) => ({ n, k: `k${n % 31}` }));
    const report = await middleStageKill({
      label: "map",
      stage: ["map", '{"n": event.value.n, "twice": event.value.n * 2.0, "key": event.key}'],
      values,
      expected: values.map(({ n }) => n),
      identify(payload) {
        // Every record is map's rewrite of its event, not the event passed through.
        const { n } = payload as { n: number };
        assert.deepEqual(payload, { n, twice: 2 * n, key: `k${n % 31}` });
        return n;
      },
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
    assert.deepEqual(report.output.unexpected, []);
    assert.equal(report.output.distinct, EVENTS);
    assert.equal(report.backlog, 0);
  },
});
