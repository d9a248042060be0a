/**
 * Attaches a batch's model outputs to its events. Compiled once per spec into one function whose
 * object literals have fixed keys, so every scored event and every score object gets the same
 * hidden class, and a batch is one loop with no closure per output.
 *
 * @module
 */
import { CONTROL_FIELD, type Item } from "../envelope.ts";
import { UsageError } from "../errors.ts";
import { METADATA_FIELDS, TRANSPORT_FIELDS } from "../delivered_record.ts";
import { ModelError } from "./errors.ts";
import type { OutputSpec } from "./model_spec.ts";
import type { OutputTensor } from "./worker_protocol.ts";

/**
 * Writes to `out[i]` each of the first `count` entries: as it is when `rows[i]` is negative,
 * else as a copy with the outputs of model row `rows[i]` under the chosen field.
 */
export type ScoreAttacher = (
  entries: readonly Item[],
  rows: readonly number[],
  count: number,
  outputs: readonly OutputTensor[],
  out: Item[],
) => void;

/**
 * Compiles the attacher for a spec's outputs, putting them under `as`, with the string fields of
 * `constants` (the model version under `--watch`) after them.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { compileAttacher } from "./attach_scores.ts";
 * const attach = compileAttacher(
 *   [{ name: "p", kind: "probabilities", classes: ["no", "yes"] }],
 *   "score",
 * );
 * const out: unknown[] = [];
 * attach(
 *   [{ id: "a", value: 1 }, { $edgepipe: "ack", ids: [] }],
 *   [0, -1],
 *   2,
 *   [{ name: "p", type: "float32", dims: [1, 2], data: new Float32Array([0.25, 0.75]) }],
 *   out as never,
 * );
 * assert.equal(JSON.stringify(out[0]), '{"id":"a","value":1,"score":{"no":0.25,"yes":0.75}}');
 * ```
 */
export function compileAttacher(
  specs: readonly OutputSpec[],
  as: string,
  constants?: Readonly<Record<string, string>>,
): ScoreAttacher {
  checkScoreField(as);
  if (specs.length === 0) throw new ModelError(`the spec names no outputs to put under '${as}'`);
  const prelude: string[] = [];
  const reads: string[] = [];
  const fields: string[] = [];
  specs.forEach((spec, i) => {
    prelude.push(`const d${i} = outputs[${i}].data;`);
    if (spec.kind === "probabilities") {
      const width = spec.classes.length;
      spec.classes.forEach((name, c) => {
        fields.push(`${key(name)}: d${i}[row * ${width} + ${c}]`);
      });
    } else if (spec.kind === "label") {
      reads.push(
        `let l${i} = d${i}[row];`,
        `if (typeof l${i} === "bigint") l${i} = Number(l${i});`,
      );
      if (spec.classes !== undefined) {
        prelude.push(`const c${i} = classes[${i}];`);
        reads.push(`if (typeof l${i} === "number") l${i} = c${i}[l${i}] ?? l${i};`);
      }
      fields.push(`${key(spec.as)}: l${i}`);
    } else {
      prelude.push(
        `const t${i} = outputs[${i}];`,
        `const w${i} = t${i}.dims.length > 1 ? t${i}.dims[1] : 1;`,
      );
      fields.push(`${key(spec.as)}: d${i}[row * w${i}]`);
    }
  });
  const names = specs.flatMap((spec) => spec.kind === "probabilities" ? spec.classes : [spec.as]);
  for (const [name, value] of Object.entries(constants ?? {})) {
    if (names.includes(name)) {
      throw new ModelError(
        `an output is named '${name}', which the score record uses for ${value}`,
      );
    }
    fields.push(`${key(name)}: ${JSON.stringify(value)}`);
  }
  const body = [
    '"use strict";',
    "return function attachScores(entries, rows, count, outputs, out) {",
    ...prelude,
    "for (let i = 0; i < count; i++) {",
    "const row = rows[i];",
    "if (row < 0) { out[i] = entries[i]; continue; }",
    ...reads,
    `out[i] = { ...entries[i], ${key(as)}: { ${fields.join(", ")} } };`,
    "}",
    "};",
  ].join("\n");
  const classes = specs.map((s) => s.kind === "label" ? s.classes : undefined);
  return new Function("classes", body)(classes) as ScoreAttacher;
}

/**
 * Throws {@linkcode UsageError} when `as` cannot hold the outputs: an envelope field of its own
 * (`value`, `id`, `key`, `eventTime`, …) would be overwritten, and is not delivered as part of
 * the record (`docs/envelope.md`); the control field would turn the event into a control record.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkScoreField } from "./attach_scores.ts";
 * checkScoreField("risk");
 * assert.throws(() => checkScoreField("value"), /--as value/);
 * ```
 */
export function checkScoreField(as: string): void {
  const reserved = as === "value" || as === CONTROL_FIELD || TRANSPORT_FIELDS.has(as) ||
    METADATA_FIELDS.has(as);
  if (as === "" || reserved) {
    throw new UsageError(
      `--as ${as || "''"}: choose a new field name; value, ${
        [...TRANSPORT_FIELDS, ...METADATA_FIELDS].join(", ")
      } and ${CONTROL_FIELD} belong to the envelope`,
    );
  }
}

/**
 * A property key for an object literal. JSON.stringify keeps it a string literal; a computed key
 * makes `__proto__` an own field (as assignment by name did) instead of the prototype.
 */
function key(name: string): string {
  const quoted = JSON.stringify(name);
  return name === "__proto__" ? `[${quoted}]` : quoted;
}
