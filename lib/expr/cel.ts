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
      } catch (cause) {
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
        for (const [k, v] of value) out[String(k)] = toJson(v);
        return out;
      }
      if (value instanceof Uint8Array) return btoa(String.fromCharCode(...value));
      if (value instanceof Date) return value.toISOString();
      const out: Record<string, unknown> = {};
      for (const k of Object.keys(value)) out[k] = toJson((value as Record<string, unknown>)[k]);
      return out;
    }
    default:
      return value;
  }
}
