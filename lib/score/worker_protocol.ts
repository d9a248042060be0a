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

/** Worker → main thread. */
export type WorkerReply =
  | { type: "ready" }
  | { type: "result"; id: number; input: Float32Array; outputs: OutputTensor[] }
  | { type: "error"; id?: number; message: string };
