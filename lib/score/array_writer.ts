/**
 * The writers of tensor and image features: each copies an event's array (or decoded image) into
 * its columns of the row, padded, truncated and scaled as the spec says.
 *
 * @module
 */
import type { FeatureSpec } from "./model_spec.ts";
import type { ElementType, InputBuffer } from "./encode_features.ts";
import { describeValue as describe, FieldProblem, scaleTerms } from "./feature_problem.ts";

type ImageModule = typeof import("./image_input.ts");

/** Writes one feature's columns of a row from the feature's raw value. */
export type ArrayWriter = (v: unknown, out: InputBuffer, o: number) => void;

/** The writer of a tensor or image feature's columns; undefined for the other kinds. */
export function arrayWriter(
  f: FeatureSpec,
  type: ElementType,
  images: ImageModule | undefined,
): ArrayWriter | undefined {
  if (f.kind === "image") {
    const codec = images;
    if (codec === undefined) {
      throw new TypeError(`image feature '${f.name}': call loadImageSupport() before compiling`);
    }
    const { base64Bytes, decodeImage, writeImage } = codec;
    return (v, out, o) => {
      let bytes: Uint8Array;
      if (typeof v === "string") bytes = base64Bytes(v);
      else if (v instanceof Uint8Array) bytes = v;
      else if (v === undefined || v === null) throw new FieldProblem(f, "missing (no default)");
      else throw new FieldProblem(f, `expected base64 image bytes, got ${describe(v)}`);
      let img;
      try {
        img = decodeImage(bytes);
      } catch (err) {
        throw new FieldProblem(f, (err as Error).message);
      }
      writeImage(img, f, out as Float32Array, o);
    };
  }
  if (f.kind !== "tensor") return undefined;
  const { length, pad, padValue, truncate } = f;
  const { shift, divide } = scaleTerms(f.scale);
  const integer = type === "int64" || type === "int32";
  const bool = type === "bool";
  return (v, out, o) => {
    if (v === undefined || v === null) throw new FieldProblem(f, "missing (no default)");
    if (!Array.isArray(v)) throw new FieldProblem(f, `expected an array, got ${describe(v)}`);
    const n = v.length;
    let from = 0;
    let taken = n;
    if (n > length) {
      if (truncate === "error") {
        throw new FieldProblem(f, `${n} values, more than its ${length} (truncate: error)`);
      }
      from = truncate === "last" ? n - length : 0;
      taken = length;
    } else if (n < length && pad === "error") {
      throw new FieldProblem(f, `${n} values, fewer than its ${length} (pad: error)`);
    }
    const at = n < length && pad === "start" ? o + length - n : o;
    for (let k = 0; k < taken; k++) {
      let x = v[from + k];
      if (bool && typeof x === "boolean") x = x ? 1 : 0;
      if (typeof x !== "number" || x - x !== 0) {
        throw new FieldProblem(
          f,
          `value ${from + k}: expected a finite number, got ${describe(x)}`,
        );
      }
      if (integer && !Number.isInteger(x)) {
        throw new FieldProblem(f, `value ${from + k}: ${x} is not an integer`);
      }
      out[at + k] = (x - shift) / divide;
    }
    if (taken < length) {
      const start = pad === "start" ? o : o + taken;
      const end = pad === "start" ? o + length - n : o + length;
      for (let k = start; k < end; k++) out[k] = (padValue - shift) / divide;
    }
  };
}
