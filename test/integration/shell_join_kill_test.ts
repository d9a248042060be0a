/**
 * `consume | join --checkpoint-dir … | produce` on the real broker: the join (departures ×
 * arrivals of real flights, per airport, left-outer) is killed with SIGKILL at random moments,
 * each checked to fall mid-stream, and the pipe is started again on the same subscription and
 * checkpoint directory. At the end every pair and every unmatched departure that pandas computed
 * (test/fixtures/joins/make_joins.py) is in the output topic, read back by the Java client:
 * duplicates are counted (at-least-once), none may be missing or unexpected, and the source
 * backlog is 0.
 */
import assert from "node:assert/strict";
import { middleStageKill } from "../harness/middle_stage_kill.ts";
import { MOVEMENTS_JOIN } from "../fixtures/joins/rule.ts";

const FIXTURES = new URL("../fixtures/joins/", import.meta.url);
const KILLS = 3;

async function lines(name: string): Promise<Record<string, string>[]> {
  const text = await Deno.readTextFile(new URL(name, FIXTURES));
  return text.trim().split("\n").map((l) => JSON.parse(l));
}

Deno.test({
  name: "kill -9 of a checkpointed join between consume and produce loses no result",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const movements = await lines("movements.ndjson");
    const values = movements.map((m) => {
      const { eventTime, value } = m as unknown as {
        eventTime: number;
        value: Record<string, string>;
      };
      return { ...value, k: value.airport, t: eventTime };
    });
    const names = [
      ...(await lines("expected_pairs.ndjson")).map((p) => `${p.dep}>${p.arr}`),
      ...(await lines("expected_unmatched.ndjson")).map((u) => `${u.dep}>-`),
    ];
    const index = new Map(names.map((name, i) => [name, i]));
    const checkpoints = await Deno.makeTempDir({ prefix: "edgepipe-join-kill-" });
    const report = await middleStageKill({
      label: "join",
      stage: [
        ...MOVEMENTS_JOIN,
        "--type",
        "left",
        "--checkpoint-dir",
        checkpoints,
        "--checkpoint-interval",
        "200ms",
      ],
      values,
      seedFlags: ["--time-field", "t"],
      expected: names.map((_, i) => i),
      identify: (payload) => {
        const r = payload as { flight: string; right: { flight: string } | null };
        const name = `${r.flight}>${r.right === null ? "-" : r.right.flight}`;
        const i = index.get(name);
        if (i === undefined) throw new Error(`unexpected result ${name}`);
        return i;
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
    assert.equal(report.output.distinct, names.length);
    assert.equal(report.backlog, 0);
    await Deno.remove(checkpoints, { recursive: true });
  },
});
