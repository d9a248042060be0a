/**
 * `consume | score --model models/flight-delay | produce` on the real broker: the score process
 * (onnxruntime in a worker, micro-batches in flight) is killed with SIGKILL at random moments,
 * each checked to fall mid-stream, and the whole pipe is started again on the same subscription.
 * At the end every flight is in the output topic (read back by the Java client; duplicates are
 * counted, none may be missing) and the source backlog is 0.
 */
import assert from "node:assert/strict";
import { middleStageKill } from "../harness/middle_stage_kill.ts";

const EVENTS = 10_000;
const KILLS = 3;
const SAMPLE = new URL("../../models/flight-delay/sample.ndjson", import.meta.url);
const MODEL = new URL("../../models/flight-delay", import.meta.url).pathname;

Deno.test({
  name: "kill -9 of score between consume and produce loses no event",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    // Real flights of the model's sample, numbered; produce takes the event time from t.
    const flights = (await Deno.readTextFile(SAMPLE)).trimEnd().split("\n").map((line) =>
      JSON.parse(line)
    );
    const values = Array.from({ length: EVENTS }, (_, n) => {
      const { eventTime, value } = flights[n % flights.length];
      const { origin, destination, distance } = value;
      return { n, k: origin, t: eventTime, origin, destination, distance };
    });
    const report = await middleStageKill({
      label: "score",
      stage: ["score", "--model", MODEL, "--batch", "64"],
      values,
      seedFlags: ["--time-field", "t"],
      expected: values.map(({ n }) => n),
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
    assert.deepEqual(report.output.unexpected, []);
    assert.equal(report.output.distinct, EVENTS);
    assert.equal(report.backlog, 0);
  },
});
