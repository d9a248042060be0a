/**
 * Straight-line code for one `--agg` list: reading an event's values and adding them to a
 * window, without a loop over aggregates or a switch per value. Generated once per stage from the
 * parsed spec; `aggregates_test.ts` checks it against the generic loops in `aggregates.ts`.
 *
 * @module
 */
import type { Envelope } from "../../envelope.ts";
import type { AggregateSpec, Slots } from "./aggregates.ts";
import { FieldError } from "./event_fields.ts";

/** Compiled reading and adding for one spec. */
export interface CompiledAggregates {
  /** Like `readValues`: every value read and type-checked before anything changes. */
  read(event: Envelope, into: unknown[]): void;
  /** Like `addValues`. */
  add(slots: Slots, values: unknown[], t: number): void;
}

/**
 * Compiles `spec`.
 *
 * @example
 * ```ts
 * import { parseAggregates } from "./aggregates.ts";
 * import { compileAggregates } from "./compiled_aggregates.ts";
 * const spec = parseAggregates("sum(value.x)");
 * const { read, add } = compileAggregates(spec);
 * const values: unknown[] = [];
 * const slots = { num: [0, 0], obj: undefined };
 * read({ value: { x: 2 } }, values);
 * add(slots, values, 0);
 * console.assert(slots.num[1] === 2);
 * ```
 */
export function compileAggregates(spec: AggregateSpec): CompiledAggregates {
  const readers: unknown[] = [];
  const readerOf = new Map<string, number>();
  let read = "";
  let add = "const num = slots.num; const obj = slots.obj; let v;\n";
  spec.aggregates.forEach((agg, i) => {
    if (agg.read === undefined) return;
    let r = readerOf.get(agg.arg!);
    if (r === undefined) {
      r = readers.push(agg.read) - 1;
      readerOf.set(agg.arg!, r);
      read += `let r${r} = R[${r}](e); if (r${r} === null) r${r} = undefined;\n`;
    }
    if (agg.numeric) {
      read += `if (r${r} !== undefined && typeof r${r} !== "number") bad(${i}, r${r});\n`;
    }
    read += `into[${i}] = r${r};\n`;
    const s = agg.slot;
    const o = agg.objSlot;
    add += `v = values[${i}];\nif (v !== undefined) {\n`;
    switch (agg.kind) {
      case "count":
        add += `num[${s}]++;\n`;
        break;
      case "sum":
      case "avg":
        add += `num[${s}]++; num[${s + 1}] += v;\n`;
        break;
      case "min":
        add += `if (v < num[${s}]) num[${s}] = v;\n`;
        break;
      case "max":
        add += `if (v > num[${s}]) num[${s}] = v;\n`;
        break;
      case "quantile":
        add += `obj[${o}].push(v);\n`;
        break;
      case "distinct":
        add += `obj[${o}].add(typeof v === "object" ? JSON.stringify(v) : v);\n`;
        break;
      case "first":
        add += `if (t < num[${s}]) { num[${s}] = t; obj[${o}] = v; }\n`;
        break;
      case "last":
        add += `if (t >= num[${s}]) { num[${s}] = t; obj[${o}] = v; }\n`;
        break;
    }
    add += "}\n";
  });
  const bad = (i: number, value: unknown) => {
    const agg = spec.aggregates[i];
    throw new FieldError(
      `${agg.kind === "quantile" ? agg.name : agg.kind}(${agg.arg}): ${
        JSON.stringify(value)
      } is not a number`,
    );
  };
  const makeRead = new Function("R", "bad", `return function read(e, into) {\n${read}};`);
  const makeAdd = new Function(`return function add(slots, values, t) {\n${add}};`);
  return {
    read: makeRead(readers, bad) as CompiledAggregates["read"],
    add: makeAdd() as CompiledAggregates["add"],
  };
}
