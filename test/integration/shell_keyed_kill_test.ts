/**
 * `consume | pattern … | produce` and `consume | process … | produce` on the real broker, the
 * stateful stage checkpointed and killed with SIGKILL at random moments (each checked to fall
 * mid-stream), the pipe restarted on the same subscription and checkpoint directory. At the end
 * every result that pandas computed for the same flights (test/fixtures/patterns,
 * test/fixtures/functions) is in the output topic, read back by the Java client: duplicates are
 * counted (at-least-once), none may be missing or unexpected, and the source backlog is 0.
 */
import assert from "node:assert/strict";
import { FLIGHT_PATTERN } from "../fixtures/patterns/rule.ts";
import { middleStageKill, type MiddleStageKillReport } from "../harness/middle_stage_kill.ts";

const FIXTURES = new URL("../fixtures/", import.meta.url);
const QUIET_HOUR = new URL("../../examples/functions/quiet_hour.ts", import.meta.url).pathname;
const KILLS = 3;
/** The 12 hours of flights, repeated a day apart: enough results that each run makes progress. */
const DAYS = 4;
const DAY = 86_400_000;

async function lines(name: string): Promise<unknown[]> {
  const text = await Deno.readTextFile(new URL(name, FIXTURES));
  return text.trim().split("\n").map((l) => JSON.parse(l));
}

interface Flight {
  id: string;
  eventTime: number;
  value: { delay: number; origin: string };
}

function check(report: MiddleStageKillReport, total: number): void {
  assert.equal(report.kill.midStreamKills, KILLS, "every kill must land mid-stream");
  assert.deepEqual(report.kill.last.codes, [0, 0, 0], report.kill.last.stderr.join("\n"));
  assert.equal(report.read, report.published);
  assert.deepEqual(
    report.output.missing.slice(0, 10),
    [],
    `${report.output.missing.length} missing`,
  );
  assert.deepEqual(report.output.unexpected, []);
  assert.equal(report.output.distinct, total);
  assert.equal(report.backlog, 0);
}

Deno.test({
  name: "kill -9 of a checkpointed pattern between consume and produce loses no match",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const flights = await lines("windows/flights_events.ndjson") as Flight[];
    const values = Array.from({ length: DAYS }, (_, d) =>
      flights.map((f) => ({
        ...f.value,
        flight: `${f.id}~${d}`,
        k: f.value.origin,
        t: f.eventTime + d * DAY,
      }))).flat();
    // Days do not interact (a match spans at most 2 h): each day has the fixture's matches.
    const matches = await lines("patterns/expected_matches.ndjson") as string[][];
    const names = Array.from(
      { length: DAYS },
      (_, d) => matches.map((m) => m.map((f) => `${f}~${d}`).join(" ")),
    ).flat();
    const index = new Map(names.map((name, i) => [name, i]));
    const checkpoints = await Deno.makeTempDir({ prefix: "edgepipe-pattern-kill-" });
    const report = await middleStageKill({
      label: "pattern",
      stage: [
        ...FLIGHT_PATTERN,
        "--checkpoint-dir",
        checkpoints,
        "--checkpoint-interval",
        "200ms",
      ],
      values,
      seedFlags: ["--time-field", "t"],
      expected: names.map((_, i) => i),
      identify: (payload) => {
        const late = (payload as { events: { late: { flight: string }[] } }).events.late;
        const i = index.get(late.map((f) => f.flight).join(" "));
        if (i === undefined) throw new Error(`unexpected match ${JSON.stringify(payload)}`);
        return i;
      },
      kills: KILLS,
    });
    check(report, names.length);
    await Deno.remove(checkpoints, { recursive: true });
  },
});

Deno.test({
  name: "kill -9 of a checkpointed keyed function between consume and produce loses no report",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const flights = (await lines("windows/flights_events.ndjson") as Flight[])
      .sort((a, b) => a.eventTime - b.eventTime);
    const values = Array.from(
      { length: DAYS },
      (_, d) => flights.map((f) => ({ ...f.value, k: f.value.origin, t: f.eventTime + d * DAY })),
    ).flat();
    const day = await lines("functions/quiet_hour_expected.ndjson") as {
      key: string;
      eventTime: number;
      flights: number;
    }[];
    // Each day reports as the fixture's day does, a day later, with the origin's flights of the
    // days before added to its running count.
    const perOrigin = new Map<string, number>();
    for (const r of day) perOrigin.set(r.key, Math.max(perOrigin.get(r.key) ?? 0, r.flights));
    const expected = Array.from({ length: DAYS }, (_, d) =>
      day.map((r) => ({
        key: r.key,
        eventTime: r.eventTime + d * DAY,
        flights: r.flights + d * perOrigin.get(r.key)!,
      }))).flat();
    const name = (key: string, time: number) => `${key}@${time}`;
    const index = new Map(expected.map((r, i) => [name(r.key, r.eventTime), i]));
    const checkpoints = await Deno.makeTempDir({ prefix: "edgepipe-process-kill-" });
    const report = await middleStageKill({
      label: "process",
      stage: [
        "process",
        QUIET_HOUR,
        "--key",
        "value.origin",
        "--checkpoint-dir",
        checkpoints,
        "--checkpoint-interval",
        "200ms",
      ],
      values,
      seedFlags: ["--time-field", "t"],
      produceFlags: ["--payload", "envelope"],
      expected: expected.map((_, i) => i),
      identify: (payload) => {
        const r = payload as { key: string; eventTime: number; value: { flights: number } };
        const i = index.get(name(r.key, r.eventTime));
        if (i === undefined || expected[i].flights !== r.value.flights) {
          throw new Error(`unexpected report ${JSON.stringify(payload)}`);
        }
        return i;
      },
      kills: KILLS,
    });
    check(report, expected.length);
    await Deno.remove(checkpoints, { recursive: true });
  },
});
