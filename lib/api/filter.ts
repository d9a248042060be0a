/**
 * Stateless stages (`@edgepipe/edgepipe/filter`): `filter` and `map` with CEL expressions, `join`
 * with a reference file. Loads neither the AWS SDK, nor Parquet, nor onnxruntime.
 *
 * @example Keep the late flights
 * ```ts
 * import assert from "node:assert/strict";
 * import { filter } from "./filter.ts";
 * const late = filter("event.value.delay > 15.0");
 * const events = [{ id: "a", value: { delay: 3 } }, { id: "b", value: { delay: 40 } }];
 * const out = await Array.fromAsync(late(ReadableStream.from(events)));
 * // The dropped event's id travels on as an ack record, so the source can acknowledge it.
 * assert.deepEqual(out, [{ id: "b", value: { delay: 40 } }, { $edgepipe: "ack", ids: ["a"] }]);
 * ```
 *
 * @module
 */
export { filter, type FilterOptions } from "../stages/filter.ts";
export type { AckBatching } from "../stages/filter_core.ts";
export { map, type MapOptions } from "../stages/map.ts";
export {
  join,
  type JoinOptions,
  loadReference,
  ReferenceFileError,
  type ReferenceSource,
  type ReferenceTable,
} from "../stages/join.ts";
export {
  type CompiledExpression,
  compileExpression,
  EvaluationError,
  ExpressionError,
} from "../expr/cel.ts";
