/**
 * The pattern language of the `pattern` stage: a sequence of named conditions, each with a
 * quantifier, and negations between them.
 *
 * ```
 * pattern  = element { element }
 * element  = step | "!" name          a negation: no event matching name between its neighbours;
 *                                     at the end: none after the last step, until `within` ends
 * step     = name [ quantifier ]
 * quantifier = "?" | "+" | "*" | "{" n "}" | "{" n ",}" | "{" n "," m "}"
 * name     = letter { letter | digit | "_" }    defined by --define name=<CEL>
 * ```
 *
 * Example: `late !ontime late !ontime late` — three late events with no on-time one between
 * them; `declined{3,} approved` — three or more declined payments, then an approved one.
 *
 * @module
 */
import { UsageError } from "../../errors.ts";

/** One step: events matching `name`, between `min` and `max` of them. */
export interface PatternStep {
  name: string;
  min: number;
  max: number;
  /** Conditions that must not match an event between this step and the next. */
  notBefore: string[];
}

/** A parsed pattern. */
export interface Pattern {
  steps: PatternStep[];
  /**
   * Negations after the last step (`a b !c`): the match is complete only once its `within` has
   * passed without such an event (Flink's `notFollowedBy` at the end).
   */
  trailingNot: string[];
  /** Every condition name it uses. */
  names: string[];
}

/** A pattern that does not parse, or does not make sense. */
export class PatternError extends UsageError {}

const TOKEN = /\s*(?:(!)?([A-Za-z][A-Za-z0-9_]*)(\?|\+|\*|\{(\d+)(,(\d*))?\})?)/y;

/**
 * Parses a pattern.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parsePattern } from "./pattern_language.ts";
 * const { steps } = parsePattern("late{3} !ontime approved");
 * assert.deepEqual(steps.map((s) => [s.name, s.min, s.max, s.notBefore]), [
 *   ["late", 3, 3, ["ontime"]],
 *   ["approved", 1, 1, []],
 * ]);
 * ```
 */
export function parsePattern(text: string): Pattern {
  const steps: PatternStep[] = [];
  const names = new Set<string>();
  let pendingNot: string[] = [];
  TOKEN.lastIndex = 0;
  let at = 0;
  while (text.slice(at).trim() !== "") {
    TOKEN.lastIndex = at;
    const m = TOKEN.exec(text);
    if (m === null) {
      throw new PatternError(`pattern: cannot read '${text.slice(at).trim()}' (column ${at + 1})`);
    }
    at = TOKEN.lastIndex;
    const [, not, name, quantifier, n, comma, m2] = m;
    names.add(name);
    if (not) {
      if (quantifier) throw new PatternError(`pattern: a negation (!${name}) takes no quantifier`);
      if (steps.length === 0) {
        throw new PatternError(`pattern: a negation (!${name}) must come between two steps`);
      }
      pendingNot.push(name);
      continue;
    }
    if (pendingNot.length > 0) {
      steps.at(-1)!.notBefore.push(...pendingNot);
      pendingNot = [];
    }
    const [min, max] = bounds(quantifier, n, comma, m2, name);
    steps.push({ name, min, max, notBefore: [] });
  }
  if (steps.length === 0) throw new PatternError("pattern: empty");
  if (steps[0].min === 0) throw new PatternError("pattern: the first step must not be optional");
  const last = steps.at(-1)!;
  if (last.min === 0) throw new PatternError("pattern: the last step must not be optional");
  return { steps, trailingNot: pendingNot, names: [...names] };
}

function bounds(
  quantifier: string | undefined,
  n: string | undefined,
  comma: string | undefined,
  m: string | undefined,
  name: string,
): [number, number] {
  if (quantifier === undefined) return [1, 1];
  if (quantifier === "?") return [0, 1];
  if (quantifier === "+") return [1, Infinity];
  if (quantifier === "*") return [0, Infinity];
  const min = Number(n);
  const max = comma === undefined ? min : m === "" ? Infinity : Number(m);
  if (max < min || max === 0) {
    throw new PatternError(`pattern: ${name}${quantifier} has no possible count`);
  }
  return [min, max];
}
