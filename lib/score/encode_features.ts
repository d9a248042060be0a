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

/** Thrown inside the compiled function, turned into a FeatureError by its wrapper. */
class FieldProblem {
  constructor(readonly feature: FeatureSpec, readonly problem: string) {}
}

// Problem codes passed from the compiled function to `fail`.
const MISSING = 0;
const NOT_TIMESTAMP = 1;
const NOT_NUMBER = 2;
const NOT_FINITE = 3;
const NOT_CATEGORY = 4;
const UNKNOWN = 5;
const NOT_INTEGER = 6;

const MS_PER_DAY = 86_400_000;
const MS_PER_HOUR = 3_600_000;
/** The largest time value a Date holds; beyond it `getUTCHours()` is NaN. */
const MAX_TIME = 8.64e15;

/** UTC hour 0-23 of an epoch-milliseconds timestamp, as `new Date(ms).getUTCHours()`, or NaN. */
export function utcHour(ms: number): number {
  const t = Math.trunc(ms);
  if (!(t >= -MAX_TIME && t <= MAX_TIME)) return NaN;
  let inDay = t % MS_PER_DAY;
  if (inDay < 0) inDay += MS_PER_DAY;
  return (inDay / MS_PER_HOUR) | 0; // never -0
}

/** UTC weekday (0 = Sunday) of an epoch-milliseconds timestamp, as `getUTCDay()`, or NaN. */
export function utcWeekday(ms: number): number {
  const t = Math.trunc(ms);
  if (!(t >= -MAX_TIME && t <= MAX_TIME)) return NaN;
  let inDay = t % MS_PER_DAY;
  if (inDay < 0) inDay += MS_PER_DAY;
  const day = (t - inDay) / MS_PER_DAY; // exact: an integer multiple
  const weekday = (day + 4) % 7; // 1 January 1970 was a Thursday
  return weekday < 0 ? weekday + 7 : weekday + 0; // never -0
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
  const writers = features.map((f) => arrayWriter(f, type));

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

type ArrayWriter = (v: unknown, out: InputBuffer, o: number) => void;

/** The writer of a tensor or image feature's columns; undefined for the other kinds. */
function arrayWriter(f: FeatureSpec, type: ElementType): ArrayWriter | undefined {
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
  const shift = f.scale === undefined
    ? 0
    : f.scale.kind === "standard"
    ? f.scale.mean
    : f.scale.min;
  const divide = f.scale === undefined
    ? 1
    : f.scale.kind === "standard"
    ? f.scale.std
    : f.scale.max - f.scale.min;
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

function featureError(err: unknown, ref: EventRef | undefined): unknown {
  if (!(err instanceof FieldProblem)) return err;
  const what = `feature '${err.feature.name}' (${err.feature.path}): ${err.problem}`;
  return new FeatureError(ref === undefined ? what : `${describeEvent(ref)}: ${what}`, {
    feature: err.feature.name,
    line: ref?.line,
  });
}

type Factory = (
  fail: (at: number, code: number, raw: unknown) => never,
  hour: (ms: number) => number,
  weekday: (ms: number) => number,
  other: (index: Map<string, number>, raw: unknown) => number,
  indexes: (Map<string, number> | undefined)[],
  tables: (Int32Array | undefined)[],
  writers: (ArrayWriter | undefined)[],
) => unknown;

/**
 * Writes the source of one row function for the spec. Every string from the spec enters the
 * source through JSON.stringify, and every number is checked finite first, so the spec can only
 * choose among the shapes below, never add code.
 */
function generate(
  features: readonly FeatureSpec[],
  sparse: boolean,
  type: ElementType,
): Factory {
  const integer = type === "int64" || type === "int32";
  const lines: string[] = ["let v, k;"];
  const prelude: string[] = [];
  const readVars = new Map<string, string>();
  let column = 0;
  features.forEach((f, i) => {
    const t = f.kind === "numeric" || f.kind === "categorical" ? f.transform : undefined;
    // The raw path value, read once per path.
    let raw = readVars.get(f.path);
    if (raw === undefined) {
      raw = `p${readVars.size}`;
      readVars.set(f.path, raw);
      lines.push(`let ${raw} = e;`);
      for (const part of f.path.split(".")) {
        const key = /^(0|[1-9][0-9]{0,8})$/.test(part) ? part : JSON.stringify(part);
        lines.push(
          `${raw} = ${raw} !== null && typeof ${raw} === "object" ? ${raw}[${key}] : undefined;`,
        );
      }
    }
    lines.push(`// feature ${i}`);
    lines.push(`v = ${raw};`);
    if (f.kind === "tensor" || f.kind === "image") {
      prelude.push(`const w${i} = writers[${i}];`);
      lines.push(`w${i}(v, out, o + ${column});`);
      column += f.kind === "tensor" ? f.length : f.width * f.height * f.channels;
      return;
    }
    if (f.kind === "text") throw new TypeError(`text feature '${f.name}' needs a string input`);
    if (f.kind === "numeric") {
      const shift = f.scale === undefined
        ? 0
        : f.scale.kind === "standard"
        ? f.scale.mean
        : f.scale.min;
      const divide = f.scale === undefined
        ? 1
        : f.scale.kind === "standard"
        ? f.scale.std
        : f.scale.max - f.scale.min;
      const missing = f.default === undefined
        ? `fail(${i}, ${MISSING}, v);`
        : `v = ${num(f.default)};`;
      lines.push(`if (v === undefined || v === null) { ${missing} }`);
      if (t !== undefined) {
        lines.push(
          `else { if (typeof v !== "number" || v - v !== 0) fail(${i}, ${NOT_TIMESTAMP}, v);`,
          `v = ${t === "hourOfDay" ? "hour" : "weekday"}(v);`,
          `if (v - v !== 0) fail(${i}, ${NOT_FINITE}, v); }`,
        );
      } else {
        if (type === "bool") lines.push(`else if (typeof v === "boolean") v = v ? 1 : 0;`);
        lines.push(
          `else if (typeof v !== "number") fail(${i}, ${NOT_NUMBER}, v);`,
          `else if (v - v !== 0) fail(${i}, ${NOT_FINITE}, v);`,
        );
      }
      if (integer && f.scale === undefined) {
        lines.push(`if (!Number.isInteger(v)) fail(${i}, ${NOT_INTEGER}, v);`);
      }
      const value = f.scale === undefined ? "v" : `(v - ${num(shift)}) / ${num(divide)}`;
      lines.push(`out[o + ${column}] = ${value};`);
      column += 1;
      return;
    }
    const vocabulary = f.vocabulary.length;
    prelude.push(`const m${i} = indexes[${i}];`);
    const missing = f.default === undefined
      ? `fail(${i}, ${MISSING}, v);`
      : `k = ${f.vocabulary.indexOf(f.default)};`;
    lines.push(`if (v === undefined || v === null) { ${missing} }`);
    if (t !== undefined) {
      prelude.push(`const t${i} = tables[${i}];`);
      const size = t === "hourOfDay" ? 24 : 7;
      lines.push(
        `else { if (typeof v !== "number" || v - v !== 0) fail(${i}, ${NOT_TIMESTAMP}, v);`,
        `k = ${t === "hourOfDay" ? "hour" : "weekday"}(v);`,
        `k = t${i}[k === k ? k : ${size}]; }`,
      );
    } else {
      lines.push(
        `else if (typeof v === "string") { k = m${i}.get(v); if (k === undefined) k = -1; }`,
        `else { k = other(m${i}, v); if (k === -2) fail(${i}, ${NOT_CATEGORY}, v); }`,
      );
    }
    if (f.unknown === "error") lines.push(`if (k < 0) fail(${i}, ${UNKNOWN}, v);`);
    if (f.encoding === "label") {
      lines.push(`out[o + ${column}] = k;`);
      column += 1;
    } else if (sparse) {
      lines.push(`if (k >= 0) { k += o + ${column}; out[k] = 1; marks[n++] = k; }`);
      column += vocabulary;
    } else {
      lines.push(
        `out.fill(0, o + ${column}, o + ${column + vocabulary});`,
        `if (k >= 0) out[o + ${column} + k] = 1;`,
      );
      column += vocabulary;
    }
  });
  const body = [
    '"use strict";',
    ...prelude,
    `return function ${sparse ? "encodeSparse" : "encodeFull"}(e, out, o, marks, n) {`,
    ...lines,
    "return n;",
    "};",
  ].join("\n");
  return new Function(
    "fail",
    "hour",
    "weekday",
    "other",
    "indexes",
    "tables",
    "writers",
    body,
  ) as Factory;
}

function num(n: number): string {
  if (!Number.isFinite(n)) throw new TypeError(`not a finite number: ${n}`);
  return Object.is(n, -0) ? "-0" : String(n);
}

/** Index of a number or boolean category by its JSON spelling; -1 unknown, -2 not a category. */
function otherIndex(index: Map<string, number>, raw: unknown): number {
  const word = categoryText(raw);
  if (word === undefined) return -2;
  return index.get(word) ?? -1;
}

function problemText(feature: FeatureSpec, code: number, raw: unknown): string {
  switch (code) {
    case MISSING:
      return "missing (no default)";
    case NOT_TIMESTAMP:
      return `${
        "transform" in feature ? feature.transform : ""
      } needs a timestamp in epoch milliseconds, got ${describe(raw)}`;
    case NOT_NUMBER:
      return `expected a number, got ${describe(raw)}`;
    case NOT_FINITE:
      return `${raw} is not a finite number`;
    case NOT_CATEGORY:
      return `expected a string or number, got ${describe(raw)}`;
    case NOT_INTEGER:
      return `${raw} is not an integer (the input holds integers)`;
    default: {
      const vocabulary = feature.kind === "categorical" ? feature.vocabulary.length : 0;
      const transform = feature.kind === "categorical" ? feature.transform : undefined;
      const word = transform === undefined ? categoryText(raw) : String(
        transform === "hourOfDay" ? utcHour(raw as number) : utcWeekday(raw as number),
      );
      return `unknown category ${JSON.stringify(word)} (not in its ${vocabulary}-entry vocabulary)`;
    }
  }
}

/** The vocabulary spelling of a category value, or undefined when it cannot be one. */
function categoryText(raw: unknown): string | undefined {
  if (typeof raw === "string") return raw;
  if (typeof raw === "number" && Number.isFinite(raw)) return String(raw);
  if (typeof raw === "boolean") return raw ? "true" : "false";
  return undefined;
}

function describe(raw: unknown): string {
  if (typeof raw === "string") {
    return `string ${JSON.stringify(raw.length > 40 ? raw.slice(0, 40) + "…" : raw)}`;
  }
  if (raw === null) return "null";
  if (Array.isArray(raw)) return "an array";
  if (typeof raw === "object") return "an object";
  return `${typeof raw} ${String(raw)}`;
}
