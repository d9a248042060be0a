/**
 * Scoring with ONNX models: load a model directory, score a stream of envelopes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { getPath } from "../envelope.ts";
 * import { loadModel, score } from "./mod.ts";
 * const dir = new URL("../../models/earthquake-magnitude", import.meta.url).pathname;
 * const model = await loadModel(dir);
 * async function* quakes() {
 *   yield {
 *     id: "ci1",
 *     value: {
 *       properties: { magType: "ml", net: "ci", rms: 0.2 },
 *       geometry: { coordinates: [-118, 34, 10] },
 *     },
 *   };
 * }
 * const out = await Array.fromAsync(score(quakes(), { model, as: "estimate" }));
 * assert.equal(out.length, 1);
 * assert.equal(typeof getPath(out[0], "estimate.magnitude"), "number");
 * ```
 *
 * @module
 */
export {
  score,
  scoreBatches,
  type ScoredRun,
  type ScoreInput,
  type ScoreOptions,
} from "./score.ts";
export { type LoadedInput, type LoadedModel, loadModel } from "./load_model.ts";
export { FeatureError, ModelError } from "./errors.ts";
export { type OnnxModelInfo, readOnnxModelInfo, type TensorInfo } from "./onnx_model_info.ts";
