/**
 * The source of the compiled row encoders: one JavaScript function per spec, written from the
 * features, that reads each path with plain property loads and writes the row.
 *
 * @module
 */
import type { FeatureSpec } from "./model_spec.ts";
import type { ElementType } from "./encode_features.ts";
import type { ArrayWriter } from "./array_writer.ts";
import {
  MISSING,
  NOT_CATEGORY,
  NOT_FINITE,
  NOT_INTEGER,
  NOT_NUMBER,
  NOT_TIMESTAMP,
  scaleTerms,
  UNKNOWN,
} from "./feature_problem.ts";

/** Builds a row function from the helpers it calls. */
export type Factory = (
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
export function generate(
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
      const { shift, divide } = scaleTerms(f.scale);
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
