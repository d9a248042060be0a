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

const tensorFeatureSchema = z.strictObject({
  name: z.string().min(1),
  path: z.string().min(1),
  kind: z.literal("tensor"),
  /** Values taken from the array (the feature's columns). */
  length: z.number().int().positive().max(1 << 20),
  /** A shorter array: `error`, or pad at the `start` (latest values last) or the `end`. */
  pad: z.enum(["error", "start", "end"]).default("error"),
  padValue: z.number().refine(Number.isFinite, "padValue must be finite").default(0),
  /** A longer array: `error`, or keep its `first` or its `last` `length` values. */
  truncate: z.enum(["error", "first", "last"]).default("error"),
  scale: scaleSchema.optional(),
});

const imageFeatureSchema = z.strictObject({
  name: z.string().min(1),
  path: z.string().min(1),
  kind: z.literal("image"),
  /** Size the image is resized to (bilinear, pixel centres aligned). */
  width: z.number().int().positive().max(4096),
  height: z.number().int().positive().max(4096),
  /** 1: grey (ITU-R BT.601 luma), 3: RGB. */
  channels: z.union([z.literal(1), z.literal(3)]),
  /** `NCHW`: one plane per channel; `NHWC`: channels interleaved. */
  layout: z.enum(["NCHW", "NHWC"]).default("NCHW"),
  /** Channel order for 3 channels. */
  order: z.enum(["RGB", "BGR"]).default("RGB"),
  /** Pixels 0-255 are multiplied by this first (1/255 gives 0-1). */
  pixelScale: z.number().positive().default(1 / 255),
  /** Then (x − mean[c]) / std[c], one entry per channel. */
  mean: z.array(z.number()).optional(),
  std: z.array(z.number().positive()).optional(),
}).refine(
  (f) =>
    (f.mean?.length ?? f.channels) === f.channels && (f.std?.length ?? f.channels) === f.channels,
  "mean and std need one entry per channel",
);

const textFeatureSchema = z.strictObject({
  name: z.string().min(1),
  path: z.string().min(1),
  kind: z.literal("text"),
  /** Used when the field is missing or null; numbers and booleans are taken by their spelling. */
  default: z.string().optional(),
});

const featureSchema = z.discriminatedUnion("kind", [
  numericFeatureSchema,
  categoricalFeatureSchema,
  tensorFeatureSchema,
  imageFeatureSchema,
  textFeatureSchema,
]);

const featureListSchema = z.array(featureSchema)
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
  );

/** Element types an input can have. */
export const INPUT_TYPES = ["float32", "float64", "int64", "int32", "bool", "string"] as const;

const inputSchema = z.strictObject({
  name: z.string().min(1),
  type: z.enum(INPUT_TYPES).default("float32"),
  /** Dimensions of one event's part of the tensor (without the batch); default `[columns]`. */
  shape: z.array(z.number().int().positive()).min(1).optional(),
  features: featureListSchema,
});

/** Schema of `spec.json`. */
export const modelSpecSchema = z.strictObject({
  name: z.string().min(1),
  version: z.string().min(1),
  description: z.string().optional(),
  /** The single float32 `[batch, columns]` input of the original form, with `features`. */
  input: z.strictObject({
    name: z.string().min(1),
    type: z.literal("float32").default("float32"),
  }).optional(),
  features: featureListSchema.optional(),
  /** Several named inputs, each with its own features (instead of `input` + `features`). */
  inputs: z.array(inputSchema).min(1).refine(
    (is) => new Set(is.map((i) => i.name)).size === is.length,
    "input names must be unique",
  ).optional(),
  outputs: z.array(outputSchema).min(1),
}).refine(
  (s) => (s.inputs === undefined) === (s.input !== undefined && s.features !== undefined),
  "give either 'inputs' or both 'input' and 'features'",
);

/** A validated model spec. */
export type ModelSpec = z.infer<typeof modelSpecSchema>;
/** One feature of a spec. */
export type FeatureSpec = z.infer<typeof featureSchema>;
/** One model input: its name, element type, per-event shape and features. */
export type InputSpec = z.infer<typeof inputSchema>;

/**
 * The spec's inputs, the original single-input form included.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { modelSpecSchema, specInputs } from "./model_spec.ts";
 * const spec = modelSpecSchema.parse({
 *   name: "m", version: "1", input: { name: "x" },
 *   features: [{ name: "a", path: "value.a", kind: "numeric" }],
 *   outputs: [{ name: "y", kind: "value" }],
 * });
 * assert.equal(specInputs(spec)[0].name, "x");
 * ```
 */
export function specInputs(spec: ModelSpec): InputSpec[] {
  if (spec.inputs !== undefined) return spec.inputs;
  return [{ name: spec.input!.name, type: "float32", features: spec.features! }];
}
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
export function specColumnCount(spec: { features: readonly FeatureSpec[] }): number {
  let columns = 0;
  for (const f of spec.features) columns += featureColumns(f);
  return columns;
}

/** Columns one feature fills. */
export function featureColumns(f: FeatureSpec): number {
  switch (f.kind) {
    case "categorical":
      return f.encoding === "one-hot" ? f.vocabulary.length : 1;
    case "tensor":
      return f.length;
    case "image":
      return f.width * f.height * f.channels;
    default:
      return 1;
  }
}
