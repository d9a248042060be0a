import assert from "node:assert/strict";
import fc from "fast-check";
import { compileEncoder, newInputBuffer } from "./encode_features.ts";
import { FeatureError } from "./errors.ts";
import type { FeatureSpec } from "./model_spec.ts";
import { modelSpecSchema } from "./model_spec.ts";

const tensor = (over: Record<string, unknown>): FeatureSpec =>
  modelSpecSchema.parse({
    name: "t",
    version: "1",
    inputs: [{
      name: "x",
      features: [{ name: "r", path: "value.r", kind: "tensor", length: 4, ...over }],
    }],
    outputs: [{ name: "y", kind: "value" }],
  }).inputs![0].features[0];

function encodeOne(f: FeatureSpec, r: unknown, type: "float32" | "int64" | "bool" = "float32") {
  const { encode, columns } = compileEncoder({ features: [f] }, type);
  const out = newInputBuffer(type, columns + 2) as Float32Array;
  out.fill(9);
  encode({ value: { r } }, out, 1, { position: 1 });
  assert.equal(out[0], 9, "wrote before its row");
  assert.equal(out[columns + 1], 9, "wrote past its row");
  return [...out.subarray(1, columns + 1)];
}

/** The padding and truncation rules, written out on their own. */
function reference(values: number[], length: number, pad: string, truncate: string, fill: number) {
  if (values.length > length) {
    return truncate === "last" ? values.slice(values.length - length) : values.slice(0, length);
  }
  const padding = new Array(length - values.length).fill(fill);
  return pad === "start" ? [...padding, ...values] : [...values, ...padding];
}

Deno.test("property: tensor features pad and truncate as the spec says", () => {
  fc.assert(fc.property(
    fc.array(fc.integer({ min: -1000, max: 1000 }), { maxLength: 9 }),
    fc.constantFrom("start", "end"),
    fc.constantFrom("first", "last"),
    fc.integer({ min: -5, max: 5 }),
    (values, pad, truncate, padValue) => {
      const f = tensor({ pad, truncate, padValue });
      assert.deepEqual(encodeOne(f, values), reference(values, 4, pad, truncate, padValue));
    },
  ));
});

Deno.test("tensor features: scaling, and every refusal names the feature and the reason", () => {
  const scaled = tensor({ scale: { kind: "standard", mean: 10, std: 2 }, pad: "end" });
  assert.deepEqual(encodeOne(scaled, [10, 12, 14]), [0, 1, 2, -5]);
  const strict = tensor({});
  const refused: [unknown, RegExp][] = [
    [[1, 2, 3], /feature 'r' \(value\.r\): 3 values, fewer than its 4 \(pad: error\)/],
    [[1, 2, 3, 4, 5], /5 values, more than its 4 \(truncate: error\)/],
    [[1, 2, "3", 4], /value 2: expected a finite number, got string "3"/],
    [[1, 2, null, 4], /value 2: expected a finite number, got null/],
    ["1,2,3,4", /expected an array, got string/],
    [undefined, /missing \(no default\)/],
  ];
  for (const [r, message] of refused) {
    assert.throws(() => encodeOne(strict, r), (err: unknown) => {
      assert.ok(err instanceof FeatureError);
      assert.match(err.message, message);
      return true;
    });
  }
  assert.deepEqual(encodeOne(strict, [1, 2, 3, 4], "int64"), [1, 2, 3, 4]);
  assert.throws(() => encodeOne(strict, [1, 2.5, 3, 4], "int64"), /value 1: 2.5 is not an integer/);
  assert.deepEqual(encodeOne(strict, [true, false, 1, 0], "bool"), [1, 0, 1, 0]);
});

Deno.test("string inputs take text features: strings as they are, numbers by their spelling", () => {
  const { encode, columns } = compileEncoder({
    features: [
      { name: "city", path: "value.city", kind: "text" },
      { name: "code", path: "value.code", kind: "text", default: "none" },
    ],
  }, "string");
  assert.equal(columns, 2);
  const out = newInputBuffer("string", 4) as string[];
  encode({ value: { city: "Oslo" } }, out, 0, { position: 1 });
  encode({ value: { city: 47, code: true } }, out, 2, { position: 2 });
  assert.deepEqual(out, ["Oslo", "none", "47", "true"]);
  assert.throws(
    () => encode({ value: { code: "x" } }, out, 0, { id: "e9", position: 3 }),
    /event 'e9': feature 'city' \(value\.city\): missing/,
  );
});

Deno.test("spec schema: either inputs or input + features; input names unique", () => {
  const base = { name: "m", version: "1", outputs: [{ name: "y", kind: "value" }] };
  const features = [{ name: "a", path: "value.a", kind: "numeric" }];
  assert.ok(modelSpecSchema.safeParse({ ...base, input: { name: "x" }, features }).success);
  assert.ok(modelSpecSchema.safeParse({ ...base, inputs: [{ name: "x", features }] }).success);
  assert.equal(modelSpecSchema.safeParse(base).success, false);
  assert.equal(
    modelSpecSchema.safeParse({
      ...base,
      input: { name: "x" },
      features,
      inputs: [{ name: "x", features }],
    }).success,
    false,
  );
  assert.equal(
    modelSpecSchema.safeParse({
      ...base,
      inputs: [{ name: "x", features }, { name: "x", features }],
    }).success,
    false,
  );
  const image = {
    name: "i",
    path: "value",
    kind: "image",
    width: 2,
    height: 2,
    channels: 3,
    mean: [0.5],
  };
  assert.equal(
    modelSpecSchema.safeParse({ ...base, inputs: [{ name: "x", features: [image] }] }).success,
    false,
    "mean needs one entry per channel",
  );
});
