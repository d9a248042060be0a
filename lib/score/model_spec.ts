/**
 * The `spec.json` of a model directory: how envelope fields become the columns of the model's
 * input tensor, and what the model's outputs mean. Documented in `docs/models.md`.
 *
 * @module
 */
import { z } from "zod";

const transformSchema = z.enum(["hourOfDay", "dayOfWeek"]).describe(
  "derives the feature from an epoch-milliseconds timestamp (UTC): hour 0-23, weekday 0=Sunday",
);

const scaleSchema = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("standard"), mean: z.number(), std: z.number().positive() }),
  z.strictObject({ kind: z.literal("minmax"), min: z.number(), max: z.number() }).refine(
    (s) => s.max > s.min,
    "max must be greater than min",
  ),
]);

const featureBase = {
  /** Name used in errors and model cards. */
  name: z.string().min(1),
  /** Dotted path into the envelope: `value.distance`, `eventTime`, `value.coords.2`. */
  path: z.string().min(1),
  transform: transformSchema.optional(),
};

const numericFeatureSchema = z.strictObject({
  ...featureBase,
  kind: z.literal("numeric"),
  /** Used when the field is missing or null; without it a missing field is an error. */
  default: z.number().refine(Number.isFinite, "default must be finite").optional(),
  scale: scaleSchema.optional(),
});

const categoricalFeatureSchema = z.strictObject({
  ...featureBase,
  kind: z.literal("categorical"),
  /** `one-hot`: one column per vocabulary entry; `label`: one column holding the index. */
  encoding: z.enum(["one-hot", "label"]).default("one-hot"),
  vocabulary: z.array(z.string()).min(1).refine(
    (v) => new Set(v).size === v.length,
    "vocabulary entries must be unique",
  ),
  default: z.string().optional(),
  /** `error` rejects the event; `ignore` encodes all zeros (one-hot) or -1 (label). */
  unknown: z.enum(["error", "ignore"]).default("error"),
});

const outputSchema = z.discriminatedUnion("kind", [
  /** Predicted class index; named with `classes` when given. */
  z.strictObject({
    name: z.string().min(1),
    kind: z.literal("label"),
    classes: z.array(z.string()).optional(),
    as: z.string().min(1).default("label"),
  }),
  /** Class probabilities: one score field per class name. */
  z.strictObject({
    name: z.string().min(1),
    kind: z.literal("probabilities"),
    classes: z.array(z.string()).min(1),
  }),
  /** A regression value (first column of the output). */
  z.strictObject({
    name: z.string().min(1),
    kind: z.literal("value"),
    as: z.string().min(1).default("value"),
  }),
]);

/** Schema of `spec.json`. */
export const modelSpecSchema = z.strictObject({
  name: z.string().min(1),
  version: z.string().min(1),
  description: z.string().optional(),
  input: z.strictObject({
    name: z.string().min(1),
    type: z.literal("float32").default("float32"),
  }),
  features: z.array(z.discriminatedUnion("kind", [numericFeatureSchema, categoricalFeatureSchema]))
    .min(1)
    .refine(
      (fs) => new Set(fs.map((f) => f.name)).size === fs.length,
      "feature names must be unique",
    )
    .refine(
      (fs) =>
        fs.every((f) =>
          f.kind !== "categorical" || f.default === undefined || f.vocabulary.includes(f.default)
        ),
      "a categorical default must be one of its vocabulary entries",
    ),
  outputs: z.array(outputSchema).min(1),
});

/** A validated model spec. */
export type ModelSpec = z.infer<typeof modelSpecSchema>;
/** One feature of a spec. */
export type FeatureSpec = ModelSpec["features"][number];
/** One output of a spec. */
export type OutputSpec = ModelSpec["outputs"][number];

/**
 * How many input columns a spec produces: one per numeric or label-encoded feature, one per
 * vocabulary entry for one-hot features.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { specColumnCount } from "./model_spec.ts";
 * const n = specColumnCount({
 *   features: [
 *     { name: "d", path: "value.d", kind: "numeric" },
 *     { name: "c", path: "value.c", kind: "categorical", encoding: "one-hot",
 *       vocabulary: ["a", "b"], unknown: "error" },
 *   ],
 * });
 * assert.equal(n, 3);
 * ```
 */
export function specColumnCount(spec: Pick<ModelSpec, "features">): number {
  let columns = 0;
  for (const f of spec.features) {
    columns += f.kind === "categorical" && f.encoding === "one-hot" ? f.vocabulary.length : 1;
  }
  return columns;
}
