/**
 * A fast path for the common shape of filter expressions: field reads, literals, comparisons,
 * `&&`, `||`, `!` and unary `-`. Such an expression is turned into a small tree of closures over plain JS
 * values. Whenever a case is not plainly covered — a missing field, mixed types, string ordering —
 * it answers `UNSURE` and the caller evaluates the full CEL expression instead, so the result
 * (or the error) is always CEL's own.
 *
 * @module
 */

/** Returned when the fast path cannot decide: evaluate with CEL. */
export const UNSURE: unique symbol = Symbol("edgepipe.unsure");

type Node = { op: string; args: unknown };
type Fast = (event: unknown) => unknown;

const COMPARE = new Set(["==", "!=", "<", "<=", ">", ">="]);

/**
 * Compiles a parsed CEL AST (as `@marcbachmann/cel-js` produces it) into a predicate, or returns
 * undefined when the expression uses anything beyond the covered subset.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Environment } from "@marcbachmann/cel-js";
 * import { fastPredicate, UNSURE } from "./fast_predicate.ts";
 * const env = new Environment().registerVariable("event", "map");
 * const test = fastPredicate(env.parse("event.value.delay > 15").ast)!;
 * assert.equal(test({ value: { delay: 20 } }), true);
 * assert.equal(test({ value: {} }), UNSURE);
 * ```
 */
export function fastPredicate(
  ast: unknown,
): ((event: unknown) => boolean | typeof UNSURE) | undefined {
  const node = ast as Node;
  if (!COMPARE.has(node.op) && node.op !== "&&" && node.op !== "||" && node.op !== "!_") {
    return undefined;
  }
  try {
    return compile(node) as (event: unknown) => boolean | typeof UNSURE;
  } catch {
    return undefined;
  }
}

class Unsupported extends Error {}

function compile(node: Node): Fast {
  switch (node.op) {
    case "id":
      if (node.args !== "event") throw new Unsupported();
      return (e) => e;
    case ".": {
      const [objectNode, field] = node.args as [Node, string];
      if (typeof field !== "string") throw new Unsupported();
      const object = compile(objectNode);
      return (e) => {
        const o = object(e);
        if (o === UNSURE || o === null || typeof o !== "object" || Array.isArray(o)) return UNSURE;
        const v = (o as Record<string, unknown>)[field];
        return v === undefined ? UNSURE : v;
      };
    }
    case "value": {
      let v = node.args;
      if (typeof v === "bigint") {
        if (!Number.isSafeInteger(Number(v))) throw new Unsupported();
        v = Number(v);
      }
      if (v !== null && typeof v === "object") throw new Unsupported();
      return () => v;
    }
    case "&&":
    case "||": {
      const [l, r] = (node.args as Node[]).map(compile);
      const and = node.op === "&&";
      return (e) => {
        const a = l(e);
        if (typeof a !== "boolean") return UNSURE;
        if (a !== and) return a; // false && …, true || … decide alone, as in CEL
        const b = r(e);
        return typeof b === "boolean" ? b : UNSURE;
      };
    }
    case "-_": {
      const inner = compile(node.args as Node);
      return (e) => {
        const v = inner(e);
        return typeof v === "number" ? -v : UNSURE;
      };
    }
    case "!_": {
      const inner = compile(node.args as Node);
      return (e) => {
        const v = inner(e);
        return typeof v === "boolean" ? !v : UNSURE;
      };
    }
    default: {
      if (!COMPARE.has(node.op)) throw new Unsupported();
      const [l, r] = (node.args as Node[]).map(compile);
      return comparison(node.op, l, r);
    }
  }
}

function comparison(op: string, l: Fast, r: Fast): Fast {
  const equality = op === "==" || op === "!=";
  return (e) => {
    const a = l(e);
    const b = r(e);
    if (a === UNSURE || b === UNSURE) return UNSURE;
    const ta = typeof a;
    const tb = typeof b;
    if (ta !== tb) return UNSURE;
    if (ta === "number") {
      const x = a as number;
      const y = b as number;
      switch (op) {
        case "==":
          return x === y;
        case "!=":
          return x !== y;
        case "<":
          return x < y;
        case "<=":
          return x <= y;
        case ">":
          return x > y;
        default:
          return x >= y;
      }
    }
    // Strings and bools: equality only (CEL orders strings by code point, JS by UTF-16 unit).
    if (equality && (ta === "string" || ta === "boolean")) return (a === b) === (op === "==");
    return UNSURE;
  };
}
