/**
 * Runs `edgepipe score` and `edgepipe models` as a user would: a real process, NDJSON through
 * stdin and stdout, exit codes and one-line errors on stderr.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { runEdgepipe } from "./harness/edgepipe.ts";

const root = new URL("../", import.meta.url).pathname;
const models = join(root, "models");

function edgepipe(
  args: string[],
  stdin = "",
): Promise<{ code: number; stdout: string; stderr: string }> {
  // The permissions scoring needs, no more: a missing one must show as a clear error.
  return runEdgepipe(args, {
    stdin,
    cwd: root,
    permissions: ["--allow-read", "--allow-write", "--allow-ffi", "--allow-env"],
  });
}

const parseLines = (text: string) =>
  text.trim().split("\n").filter((l) => l).map((l) => JSON.parse(l));
const fixture = async (model: string) =>
  parseLines(await Deno.readTextFile(join(models, model, "fixture.ndjson")));

Deno.test("score: the command's probabilities equal scikit-learn's on the 1,000 held-out flights", async () => {
  const lines = await fixture("flight-delay");
  const input = lines.map((l) => JSON.stringify(l.event)).join("\n") + "\n";
  const { code, stdout, stderr } = await edgepipe([
    "score",
    "--model",
    "models/flight-delay",
    "--batch",
    "100",
  ], input);
  assert.equal(code, 0, stderr);
  const out = parseLines(stdout);
  assert.equal(out.length, 1000);
  let worst = 0;
  for (const [i, event] of out.entries()) {
    assert.equal(event.id, lines[i].event.id);
    assert.deepEqual(event.value, lines[i].event.value, "the input is kept");
    worst = Math.max(worst, Math.abs(event.score.delayed - lines[i].expected.probabilities[1]));
  }
  assert.ok(worst < 1e-5, `max gap ${worst}`);
});

Deno.test("score: earthquake magnitudes equal scikit-learn's", async () => {
  const lines = await fixture("earthquake-magnitude");
  const input = lines.map((l) => JSON.stringify(l.event)).join("\n");
  const { code, stdout, stderr } = await edgepipe([
    "score",
    "--model",
    "models/earthquake-magnitude",
    "--as",
    "estimate",
  ], input);
  assert.equal(code, 0, stderr);
  const out = parseLines(stdout);
  assert.equal(out.length, lines.length);
  const worst = Math.max(
    ...out.map((e, i) => Math.abs(e.estimate.magnitude - lines[i].expected.value)),
  );
  assert.ok(worst < 1e-5, `max gap ${worst}`);
});

const good = (id: string) =>
  JSON.stringify({
    id,
    eventTime: Date.UTC(2001, 2, 5, 9),
    value: { origin: "SFO", destination: "LAX", distance: 337 },
  });

const badInputs: [string, string, RegExp][] = [
  [
    "a number given as text",
    JSON.stringify({
      id: "b1",
      eventTime: 0,
      value: { origin: "SFO", destination: "LAX", distance: "abc" },
    }),
    /^edgepipe score: line 2: event 'b1': feature 'distance' \(value\.distance\): expected a number, got string "abc"$/,
  ],
  [
    "a missing feature without default",
    JSON.stringify({ id: "b2", eventTime: 0, value: { origin: "SFO", destination: "LAX" } }),
    /^edgepipe score: line 2: event 'b2': feature 'distance' \(value\.distance\): missing \(no default\)$/,
  ],
  [
    "a timestamp that is not a number",
    JSON.stringify({
      eventTime: "yesterday",
      value: { origin: "SFO", destination: "LAX", distance: 1 },
    }),
    /^edgepipe score: line 2: event #2: feature 'hour' \(eventTime\): hourOfDay needs a timestamp/,
  ],
  ["a line that is not JSON", "{nope", /^edgepipe score: line 2: not valid JSON/],
];

for (const [what, line, message] of badInputs) {
  Deno.test(`score: ${what} stops with one clear line and exit 1`, async () => {
    const { code, stdout, stderr } = await edgepipe(
      ["score", "--model", "models/flight-delay"],
      [good("g1"), line, good("g3")].join("\n"),
    );
    assert.equal(code, 1);
    assert.equal(stderr.trim().split("\n").length, 1, stderr);
    assert.match(stderr.trim(), message);
    assert.deepEqual(
      parseLines(stdout).map((e) => e.id),
      ["g1"],
      "the event before the bad one is delivered",
    );
  });
}

Deno.test("score: an unknown category and NaN-like values with --on-error dead-letter", async () => {
  const dir = await Deno.makeTempDir();
  const spec = JSON.parse(await Deno.readTextFile(join(models, "flight-delay/spec.json")));
  spec.features[3].unknown = "error";
  await Deno.writeTextFile(join(dir, "spec.json"), JSON.stringify(spec));
  await Deno.copyFile(join(models, "flight-delay/model.onnx"), join(dir, "model.onnx"));
  const dead = join(dir, "dead.ndjson");
  const input = [
    good("g1"),
    JSON.stringify({
      id: "unknown-airport",
      eventTime: 0,
      value: { origin: "ZZZ", destination: "LAX", distance: 5 },
    }),
    '{"id":"huge","eventTime":0,"value":{"origin":"SFO","destination":"LAX","distance":1e999}}',
    '{"$edgepipe":"checkpoint","n":1}',
    "not json",
    good("g6"),
  ].join("\n");
  const { code, stdout, stderr } = await edgepipe([
    "score",
    "--model",
    dir,
    "--on-error",
    `dead-letter=${dead}`,
  ], input);
  assert.equal(code, 0, stderr);
  const out = parseLines(stdout);
  assert.deepEqual(out.map((i) => i.$edgepipe ?? i.id), ["g1", "ack", "ack", "checkpoint", "g6"]);
  assert.deepEqual(out.filter((i) => i.$edgepipe === "ack").map((a) => a.ids), [
    ["unknown-airport"],
    ["huge"],
  ]);
  const letters = parseLines(await Deno.readTextFile(dead));
  assert.deepEqual(letters.map((l) => l.deadLetter.line), [2, 3, 5]);
  assert.match(
    letters[0].deadLetter.error,
    /feature 'origin' \(value\.origin\): unknown category "ZZZ"/,
  );
  assert.match(letters[1].deadLetter.error, /feature 'distance'.*Infinity is not a finite number/);
  assert.equal(letters[2].deadLetter.raw, "not json");
  await Deno.remove(dir, { recursive: true });
});

Deno.test("score: a broken model directory is refused before reading input", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.copyFile(join(models, "flight-delay/spec.json"), join(dir, "spec.json"));
  await Deno.writeTextFile(join(dir, "model.onnx"), "this is not a model");
  const corrupt = await edgepipe(["score", "--model", dir], good("g1"));
  assert.equal(corrupt.code, 1);
  assert.match(corrupt.stderr, /model\.onnx: not an ONNX model/);
  await Deno.copyFile(join(models, "earthquake-magnitude/model.onnx"), join(dir, "model.onnx"));
  const mismatch = await edgepipe(["score", "--model", dir], good("g1"));
  assert.equal(mismatch.code, 1);
  assert.match(
    mismatch.stderr,
    /spec\.json does not match model\.onnx: input 'features' takes 9 columns, the spec's features make 488/,
  );
  const missing = await edgepipe(["score", "--model", join(dir, "nothing")], "");
  assert.match(missing.stderr, /nothing\/spec\.json: not found/);
  const usage = await edgepipe(["score"], "");
  assert.equal(usage.code, 2);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("models inspect and check", async () => {
  const inspect = await edgepipe(["models", "inspect", "models/flight-delay/model.onnx", "--json"]);
  assert.equal(inspect.code, 0, inspect.stderr);
  const info = JSON.parse(inspect.stdout);
  assert.deepEqual(info.inputs[0], { name: "features", type: "float32", shape: ["batch", 488] });
  assert.deepEqual(info.outputs.map((o: { name: string }) => o.name), ["label", "probabilities"]);
  assert.equal(info.opsets[""], 17);

  const text = await edgepipe(["models", "inspect", "models/earthquake-magnitude"]);
  assert.match(text.stdout, /features\s+float32\s+\[batch, 9\]/);
  assert.match(text.stdout, /magnitude_type\s+value\.properties\.magType\s+categorical, label/);

  for (const model of ["flight-delay", "earthquake-magnitude"]) {
    const check = await edgepipe(["models", "check", `models/${model}`]);
    assert.equal(check.code, 0, check.stderr);
    assert.match(check.stdout, new RegExp(`^ok: models/${model}: ${model} 1\\.0\\.0`));
  }

  const dir = await Deno.makeTempDir();
  const spec = JSON.parse(await Deno.readTextFile(join(models, "flight-delay/spec.json")));
  spec.outputs[1].name = "probs";
  spec.features[2].kind = "numeric";
  spec.features.pop();
  await Deno.writeTextFile(join(dir, "spec.json"), JSON.stringify(spec));
  await Deno.copyFile(join(models, "flight-delay/model.onnx"), join(dir, "model.onnx"));
  const bad = await edgepipe(["models", "check", dir]);
  assert.equal(bad.code, 1);
  assert.match(
    bad.stderr,
    /takes 488 columns, the spec's features make 260; output 'probs' is not in the model/,
  );
  await Deno.remove(dir, { recursive: true });
});

Deno.test("models check: a graph onnxruntime rejects, and running without --allow-ffi", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.copyFile(join(models, "flight-delay/spec.json"), join(dir, "spec.json"));
  const bytes = await Deno.readFile(join(models, "flight-delay/model.onnx"));
  const text = new TextDecoder("latin1").decode(bytes);
  // The node's name and its op type; same length, so the protobuf stays valid.
  let at = text.indexOf("LinearClassifier");
  assert.ok(at > 0);
  for (; at >= 0; at = text.indexOf("LinearClassifier", at + 1)) {
    bytes.set(new TextEncoder().encode("LinearClassifiex"), at);
  }
  await Deno.writeFile(join(dir, "model.onnx"), bytes);
  const broken = await edgepipe(["models", "check", dir]);
  assert.equal(broken.code, 1);
  assert.match(broken.stderr, /onnxruntime cannot load .*model\.onnx: .*LinearClassifiex/);
  await Deno.remove(dir, { recursive: true });

  const noFfi = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      join(root, "cli/main.ts"),
      "models",
      "check",
      "models/flight-delay",
    ],
    cwd: root,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(noFfi.stderr).trim();
  assert.equal(noFfi.code, 1);
  assert.equal(stderr.split("\n").length, 1, stderr);
  assert.match(stderr, /cannot load onnxruntime-node: .*--allow-ffi/);
});
