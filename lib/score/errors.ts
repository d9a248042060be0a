/**
 * Errors of the scoring stage: a model that cannot be used, and an event that cannot be scored.
 *
 * @module
 */
import { EdgepipeError, InputError } from "../errors.ts";

/**
 * A model directory that cannot be used: a missing or corrupt `model.onnx`, an invalid
 * `spec.json`, a spec that does not match the model's inputs and outputs, or a runtime failure
 * inside onnxruntime.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ModelError } from "./errors.ts";
 * const err = new ModelError("models/x: spec.json: not found");
 * assert.equal(err.name, "ModelError");
 * ```
 */
export class ModelError extends EdgepipeError {}

/**
 * One event whose fields cannot become model input: a missing feature without a default, a wrong
 * type, NaN or Infinity, an unknown category. The message names the event and the field.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FeatureError } from "./errors.ts";
 * const err = new FeatureError("event 'a1': feature 'distance' (value.distance): missing", {
 *   feature: "distance",
 *   line: 3,
 * });
 * assert.ok(err.message.startsWith("line 3: "));
 * ```
 */
export class FeatureError extends InputError {
  /** The spec feature that failed. */
  readonly feature: string;

  /** `feature` names the spec feature; `line` the input line. */
  constructor(message: string, options: ErrorOptions & { feature: string; line?: number }) {
    super(message, options);
    this.feature = options.feature;
  }
}
