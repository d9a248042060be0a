/**
 * Pipeline files (`@edgepipe/edgepipe/pipeline`): what `edgepipe run pipeline.yaml` does, as a
 * library. Loads every stage and sink.
 *
 * @module
 */
export { loadPipeline, parsePipeline, PipelineFileError } from "../pipeline/load_pipeline.ts";
export { type Plan, resolvePlan } from "../pipeline/plan.ts";
export { runPipeline, type RunPipelineOptions } from "../pipeline/run_pipeline.ts";
