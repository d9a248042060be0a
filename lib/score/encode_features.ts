/**
 * Turns events into rows of the model's input tensor, as the spec says. The spec is compiled once
 * into one JavaScript function that reads each path with plain property loads, so encoding an
 * event costs a few dozen nanoseconds: no closures per feature, no Date objects, no strings.
 *
 * @module
 */
import type { Envelope } from "../envelope.ts";
import { FeatureError } from "./errors.ts";
import type { FeatureSpec, InputSpec } from "./model_spec.ts";
import { specColumnCount } from "./model_spec.ts";
import { arrayWriter } from "./array_writer.ts";
import { generate } from "./encode_source.ts";
import {
  categoryText,
  describeValue as describe,
  FieldProblem,
  otherIndex,
  problemText,
  utcHour,
  utcWeekday,
} from "./feature_problem.ts";

export { utcHour, utcWeekday };

// Decoding images (pngjs, jpeg-js and node:zlib) costs ~100 ms to import: only specs with image
// features load it, through loadImageSupport().
type ImageModule = typeof import("./image_input.ts");
let images: ImageModule | undefined;

/** Loads the image decoders; `loadModel` calls it for specs with image features. */
export async function loadImageSupport(): Promise<void> {
  images ??= await import("./image_input.ts");
}

/** Names an event in errors: its 1-based input line when known, and its id when it has one. */
export interface EventRef {
  line?: number;
  id?: string;
  /** 1-based position among the events this stage has seen. */
  position: number;
}

/**
 * Writes one event's columns into `out` starting at `offset`; throws {@linkcode FeatureError}
 * that names the event by `ref` when one is given. A hot loop passes none and re-describes the
 * rare failure itself with {@linkcode describeEvent}.
 */
export type RowEncoder = (
  event: Envelope,
  out: InputBuffer,
  offset: number,
  ref?: EventRef,
) => void;

/**
 * The batch form of {@linkcode RowEncoder}: writes one event into a row whose one-hot columns are
 * all zero already, sets only the 1s, and records the index of each 1 in `marks` from `markCount`
 * on, so that the caller can reset exactly those before reusing the buffer. Returns the new mark
 * count. On a {@linkcode FeatureError} some 1s may be set and not recorded: the caller zeroes the
 * row.
 */
export type SparseRowEncoder = (
  event: Envelope,
  out: InputBuffer,
  offset: number,
  marks: Int32Array,
  markCount: number,
) => number;

/**
 * Where an input's rows are written: float32 → Float32Array; float64 and int64 → Float64Array
 * (int64 becomes a BigInt64Array in the worker); int32 → Int32Array; bool → Uint8Array (0/1);
 * string → an array of strings.
 */
export type InputBuffer = Float32Array | Float64Array | Int32Array | Uint8Array | string[];

/** The element type of an input (`float32`, `int64`, `bool`, `string`, …). */
export type ElementType = InputSpec["type"];

/** A new buffer for `length` values of an input of `type`. */
export function newInputBuffer(type: ElementType, length: number): InputBuffer {
  switch (type) {
    case "float32":
      return new Float32Array(length);
    case "float64":
    case "int64":
      return new Float64Array(length);
    case "int32":
      return new Int32Array(length);
    case "bool":
      return new Uint8Array(length);
    case "string":
      return new Array<string>(length).fill("");
  }
}

/** A compiled spec: see {@linkcode compileEncoder}. */
export interface CompiledEncoder {
  encode: RowEncoder;
  encodeSparse: SparseRowEncoder;
  /** Width of one row. */
  columns: number;
  /** Most 1s that {@linkcode SparseRowEncoder} sets in one row (one per one-hot feature). */
  marksPerRow: number;
}

/** How errors name an event: `event 'id-7'`, or `event #3` when it has no id. */
export function describeEvent(ref: EventRef): string {
  return ref.id === undefined ? `event #${ref.position}` : `event '${ref.id}'`;
}

/**
 * Compiles a spec into a row encoder and reports the row width.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { compileEncoder } from "./encode_features.ts";
 * const { encode, columns } = compileEncoder({
 *   features: [
 *     { name: "distance", path: "value.distance", kind: "numeric",
 *       scale: { kind: "standard", mean: 100, std: 50 } },
 *     { name: "origin", path: "value.origin", kind: "categorical", encoding: "one-hot",
 *       vocabulary: ["SFO", "LAX"], unknown: "error" },
 *   ],
 * });
 * const row = new Float32Array(columns);
 * encode({ value: { distance: 200, origin: "LAX" } }, row, 0, { position: 1 });
 * assert.equal(row.join(","), "2,0,1");
 * ```
 */
export function compileEncoder(
  spec: { features?: readonly FeatureSpec[] },
  type: ElementType = "float32",
): CompiledEncoder {
  const features = spec.features ?? [];
  const columns = specColumnCount({ features });
  if (type === "string") return compileTextEncoder(features, columns);
  const indexes = features.map((f) =>
    f.kind === "categorical" ? new Map(f.vocabulary.map((word, i) => [word, i])) : undefined
  );
  // For a categorical hour or weekday: the vocabulary index of each value (-1 when absent), and
  // of "NaN" (a timestamp a Date cannot hold) in the last slot.
  const tables = features.map((f, i) => {
    if (f.kind !== "categorical" || f.transform === undefined) return undefined;
    const values = f.transform === "hourOfDay" ? 24 : 7;
    const table = new Int32Array(values + 1);
    for (let v = 0; v <= values; v++) {
      table[v] = indexes[i]!.get(v === values ? "NaN" : String(v)) ?? -1;
    }
    return table;
  });
  const writers = features.map((f) => arrayWriter(f, type, images));

  const fail = (at: number, code: number, raw: unknown): never => {
    throw new FieldProblem(features[at], problemText(features[at], code, raw));
  };
  const make = (sparse: boolean) =>
    generate(features, sparse, type)(
      fail,
      utcHour,
      utcWeekday,
      otherIndex,
      indexes,
      tables,
      writers,
    ) as SparseRowEncoder;
  const rowFull = make(false);
  const rowSparse = make(true);
  const noMarks = new Int32Array(0);

  const encode: RowEncoder = (event, out, offset, ref) => {
    try {
      rowFull(event, out, offset, noMarks, 0);
    } catch (err) {
      throw featureError(err, ref);
    }
  };
  const encodeSparse: SparseRowEncoder = (event, out, offset, marks, markCount) => {
    try {
      return rowSparse(event, out, offset, marks, markCount);
    } catch (err) {
      throw featureError(err, undefined);
    }
  };
  const marksPerRow =
    features.filter((f) => f.kind === "categorical" && f.encoding === "one-hot").length;
  return { encode, encodeSparse, columns, marksPerRow };
}

/** The encoder of a string input: each `text` feature's value as a string. */
function compileTextEncoder(features: readonly FeatureSpec[], columns: number): CompiledEncoder {
  const encode: RowEncoder = (event, out, offset, ref) => {
    try {
      features.forEach((f, i) => {
        const raw = readPath(event, f.path);
        let text = raw === undefined || raw === null ? undefined : categoryText(raw);
        if (raw === undefined || raw === null) {
          if (f.kind === "text" && f.default !== undefined) text = f.default;
          else throw new FieldProblem(f, "missing (no default)");
        }
        if (text === undefined) {
          throw new FieldProblem(f, `expected a string, got ${describe(raw)}`);
        }
        (out as string[])[offset + i] = text;
      });
    } catch (err) {
      throw featureError(err, ref);
    }
  };
  const encodeSparse: SparseRowEncoder = (event, out, offset, _marks, markCount) => {
    encode(event, out, offset);
    return markCount;
  };
  return { encode, encodeSparse, columns, marksPerRow: 0 };
}

function readPath(event: unknown, path: string): unknown {
  let v = event;
  for (const part of path.split(".")) {
    v = v !== null && typeof v === "object" ? (v as Record<string, unknown>)[part] : undefined;
  }
  return v;
}

function featureError(err: unknown, ref: EventRef | undefined): unknown {
  if (!(err instanceof FieldProblem)) return err;
  const what = `feature '${err.feature.name}' (${err.feature.path}): ${err.problem}`;
  return new FeatureError(ref === undefined ? what : `${describeEvent(ref)}: ${what}`, {
    feature: err.feature.name,
    line: ref?.line,
  });
}
