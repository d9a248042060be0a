/**
 * `filter`: keeps the events for which a CEL expression over `event` is true. Dropped events are
 * acknowledged in-band (see `filter_core.ts`); an expression that fails or does not return a bool
 * for an event follows the error policy.
 *
 * @module
 */
import type { DeadLetterSink, ErrorPolicy } from "../dead_letter.ts";
import type { Envelope } from "../envelope.ts";
import {
  type CompiledExpression,
  compileExpression,
  EvaluationError,
  ExpressionError,
} from "../expr/cel.ts";
import { type AckBatching, DROP, eventByEventStage } from "./filter_core.ts";
import type { Stage } from "./types.ts";
import { Rejects } from "./window/rejects.ts";

/** Options of {@linkcode filter}. */
export interface FilterOptions extends AckBatching {
  /** What to do with an event the expression fails on (default `fail`). */
  onError?: ErrorPolicy;
  /** Where dead letters go when `onError` is `dead-letter`. */
  deadLetters?: DeadLetterSink;
  /** An event's input line, named in errors and dead letters (the CLI knows it). */
  lineOf?: (event: Envelope) => number | undefined;
}

/**
 * A stage that keeps events where `expression` is true. Throws `ExpressionError` (with the
 * column) at once when the expression is invalid.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { filter } from "./filter.ts";
 * const late = filter("event.value.delay > 15.0");
 * const kept = [];
 * for await (const item of late(ReadableStream.from([{ value: { delay: 20 } }, { value: { delay: 3 } }]))) {
 *   kept.push(item);
 * }
 * assert.equal(kept.length, 1);
 * ```
 */
export function filter(
  expression: string | CompiledExpression,
  options: FilterOptions = {},
): Stage {
  const compiled = typeof expression === "string" ? compileExpression(expression) : expression;
  if (compiled.type !== "bool" && compiled.type !== "dyn") {
    throw new ExpressionError(
      `a filter must be a bool, this is a ${compiled.type}`,
      compiled.source,
    );
  }
  const rejects = new Rejects(
    "filter",
    options.onError ?? { kind: "fail" },
    options.deadLetters,
    options.lineOf,
  );
  return eventByEventStage(
    (event) => {
      const keep = compiled.evaluate(event);
      if (keep === true) return event;
      if (keep === false) return DROP;
      throw new EvaluationError(
        `filter expression '${compiled.source}' returned ${JSON.stringify(keep)}, expected a bool`,
      );
    },
    rejects,
    options,
  );
}
