import assert from "node:assert/strict";
import fc from "fast-check";
import { ModelError } from "./errors.ts";
import { readOnnxModelInfo } from "./onnx_model_info.ts";

const modelsDir = new URL("../../models/", import.meta.url);
const flightBytes = await Deno.readFile(new URL("flight-delay/model.onnx", modelsDir));
// Written by the training script from the matrix scikit-learn was fitted on.
const flightMetrics = JSON.parse(
  await Deno.readTextFile(new URL("flight-delay/metrics.json", modelsDir)),
);

Deno.test("reads the signature, opsets and metadata of an skl2onnx model", () => {
  const info = readOnnxModelInfo(flightBytes);
  assert.deepEqual(info.inputs, [{
    name: "features",
    type: "float32",
    shape: ["batch", flightMetrics.columns],
  }]);
  assert.deepEqual(info.outputs.map((o) => [o.name, o.type]), [
    ["label", "int64"],
    ["probabilities", "float32"],
  ]);
  assert.equal(info.outputs[1].shape?.[1], 2);
  assert.equal(info.opsets[""], 17);
  assert.equal(info.metadata["edgepipe.model"], "flight-delay");
  assert.match(info.producer, /^skl2onnx /);
});

Deno.test("truncated, empty and foreign files are reported as not ONNX", () => {
  for (
    const bytes of [
      flightBytes.subarray(0, flightBytes.length - 7),
      new Uint8Array(0),
      new TextEncoder().encode('{"name":"flight-delay"}'),
    ]
  ) {
    assert.throws(() => readOnnxModelInfo(bytes, "m.onnx"), (err: unknown) => {
      assert.ok(err instanceof ModelError);
      assert.match(err.message, /^m\.onnx: not an ONNX model/);
      return true;
    });
  }
});

Deno.test("arbitrary bytes give a ModelError or a parsed model, never anything else", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
      try {
        readOnnxModelInfo(bytes);
      } catch (err) {
        return err instanceof ModelError;
      }
      return true;
    }),
    { numRuns: 500 },
  );
});
