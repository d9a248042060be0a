/**
 * Messages between the scoring stage and its onnxruntime Worker.
 *
 * @module
 */

/** Session settings, chosen so that runs reuse one memory arena. */
export interface SessionSettings {
  modelPath: string;
  inputName: string;
  outputNames: string[];
  /** Rows of every run: batches are padded to this fixed shape. */
  batchSize: number;
  columns: number;
  /** onnxruntime intra-op threads. */
  threads: number;
}

/** Main thread → worker. */
export type WorkerRequest =
  | { type: "load"; settings: SessionSettings }
  | { type: "run"; id: number; input: Float32Array }
  | { type: "close" };

/** One output tensor, its data copied out of onnxruntime. */
export interface OutputTensor {
  name: string;
  type: string;
  dims: number[];
  data: Float32Array | Float64Array | BigInt64Array | Int32Array | string[];
}

/** The outcome of one run: its outputs and the input buffer handed back, or why it failed. */
export type RunResult =
  | { id: number; input: Float32Array; outputs: OutputTensor[]; error?: undefined }
  | { id: number; error: string };

/**
 * Worker → main thread. Results of consecutive runs share one message: waking the main thread
 * costs more than a small model's run on the project machine, so the worker sends what it has
 * when it runs out of queued batches (or has several done), not after every run.
 */
export type WorkerReply =
  | { type: "ready" }
  | { type: "results"; results: RunResult[] }
  | { type: "error"; message: string };
