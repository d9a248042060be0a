/**
 * Compiling expressions given on a command line: an invalid expression is a usage mistake (exit
 * code 2), reported with its column.
 *
 * @module
 */
import { UsageError } from "../errors.ts";
import { type CompiledExpression, compileExpression, ExpressionError } from "./cel.ts";

/**
 * Compiles `source`, turning an {@linkcode ExpressionError} into a `UsageError`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { compileForCli } from "./cli.ts";
 * assert.equal(compileForCli("event.value > 1.0").source, "event.value > 1.0");
 * ```
 */
export function compileForCli(source: string): CompiledExpression {
  try {
    return compileExpression(source);
  } catch (err) {
    if (err instanceof ExpressionError) throw new UsageError(err.message, { cause: err });
    throw err;
  }
}
