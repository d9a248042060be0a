import assert from "node:assert/strict";
import { join } from "node:path";
import { ModelError } from "./errors.ts";
import { loadModel } from "./load_model.ts";

const flightDir = new URL("../../models/flight-delay", import.meta.url).pathname;
const flightSpec = JSON.parse(await Deno.readTextFile(join(flightDir, "spec.json")));

/** A model directory with the flight model and a spec changed by `edit`. */
async function modelDir(edit: (spec: typeof flightSpec) => void, modelBytes?: Uint8Array) {
  const dir = await Deno.makeTempDir({ prefix: "edgepipe-model-" });
  const spec = structuredClone(flightSpec);
  edit(spec);
  await Deno.writeTextFile(join(dir, "spec.json"), JSON.stringify(spec));
  await Deno.writeFile(
    join(dir, "model.onnx"),
    modelBytes ?? await Deno.readFile(join(flightDir, "model.onnx")),
  );
  return dir;
}

async function failsWith(dir: string, pattern: RegExp) {
  try {
    await assert.rejects(loadModel(dir), (err: unknown) => {
      assert.ok(err instanceof ModelError, `expected ModelError, got ${err}`);
      assert.match(err.message, pattern);
      return true;
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("loads the shipped models", async () => {
  const model = await loadModel(flightDir);
  assert.equal(model.columns, 488);
  assert.equal(model.spec.features?.length, 5);
  const quake = await loadModel(
    new URL("../../models/earthquake-magnitude", import.meta.url).pathname,
  );
  assert.equal(quake.columns, quake.info.inputs[0].shape?.[1]);
});

Deno.test("a spec whose columns do not match the model's input", async () => {
  await failsWith(
    await modelDir((s) => s.features[3].vocabulary.pop()),
    /does not match model.onnx: input 'features' takes 488 columns, the spec's features make 487/,
  );
});

Deno.test("a spec naming an input or output the model lacks", async () => {
  await failsWith(
    await modelDir((s) => s.input.name = "X"),
    /input 'X' is not in the model \(it has: features\)/,
  );
  await failsWith(
    await modelDir((s) => s.outputs[1].name = "output_probability"),
    /output 'output_probability' is not in the model \(it has: label, probabilities\)/,
  );
  await failsWith(
    await modelDir((s) => s.outputs[1].classes.push("cancelled")),
    /output 'probabilities' has 2 columns, the spec names 3 classes/,
  );
});

Deno.test("a spec that breaks the schema names the field", async () => {
  await failsWith(
    await modelDir((s) => s.features[2].kind = "number"),
    /spec.json: invalid spec: features\.2\.kind/,
  );
  await failsWith(
    await modelDir((s) => s.features[2].scale.std = 0),
    /invalid spec: features\.2\.scale\.std/,
  );
  await failsWith(
    await modelDir((s) => s.features[0].vocabulary.push("0")),
    /features\.0\.vocabulary: vocabulary entries must be unique/,
  );
  await failsWith(await modelDir((s) => delete s.outputs), /invalid spec: outputs/);
});

Deno.test("missing and corrupt files", async () => {
  const noModel = await modelDir(() => {});
  await Deno.remove(join(noModel, "model.onnx"));
  await failsWith(noModel, /model\.onnx: not found$/);

  const noSpec = await modelDir(() => {});
  await Deno.remove(join(noSpec, "spec.json"));
  await failsWith(noSpec, /spec\.json: not found$/);

  const badJson = await modelDir(() => {});
  await Deno.writeTextFile(join(badJson, "spec.json"), "{ not json");
  await failsWith(badJson, /spec\.json: not valid JSON/);

  const bytes = await Deno.readFile(join(flightDir, "model.onnx"));
  await failsWith(
    await modelDir(() => {}, bytes.subarray(0, 1000)),
    /model\.onnx: not an ONNX model/,
  );
});
