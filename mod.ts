/**
 * edgepipe as a library: the same stages, sinks and Pulsar client the commands use, over async
 * iterables of {@linkcode Item}s (events and control records).
 *
 * This entry exports everything and so loads every dependency (the AWS SDK, Parquet, YAML). To load
 * only what a part needs, import its entry instead:
 *
 * | entry                         | what                                                 | npm packages it loads         |
 * | ----------------------------- | ---------------------------------------------------- | ----------------------------- |
 * | `@edgepipe/edgepipe/core`     | envelopes, NDJSON, errors, dead letters, event times | zod                           |
 * | `@edgepipe/edgepipe/filter`   | `filter`, `map`, `join`, CEL expressions             | zod, CEL                      |
 * | `@edgepipe/edgepipe/window`   | `window`, `streamJoin`, `pattern`, `processStage`    | zod, CEL                      |
 * | `@edgepipe/edgepipe/score`    | `score` with ONNX models                             | zod (onnxruntime in a worker) |
 * | `@edgepipe/edgepipe/sources`  | `openFile`: NDJSON, JSON, CSV, Parquet               | zod, Parquet reader           |
 * | `@edgepipe/edgepipe/sinks`    | `deliverAll`, stdout, file, S3 and Pulsar sinks      | zod, AWS SDK, Parquet writer  |
 * | `@edgepipe/edgepipe/pulsar`   | the Pulsar client                                    | none                          |
 * | `@edgepipe/edgepipe/pipeline` | `edgepipe run` as a library                          | all of the above, YAML        |
 *
 * @example Score bundled flights and count them per origin and hour
 * ```ts
 * import assert from "node:assert/strict";
 * import { readLines, parseItem, score, window, isControl } from "./mod.ts";
 *
 * const file = await Deno.open("examples/data/flights-2001-03-12-morning.ndjson");
 * async function* flights() {
 *   for await (const line of readLines(file.readable)) yield parseItem(line);
 * }
 * const hourly = window({
 *   key: "value.origin",
 *   shape: { kind: "tumbling", size: 3_600_000 },
 *   aggregates: "count(), avg(score.delayed)",
 * })(score(flights(), { model: "models/flight-delay" }));
 * let flightsCounted = 0;
 * for await (const item of hourly) {
 *   if (!isControl(item)) flightsCounted += (item.value as { count: number }).count;
 * }
 * assert.equal(flightsCounted, 3417);
 * ```
 *
 * @module
 */

export * from "./lib/api/core.ts";
export * from "./lib/api/filter.ts";
export * from "./lib/api/window.ts";
export * from "./lib/score/mod.ts";
export * from "./lib/api/sources.ts";
export * from "./lib/api/sinks.ts";
export * from "./lib/pulsar/mod.ts";
export * from "./lib/api/pipeline.ts";
