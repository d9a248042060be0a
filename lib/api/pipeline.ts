/**
 * Pipeline files (`@edgepipe/edgepipe/pipeline`): what `edgepipe run pipeline.yaml` does, as a
 * library (the file format is in `docs/pipelines.md`). Loads every stage and sink.
 *
 * @module
 */
import type { DeliveryReport } from "../delivery/terminal.ts";
import { loadPipeline } from "../pipeline/load_pipeline.ts";
import { resolvePlan } from "../pipeline/plan.ts";
import {
  type PipelineTracing,
  runPipeline,
  type RunPipelineOptions,
} from "../pipeline/run_pipeline.ts";

export { PipelineFileError } from "../pipeline/load_pipeline.ts";
export type { PipelineTracing, RunPipelineOptions };
export type { PipelineObserveOptions } from "../observe/pipeline_observer.ts";
export type { ServeOptions } from "../observe/serve_metrics.ts";

/**
 * Reads, validates and runs a pipeline file to the end of its source, as `edgepipe run` does.
 * Relative paths in the file are taken from the file's directory. An invalid file throws
 * {@linkcode PipelineFileError} naming the line and the setting.
 *
 * @example Filter a file into a directory
 * ```ts
 * import assert from "node:assert/strict";
 * import { runPipelineFile } from "./pipeline.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/in.ndjson`, '{"delay":3}\n{"delay":40}\n');
 * await Deno.writeTextFile(
 *   `${dir}/late.yaml`,
 *   'source: { replay: { files: in.ndjson } }\nstages:\n  - filter: "event.value.delay > 15.0"\n' +
 *     "sink: file:out/?format=ndjson\n",
 * );
 * const report = await runPipelineFile(`${dir}/late.yaml`);
 * assert.equal(report.delivered, 1);
 * const [written] = [...Deno.readDirSync(`${dir}/out`)];
 * const lines = (await Deno.readTextFile(`${dir}/out/${written.name}`)).trim().split("\n");
 * assert.deepEqual(lines.map((line) => JSON.parse(line)), [{ delay: 40 }]);
 * ```
 */
export async function runPipelineFile(
  path: string,
  options: RunPipelineOptions = {},
): Promise<DeliveryReport> {
  const plan = resolvePlan(await loadPipeline(path), path);
  return await runPipeline(plan, options);
}
