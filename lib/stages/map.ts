/**
 * `map`: computes a CEL expression over `event` and sets the event's `value` to the result, or, in
 * `document` mode, replaces the whole envelope with it. Either way the envelope's `id` is kept, so
 * acknowledgements still reach the source; an expression that fails follows the error policy.
 *
 * @module
 */
import type { DeadLetterSink, ErrorPolicy } from "../dead_letter.ts";
import type { Envelope } from "../envelope.ts";
import {
  type CompiledExpression,
  compileExpression,
  EvaluationError,
  setOwn,
} from "../expr/cel.ts";
import { type AckBatching, eventByEventStage } from "./filter_core.ts";
import type { Stage } from "./types.ts";
import { Rejects } from "./window/rejects.ts";

/** The envelope fields that `document` mode keeps unless the result sets them. */
export const ENVELOPE_FIELDS = [
  "topic",
  "partition",
  "id",
  "key",
  "publishTime",
  "eventTime",
  "properties",
  "redeliveryCount",
] as const;

/** Options of {@linkcode map}. */
export interface MapOptions extends AckBatching {
  /** `value` (default) sets `event.value`; `document` replaces the envelope (keeping metadata). */
  set?: "value" | "document";
  /** Events the expression fails on (default `fail`). */
  onError?: ErrorPolicy;
  /** Where dead letters go under `dead-letter`. */
  deadLetters?: DeadLetterSink;
  /** An event's input line, named in errors and dead letters (the CLI knows it). */
  lineOf?: (event: Envelope) => number | undefined;
}

/**
 * A stage that rewrites each event with `expression`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { map } from "./map.ts";
 * const kmh = map('{"speed": event.value.mph * 1.609}');
 * const out = await Array.fromAsync(kmh(ReadableStream.from([{ id: "a", value: { mph: 10 } }])));
 * assert.deepEqual(out, [{ id: "a", value: { speed: 16.09 } }]);
 * ```
 */
export function map(expression: string | CompiledExpression, options: MapOptions = {}): Stage {
  const compiled = typeof expression === "string" ? compileExpression(expression) : expression;
  const rejects = new Rejects(
    "map",
    options.onError ?? { kind: "fail" },
    options.deadLetters,
    options.lineOf,
  );
  const document = options.set === "document";
  return eventByEventStage(
    (event) => {
      const result = compiled.evaluate(event);
      if (!document) return { ...event, value: result };
      if (result === null || typeof result !== "object" || Array.isArray(result)) {
        throw new EvaluationError(
          `map --set document: '${compiled.source}' returned ${
            JSON.stringify(result)
          }, expected a map`,
        );
      }
      const out: Record<string, unknown> = { value: null };
      for (const field of ENVELOPE_FIELDS) {
        if (event[field] !== undefined) out[field] = event[field];
      }
      for (const key of Object.keys(result)) {
        setOwn(out, key, (result as Record<string, unknown>)[key]);
      }
      if (event.id !== undefined) out.id = event.id;
      return out as Envelope;
    },
    rejects,
    options,
  );
}
