/**
 * Common Expression Language (CEL) for edgepipe: an expression is compiled once, type-checked
 * against the variable `event` (the envelope), and evaluated per event. Errors point at the
 * column of the expression where they arise. Results come back as plain JSON values: CEL `int`
 * becomes a JSON number, maps become objects.
 *
 * Built on `@marcbachmann/cel-js`, which evaluated a typical filter 4–11× faster than
 * `@bufbuild/cel` in our comparison (see docs/windows.md, "Expressions").
 *
 * @module
 */
import { Environment } from "@marcbachmann/cel-js";
import { InputError } from "../errors.ts";
import { fastPredicate, UNSURE } from "./fast_predicate.ts";

/**
 * A CEL expression that does not parse or type-check; `column` is 1-based. The message names the
 * column; its `cause` says what is wrong there in one line.
 */
export class ExpressionError extends InputError {
  /** 1-based column in the expression source where the problem starts. */
  readonly column?: number;
  /** The expression source. */
  readonly source: string;

  /** `column` is the 1-based column of `source` where the problem starts. */
  constructor(message: string, source: string, options: ErrorOptions & { column?: number } = {}) {
    super(
      options.column === undefined
        ? `invalid expression '${source}'`
        : `invalid expression at column ${options.column} of '${source}'`,
      { ...options, cause: new Error(message) },
    );
    this.column = options.column;
    this.source = source;
  }
}

/** Evaluating a compiled expression failed for one event (missing field, wrong type). */
export class EvaluationError extends InputError {}

/** A compiled expression; `evaluate` returns a JSON value or throws {@linkcode EvaluationError}. */
export interface CompiledExpression {
  /** The expression as written. */
  readonly source: string;
  /** The CEL type the checker inferred (`bool`, `double`, `map<string, dyn>`, `dyn`, …). */
  readonly type: string;
  /** Evaluates against an event (`event` in the expression). */
  evaluate(event: unknown): unknown;
}

interface CelFailure {
  summary?: string;
  message: string;
  range?: { start: number; end: number };
}

const environment = new Environment({ homogeneousAggregateLiterals: false })
  .registerVariable("event", "map");

function summaryOf(err: unknown): string {
  const failure = err as CelFailure;
  return failure.summary ?? String(failure.message ?? err).split("\n")[0];
}

function columnOf(err: unknown): number | undefined {
  const start = (err as CelFailure | undefined)?.range?.start;
  return typeof start === "number" ? start + 1 : undefined;
}

/**
 * Compiles a CEL expression over `event`. Throws {@linkcode ExpressionError} naming the column
 * when it does not parse or type-check.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { compileExpression } from "./cel.ts";
 * const late = compileExpression("event.value.delay > 15");
 * assert.equal(late.evaluate({ value: { delay: 20 } }), true);
 * ```
 */
export function compileExpression(source: string): CompiledExpression {
  if (source.trim() === "") throw new ExpressionError("empty expression", source);
  let program: ReturnType<Environment["parse"]>;
  try {
    program = environment.parse(source);
  } catch (cause) {
    throw new ExpressionError(summaryOf(cause), source, { column: columnOf(cause), cause });
  }
  const reserved = reservedMapKey(program.ast);
  if (reserved !== undefined) {
    // cel-js leaves these keys out of the map it builds: say so rather than drop them silently.
    throw new ExpressionError(
      `a map key '${reserved.key}' is not supported (CEL maps here cannot hold __proto__, ` +
        `constructor or prototype)`,
      source,
      { column: reserved.column },
    );
  }
  const checked = program.check();
  if (!checked.valid) {
    throw new ExpressionError(summaryOf(checked.error), source, {
      column: columnOf(checked.error),
      cause: checked.error,
    });
  }
  const context = { event: undefined as unknown };
  const fast = fastPredicate(program.ast);
  return {
    source,
    type: String(checked.type ?? "dyn"),
    evaluate(event: unknown): unknown {
      if (fast !== undefined) {
        const decided = fast(event);
        if (decided !== UNSURE) return decided;
      }
      context.event = event;
      let result: unknown;
      try {
        result = program(context);
      } catch (first) {
        // cel-js types an object by its `constructor`: data with its own `constructor` key is
        // "unsupported" as it is, and is evaluated again with its objects as Maps.
        let cause = first;
        if (/Unsupported type/.test(String((first as Error)?.message))) {
          try {
            context.event = asMaps(event);
            result = program(context);
            return toJson(result);
          } catch (second) {
            cause = second;
          }
        }
        const column = columnOf(cause);
        throw new EvaluationError(
          `expression failed${column === undefined ? "" : ` at column ${column}`} of '${source}'`,
          { cause: new Error(summaryOf(cause)) },
        );
      }
      return toJson(result);
    },
  };
}

/** Converts a CEL result into JSON: bigint → number, Map → object, bytes → base64. */
export function toJson(value: unknown): unknown {
  switch (typeof value) {
    case "bigint":
      return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
    case "number":
      return Number.isFinite(value) ? value : null;
    case "object": {
      if (value === null) return null;
      if (Array.isArray(value)) return value.map(toJson);
      if (value instanceof Map) {
        const out: Record<string, unknown> = {};
        for (const [k, v] of value) setOwn(out, String(k), toJson(v));
        return out;
      }
      if (value instanceof Uint8Array) return btoa(String.fromCharCode(...value));
      if (value instanceof Date) return value.toISOString();
      const out: Record<string, unknown> = {};
      for (const k of Object.keys(value)) {
        setOwn(out, k, toJson((value as Record<string, unknown>)[k]));
      }
      return out;
    }
    default:
      return value;
  }
}

/**
 * Sets `out[key]` as an own property, also for `__proto__` (which an assignment would take as
 * the prototype, dropping the key from the data).
 */
export function setOwn(out: Record<string, unknown>, key: string, value: unknown): void {
  if (key === "__proto__") {
    Object.defineProperty(out, key, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  } else out[key] = value;
}

const RESERVED_KEYS = new Set(["__proto__", "constructor", "prototype"]);

/** The first literal map key in `ast` that cel-js would leave out of the map, if any. */
function reservedMapKey(ast: unknown): { key: string; column: number } | undefined {
  if (ast === null || typeof ast !== "object") return undefined;
  if (Array.isArray(ast)) {
    for (const part of ast) {
      const found = reservedMapKey(part);
      if (found) return found;
    }
    return undefined;
  }
  const node = ast as { op?: unknown; args?: unknown; start?: number };
  if (node.op === "map" && Array.isArray(node.args)) {
    for (const entry of node.args) {
      const key = Array.isArray(entry) ? entry[0] as typeof node : undefined;
      if (key?.op === "value" && typeof key.args === "string" && RESERVED_KEYS.has(key.args)) {
        return { key: key.args, column: (key.start ?? 0) + 1 };
      }
    }
  }
  return reservedMapKey(node.args);
}

/** A JSON value with every object as a Map, which CEL takes as a map whatever its keys. */
function asMaps(value: unknown): unknown {
  if (value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map(asMaps);
  const map = new Map<string, unknown>();
  for (const key of Object.keys(value)) {
    map.set(key, asMaps((value as Record<string, unknown>)[key]));
  }
  return map;
}
