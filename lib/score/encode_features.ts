/**
 * Turns events into rows of the model's input tensor, as the spec says. The spec is compiled once
 * into one small function per feature, so encoding an event is a handful of property reads.
 *
 * @module
 */
import type { Envelope } from "../envelope.ts";
import { FeatureError } from "./errors.ts";
import type { FeatureSpec, ModelSpec } from "./model_spec.ts";
import { specColumnCount } from "./model_spec.ts";

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
  out: Float32Array,
  offset: number,
  ref?: EventRef,
) => void;

/** How errors name an event: `event 'id-7'`, or `event #3` when it has no id. */
export function describeEvent(ref: EventRef): string {
  return ref.id === undefined ? `event #${ref.position}` : `event '${ref.id}'`;
}

type ColumnWriter = (event: Envelope, out: Float32Array, offset: number) => void;

/** Thrown inside a column writer, turned into a FeatureError naming the event by the caller. */
class FieldProblem {
  constructor(readonly feature: FeatureSpec, readonly problem: string) {}
}

/**
 * Compiles a spec into a row encoder and reports the row width.
 *
 * @example
 * ```ts
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
 * console.assert(row.join(",") === "2,0,1");
 * ```
 */
export function compileEncoder(
  spec: Pick<ModelSpec, "features">,
): { encode: RowEncoder; columns: number } {
  const writers: { writer: ColumnWriter; offset: number }[] = [];
  let offset = 0;
  for (const feature of spec.features) {
    writers.push({ writer: compileFeature(feature), offset });
    offset += feature.kind === "categorical" && feature.encoding === "one-hot"
      ? feature.vocabulary.length
      : 1;
  }
  const columns = specColumnCount(spec);
  const encode: RowEncoder = (event, out, rowOffset, ref) => {
    try {
      for (let i = 0; i < writers.length; i++) {
        writers[i].writer(event, out, rowOffset + writers[i].offset);
      }
    } catch (err) {
      if (!(err instanceof FieldProblem)) throw err;
      const what = `feature '${err.feature.name}' (${err.feature.path}): ${err.problem}`;
      throw new FeatureError(ref === undefined ? what : `${describeEvent(ref)}: ${what}`, {
        feature: err.feature.name,
        line: ref?.line,
      });
    }
  };
  return { encode, columns };
}

function compileFeature(feature: FeatureSpec): ColumnWriter {
  const read = compileRead(feature);
  if (feature.kind === "numeric") {
    const { scale } = feature;
    const shift = scale === undefined ? 0 : scale.kind === "standard" ? scale.mean : scale.min;
    const divide = scale === undefined
      ? 1
      : scale.kind === "standard"
      ? scale.std
      : scale.max - scale.min;
    return (event, out, offset) => {
      let raw = read(event);
      if (raw === undefined || raw === null) {
        if (feature.default === undefined) throw new FieldProblem(feature, "missing (no default)");
        raw = feature.default;
      }
      if (typeof raw !== "number") {
        throw new FieldProblem(feature, `expected a number, got ${describe(raw)}`);
      }
      if (!Number.isFinite(raw)) throw new FieldProblem(feature, `${raw} is not a finite number`);
      out[offset] = (raw - shift) / divide;
    };
  }
  const index = new Map(feature.vocabulary.map((word, i) => [word, i]));
  const oneHot = feature.encoding === "one-hot";
  const width = oneHot ? feature.vocabulary.length : 1;
  return (event, out, offset) => {
    let raw = read(event);
    if (raw === undefined || raw === null) {
      if (feature.default === undefined) throw new FieldProblem(feature, "missing (no default)");
      raw = feature.default;
    }
    const word = categoryText(raw);
    if (word === undefined) {
      throw new FieldProblem(feature, `expected a string or number, got ${describe(raw)}`);
    }
    const at = index.get(word);
    if (at === undefined && feature.unknown === "error") {
      throw new FieldProblem(
        feature,
        `unknown category ${
          JSON.stringify(word)
        } (not in its ${feature.vocabulary.length}-entry vocabulary)`,
      );
    }
    if (oneHot) {
      out.fill(0, offset, offset + width);
      if (at !== undefined) out[offset + at] = 1;
    } else {
      out[offset] = at ?? -1;
    }
  };
}

/** Reads the feature's path (pre-split) and applies its transform. */
function compileRead(feature: FeatureSpec): (event: Envelope) => unknown {
  const parts = feature.path.split(".");
  const get = (event: Envelope): unknown => {
    let current: unknown = event;
    for (let i = 0; i < parts.length; i++) {
      if (current === null || typeof current !== "object") return undefined;
      current = (current as Record<string, unknown>)[parts[i]];
    }
    return current;
  };
  const { transform } = feature;
  if (transform === undefined) return get;
  return (event) => {
    const raw = get(event);
    if (raw === undefined || raw === null) return raw;
    if (typeof raw !== "number" || !Number.isFinite(raw)) {
      throw new FieldProblem(
        feature,
        `${transform} needs a timestamp in epoch milliseconds, got ${describe(raw)}`,
      );
    }
    const when = new Date(raw);
    return transform === "hourOfDay" ? when.getUTCHours() : when.getUTCDay();
  };
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
  if (Array.isArray(raw)) return "an array";
  if (typeof raw === "object") return "an object";
  return `${typeof raw} ${String(raw)}`;
}
