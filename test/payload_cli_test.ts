/** `--payload` on sink, route and produce as a user types it (no server needed). */
import assert from "node:assert/strict";
import { runEdgepipe } from "./harness/edgepipe.ts";

const scored = '{"id":"a","key":"SFO","value":{"origin":"SFO"},"score":{"delayed":0.25}}\n';

Deno.test("sink stdout and route deliver the record, or the shape --payload names", async () => {
  const cases: [string[], unknown][] = [
    [["sink", "stdout"], { origin: "SFO", score: { delayed: 0.25 } }],
    [["sink", "stdout", "--payload", "value"], { origin: "SFO" }],
    [["sink", "stdout", "--payload", "field:score.delayed"], 0.25],
    [["sink", "stdout", "--payload", "envelope"], JSON.parse(scored)],
    [["route", "--to", "true=stdout"], { origin: "SFO", score: { delayed: 0.25 } }],
    [["route", "--payload", "value", "--to", "true=stdout"], { origin: "SFO" }],
    [["route", "--payload", "value", "--to", "true=stdout?payload=field:key"], "SFO"],
  ];
  for (const [args, expected] of cases) {
    const run = await runEdgepipe(args, { stdin: scored });
    assert.equal(run.code, 0, `${args.join(" ")}: ${run.stderr}`);
    assert.deepEqual(JSON.parse(run.stdout), expected, args.join(" "));
  }
});

Deno.test("a bad --payload or --encoding is a usage error, before any connection", async () => {
  const cases: [string[], RegExp][] = [
    [["sink", "stdout", "--payload", "all"], /--payload must be record, value, envelope or field/],
    [["route", "--payload", "field:", "--to", "true=stdout"], /--payload must be record/],
    [["produce", "t", "--payload", "everything"], /--payload must be record/],
    [["produce", "t", "--encoding", "hex"], /--encoding must be one of auto, json, base64/],
    [["produce", "t", "--payload", "json", "--encoding", "json"], /old spelling of --encoding/],
    [["score", "--model", "models/flight-delay", "--as", "value"], /--as value: choose a new/],
  ];
  for (const [args, message] of cases) {
    const run = await runEdgepipe(args, {
      stdin: "",
      env: { PULSAR_SERVICE_URL: "pulsar://127.0.0.1:1" },
    });
    assert.equal(run.code, 2, `${args.join(" ")}: ${run.stderr}`);
    assert.match(run.stderr, message);
    assert.equal(run.stderr.trim().split("\n").length, 1, run.stderr);
  }
});

Deno.test("a field both in the value and added by a stage follows --on-error, never overwritten", async () => {
  const clash = '{"id":"a","value":{"score":1},"score":{"delayed":0.5}}\n';
  const failed = await runEdgepipe(["sink", "stdout"], { stdin: clash });
  assert.equal(failed.code, 1);
  assert.match(failed.stderr, /field 'score' is both in the value and added by a stage/);
  assert.equal(failed.stdout, "");
});
