/**
 * `consume --guarantee exactly-once | filter | produce --guarantee exactly-once` on the real
 * broker, 20,000 events, kill -9 of a random process (each of the three at least once) at five
 * moments checked to fall mid-stream, the pipe started again after each. At the end the output
 * topic holds every kept event exactly once (edgepipe's reader sees each once and nothing else;
 * the Java client reads the same), no dropped one, and the source backlog is 0. The 100,000-event
 * 20-kill version is `bench/exactly_once_kill.ts`.
 *
 * Opt-in (`deno task test:exactly-once`), not in `deno task test`: in one full-suite run on a
 * loaded machine its last run did not end within 120 s — consume waited at the end of the topic
 * for messages held by a killed run's transaction (issue 15 is open on this). It passed in its
 * other recorded runs.
 */
import assert from "node:assert/strict";
import { exactlyOnceKill } from "../harness/exactly_once_kill.ts";

Deno.test({
  name:
    "exactly-once: kill -9 of any process of consume | filter | produce, nothing lost or doubled",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const report = await exactlyOnceKill({ events: 20_000, kills: 5 });
    const killed = report.kill.rounds.filter((r) => r.midStream).map((r) => r.stage);
    assert.deepEqual(new Set(killed), new Set(["consume", "filter", "produce"]));
    assert.equal(report.kill.midStreamKills, 5, "every kill must land mid-stream");
    assert.deepEqual(report.kill.last.codes, [0, 0, 0], report.kill.last.stderr.join("\n"));
    assert.equal(report.visible.duplicates, 0, "duplicates in the output");
    assert.deepEqual(
      report.visible.missing.slice(0, 10),
      [],
      `${report.visible.missing.length} missing`,
    );
    assert.deepEqual(report.visible.unexpected.slice(0, 10), [], "dropped events were published");
    assert.equal(report.visibleCount, report.expected.length);
    // The independent reader agrees: the first N messages are the N expected results, once each.
    assert.equal(report.java.distinct, report.expected.length);
    assert.equal(report.java.duplicates, 0);
    assert.equal(report.backlog, 0);
  },
});
