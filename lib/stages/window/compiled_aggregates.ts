/**
 * Straight-line code for one `--agg` list: reading an event's values and adding them to a
 * window, without a loop over aggregates or a switch per value. Generated once per stage from the
 * parsed spec; `aggregates_test.ts` checks it against the generic loops in `aggregates.ts`.
 *
 * @module
 */
import type { Envelope } from "../../envelope.ts";
import type { AggregateSpec, Slots } from "./aggregates.ts";
import { FieldError, readerSource } from "./event_fields.ts";

/** Compiled reading and adding for one spec. */
export interface CompiledAggregates {
  /** Like `readValues`: every value read and type-checked before anything changes. */
  read(event: Envelope, into: unknown[]): void;
  /** Like `addValues`. */
  add(slots: Slots, values: unknown[], t: number): void;
}

/**
 * The pieces of generated code for one spec, for callers that build a larger function:
 * `read` reads every value into locals (`r0`, `r1`, …; `null` becomes `undefined`) and type-checks
 * them, and needs `e` (the event), `R` (`readers`) and `bad` (`badValue(spec)`) in scope; `add`
 * adds them to `num` and `obj` at event time `t`.
 */
export interface AggregateSource {
  read: string;
  add: string;
  readers: unknown[];
}

/** Generates the {@linkcode AggregateSource} of `spec`. */
export function aggregateSource(spec: AggregateSpec): AggregateSource {
  return generate(spec, (r) => `r${r}`);
}

/** Throws the error for a value of aggregate `i` that is not a number. */
export function badValue(spec: AggregateSpec): (i: number, value: unknown) => never {
  return (i, value) => {
    const agg = spec.aggregates[i];
    throw new FieldError(
      `${agg.kind === "quantile" ? agg.name : agg.kind}(${agg.arg}): ${
        JSON.stringify(value)
      } is not a number`,
    );
  };
}

function generate(spec: AggregateSpec, value: (r: number, i: number) => string): AggregateSource {
  const readers: unknown[] = [];
  const readerOf = new Map<string, number>();
  let read = "";
  let add = "";
  spec.aggregates.forEach((agg, i) => {
    if (agg.read === undefined) return;
    let r = readerOf.get(agg.arg!);
    if (r === undefined) {
      r = readers.push(agg.read) - 1;
      readerOf.set(agg.arg!, r);
      const inline = readerSource(agg.read, `r${r}`);
      read += inline === undefined
        ? `let r${r} = R[${r}](e);\n`
        : `let r${r};\n${inline}if (r${r} === undefined) r${r} = R[${r}](e);\n`;
      read += `if (r${r} === null) r${r} = undefined;\n`;
    }
    if (agg.numeric) {
      read += `if (r${r} !== undefined && typeof r${r} !== "number") bad(${i}, r${r});\n`;
    }
    const v = value(r, i);
    const s = agg.slot;
    const o = agg.objSlot;
    add += `if (${v} !== undefined) {\n`;
    switch (agg.kind) {
      case "count":
        add += `num[${s}]++;\n`;
        break;
      case "sum":
      case "avg":
        add += `num[${s}]++; num[${s + 1}] += ${v};\n`;
        break;
      case "min":
        add += `if (${v} < num[${s}]) num[${s}] = ${v};\n`;
        break;
      case "max":
        add += `if (${v} > num[${s}]) num[${s}] = ${v};\n`;
        break;
      case "quantile":
        add += `obj[${o}].push(${v});\n`;
        break;
      case "distinct":
        add += `obj[${o}].add(typeof ${v} === "object" ? JSON.stringify(${v}) : ${v});\n`;
        break;
      case "first":
        add += `if (t < num[${s}]) { num[${s}] = t; obj[${o}] = ${v}; }\n`;
        break;
      case "last":
        add += `if (t >= num[${s}]) { num[${s}] = t; obj[${o}] = ${v}; }\n`;
        break;
      case "collect":
        // As collectAdd in aggregates.ts.
        add += `{ const l = obj[${o}]; let j = l.length;\n` +
          `while (j > 0 && l[j - 2] > t) j -= 2;\n` +
          `if (j === l.length) l.push(t, ${v}); else l.splice(j, 0, t, ${v});\n` +
          `if (l.length > ${2 * agg.limit!}) l.splice(0, 2); }\n`;
        break;
    }
    add += "}\n";
  });
  return { read, add, readers };
}

/**
 * Compiles `spec`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseAggregates } from "./aggregates.ts";
 * import { compileAggregates } from "./compiled_aggregates.ts";
 * const spec = parseAggregates("sum(value.x)");
 * const { read, add } = compileAggregates(spec);
 * const values: unknown[] = [];
 * const slots = { num: [0, 0], obj: undefined };
 * read({ value: { x: 2 } }, values);
 * add(slots, values, 0);
 * assert.equal(slots.num[1], 2);
 * ```
 */
export function compileAggregates(spec: AggregateSpec): CompiledAggregates {
  const { read, readers } = aggregateSource(spec);
  const { add } = generate(spec, (_, i) => `values[${i}]`);
  let into = "";
  const readerOf = new Map<string, number>();
  spec.aggregates.forEach((agg, i) => {
    if (agg.read === undefined) return;
    if (!readerOf.has(agg.arg!)) readerOf.set(agg.arg!, readerOf.size);
    into += `into[${i}] = r${readerOf.get(agg.arg!)};\n`;
  });
  const makeRead = new Function("R", "bad", `return function read(e, into) {\n${read}${into}};`);
  const makeAdd = new Function(
    `return function add(slots, values, t) {\nconst num = slots.num; const obj = slots.obj;\n${add}};`,
  );
  return {
    read: makeRead(readers, badValue(spec)) as CompiledAggregates["read"],
    add: makeAdd() as CompiledAggregates["add"],
  };
}
