/**
 * The sequence and image models through whole pipes, as a user runs them: `replay | window
 * --count 24 | score` for temperature-anomaly, PNG events through `score` for digits, each held
 * to scikit-learn's outputs in its fixture (written by the training scripts). The Pulsar path of
 * the digits model (raw PNG bytes produced by the Java client) is in
 * `test/integration/score_images_pulsar_test.ts`.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { runEdgepipe } from "./harness/edgepipe.ts";
import { startShellPipe } from "./harness/shell_pipe.ts";

const root = new URL("../", import.meta.url).pathname;
const models = join(root, "models");

const parseLines = (text: string) =>
  text.trim().split("\n").filter((l) => l).map((l) => JSON.parse(l));
const fixture = async (model: string) =>
  parseLines(await Deno.readTextFile(join(models, model, "fixture.ndjson")));

const COLLECT = "collect(value.temperature, 24) as temperature, " +
  "collect(value.pressure, 24) as pressure";

for (const tz of ["UTC", "Asia/Kolkata"]) {
  Deno.test(`replay | window --count 24 | score: temperature anomalies equal scikit-learn's (TZ=${tz})`, async () => {
    const expected = await fixture("temperature-anomaly");
    const byStart = new Map(expected.map((l) => [l.event.window.start, l]));
    const pipe = await startShellPipe([
      ["replay", join(models, "temperature-anomaly/heldout.ndjson")],
      ["window", "--key", "key", "--count", "24", "--agg", COLLECT],
      ["score", "--model", join(models, "temperature-anomaly"), "--batch", "16"],
    ], { env: { TZ: tz } });
    const { codes, stderr, stdout } = await pipe.done;
    assert.deepEqual(codes, [0, 0, 0], stderr.join("\n"));
    const windows = parseLines(stdout).filter((r) => r.$edgepipe === undefined);
    assert.equal(windows.length, expected.length);
    let worst = 0;
    const flagged: number[] = [];
    for (const w of windows) {
      const want = byStart.get(w.window.start);
      assert.ok(want, `window at ${w.window.start} is in the fixture`);
      assert.deepEqual(w.value.temperature, want.event.value.temperature);
      assert.equal(w.score.label, want.expected.label);
      worst = Math.max(worst, Math.abs(w.score.anomaly - want.expected.anomaly));
      if (w.score.label === -1) flagged.push(w.window.start);
    }
    console.log(`temperature-anomaly: max |Δ| vs scikit-learn ${worst.toExponential(2)}`);
    assert.ok(worst < 1e-5, `max gap ${worst}`);
    // The fixture has anomalies: the parity covers both labels.
    assert.ok(flagged.length >= 1 && flagged.length < windows.length, `${flagged.length} flagged`);
  });
}

// Sliding windows of 24 h every hour: the held-out days are 6 days apart, so the only windows
// holding 24 readings are the ones that start on a held-out day's first hour; every other window
// holds 1–23 and the spec (pad: error) refuses it by name.
Deno.test("replay | window --sliding 24h --every 1h | score: full windows equal scikit-learn's, short ones refused", async () => {
  const expected = await fixture("temperature-anomaly");
  const byStart = new Map(expected.map((l) => [l.event.window.start, l]));
  const pipe = await startShellPipe([
    ["replay", join(models, "temperature-anomaly/heldout.ndjson")],
    ["window", "--key", "key", "--sliding", "24h", "--every", "1h", "--agg", COLLECT],
    ["score", "--model", join(models, "temperature-anomaly"), "--on-error", "skip"],
  ]);
  const { codes, stderr, stdout } = await pipe.done;
  assert.deepEqual(codes, [0, 0, 0], stderr.join("\n"));
  const scored = parseLines(stdout).filter((r) => r.score !== undefined);
  assert.equal(scored.length, expected.length);
  let worst = 0;
  for (const w of scored) {
    const want = byStart.get(w.window.start);
    assert.ok(want, `window at ${w.window.start} starts a held-out day`);
    assert.equal(w.window.end - w.window.start, 24 * 3600_000);
    assert.deepEqual(w.value.pressure, want.event.value.pressure);
    assert.equal(w.score.label, want.expected.label);
    worst = Math.max(worst, Math.abs(w.score.anomaly - want.expected.anomaly));
  }
  assert.equal(new Set(scored.map((w) => w.window.start)).size, expected.length);
  console.log(`temperature-anomaly, sliding: max |Δ| vs scikit-learn ${worst.toExponential(2)}`);
  assert.ok(worst < 1e-5, `max gap ${worst}`);
  // Each held-out day starts 24 hourly windows reaching into it from before (1–23 readings and
  // the full one) and 23 reaching out of it after: 46 short windows per day.
  const refused = stderr[2].split("\n").filter((l) =>
    /feature 'temperature' \(value\.temperature\): \d+ values?, fewer than its 24/.test(l)
  );
  assert.equal(refused.length, 46 * expected.length, stderr[2].slice(0, 2000));
});

Deno.test("score: digits from PNG images (8×8 grey, 16×16 RGB) equal scikit-learn's", async () => {
  const lines = await fixture("digits");
  const input = lines.map((l) => JSON.stringify(l.event)).join("\n") + "\n";
  const { code, stdout, stderr } = await runEdgepipe(
    ["score", "--model", "models/digits", "--batch", "64"],
    { stdin: input, cwd: root },
  );
  assert.equal(code, 0, stderr);
  const out = parseLines(stdout);
  assert.equal(out.length, lines.length);
  let worst = 0;
  for (const [i, event] of out.entries()) {
    assert.equal(event.id, lines[i].event.id);
    assert.equal(event.score.digit, lines[i].expected.digit);
    for (let d = 0; d < 10; d++) {
      worst = Math.max(worst, Math.abs(event.score[String(d)] - lines[i].expected[String(d)]));
    }
  }
  console.log(`digits: max |Δ| vs scikit-learn ${worst.toExponential(2)}`);
  assert.ok(worst < 1e-5, `max gap ${worst}`);
});

Deno.test("score: an event whose image is not an image is rejected by name, the rest scored", async () => {
  const [good] = await fixture("digits");
  const bad = { id: "not-a-png", value: { png: btoa("hello, world") } };
  const input = [good.event, bad, good.event].map((e) => JSON.stringify(e)).join("\n") + "\n";
  const { code, stdout, stderr } = await runEdgepipe(
    ["score", "--model", "models/digits", "--on-error", "skip"],
    { stdin: input, cwd: root },
  );
  assert.equal(code, 0, stderr);
  assert.match(
    stderr,
    /event 'not-a-png': feature 'image' \(value\.png\): neither PNG nor JPEG/,
  );
  const out = parseLines(stdout);
  assert.deepEqual(out.map((e) => e.id ?? e.$edgepipe), [good.event.id, "ack", good.event.id]);
});

Deno.test("score --workers 2 keeps input order and gives the same scores as one worker", async () => {
  const lines = await fixture("digits");
  const input = lines.map((l) => JSON.stringify(l.event)).join("\n") + "\n";
  const run = (workers: string) =>
    runEdgepipe(["score", "--model", "models/digits", "--batch", "8", "--workers", workers], {
      stdin: input,
      cwd: root,
    });
  const [one, two] = await Promise.all([run("1"), run("2")]);
  assert.equal(one.code, 0, one.stderr);
  assert.equal(two.code, 0, two.stderr);
  const ids = parseLines(two.stdout).map((e) => e.id);
  assert.deepEqual(ids, lines.map((l) => l.event.id));
  assert.equal(two.stdout, one.stdout);
});

Deno.test("models check on the sequence and image models: ok with the version, or every misfit named", async () => {
  for (
    const [model, what] of [
      ["temperature-anomaly", "2 features → 48 columns of 'readings', outputs label, scores"],
      ["digits", "1 features → 64 columns of 'image', outputs label, probabilities"],
    ]
  ) {
    const bytes = await Deno.readFile(join(models, model, "model.onnx"));
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
    const hex = Array.from(digest.subarray(0, 8), (b) => b.toString(16).padStart(2, "0")).join("");
    const { code, stdout, stderr } = await runEdgepipe(["models", "check", `models/${model}`], {
      cwd: root,
    });
    assert.equal(code, 0, stderr);
    assert.equal(stdout.trim(), `ok: models/${model}: ${model} 1.0.0, ${what} (sha256:${hex})`);
  }
  const dir = await Deno.makeTempDir({ prefix: "edgepipe-check-" });
  try {
    const spec = JSON.parse(
      await Deno.readTextFile(join(models, "temperature-anomaly/spec.json")),
    );
    spec.inputs[0].type = "int64";
    spec.inputs[0].features[1].length = 12;
    await Deno.writeTextFile(join(dir, "spec.json"), JSON.stringify(spec));
    await Deno.copyFile(
      join(models, "temperature-anomaly/model.onnx"),
      join(dir, "model.onnx"),
    );
    const bad = await runEdgepipe(["models", "check", dir], { cwd: root });
    assert.equal(bad.code, 1);
    assert.equal(bad.stdout, "");
    for (
      const want of [
        /input 'readings' \(int64\): feature 'temperature' is scaled; a scaled value needs a float input/,
        /input 'readings' is float32, the spec says int64/,
        /input 'readings' takes 48 columns, the spec's features make 36/,
      ]
    ) assert.match(bad.stderr, want);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
