/**
 * Messages between the scoring stage and its onnxruntime Worker.
 *
 * @module
 */

/** One input tensor of every run. */
export interface InputSettings {
  name: string;
  /** Element type: `float32`, `float64`, `int64`, `int32`, `bool`, `string`. */
  type: string;
  /** One event's dimensions (the batch dimension goes before them). */
  shape: number[];
}

/**
 * The buffers of one run, one per input, `batchSize × product(shape)` values each: Float32Array,
 * Float64Array (float64, and int64 which the worker converts), Int32Array, Uint8Array (bool) or
 * an array of strings.
 */
export type RunInput = Float32Array | Float64Array | Int32Array | Uint8Array | string[];

/** Session settings, chosen so that runs reuse one memory arena. */
export interface SessionSettings {
  modelPath: string;
  inputs: InputSettings[];
  outputNames: string[];
  /** Rows of every run: batches are padded to this fixed shape. */
  batchSize: number;
  /** onnxruntime intra-op threads. */
  threads: number;
}

/** Main thread → worker. */
export type WorkerRequest =
  | { type: "load"; settings: SessionSettings }
  | { type: "run"; id: number; inputs: RunInput[] }
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
  | { id: number; inputs: RunInput[]; outputs: OutputTensor[]; error?: undefined }
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
