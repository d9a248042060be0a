/**
 * The main-thread handle of the scoring Worker: load a session, run fixed-shape batches, close.
 *
 * @module
 */
import { ModelError } from "./errors.ts";
import type {
  OutputTensor,
  RunInput,
  SessionSettings,
  WorkerReply,
  WorkerRequest,
} from "./worker_protocol.ts";

/** Workers started ahead by {@linkcode OnnxWorker.prewarm}. */
const prewarmed: Worker[] = [];

function newWorker(): Worker {
  return new Worker(new URL("./score_worker.ts", import.meta.url), { type: "module" });
}

/** Results of one batch, and the input buffers handed back for reuse. */
export interface BatchResult {
  inputs: RunInput[];
  outputs: OutputTensor[];
}

/**
 * An onnxruntime session living in its own Worker. Needs `--allow-read --allow-ffi --allow-env`
 * (the native addon is loaded through FFI).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { OnnxWorker } from "./onnx_worker.ts";
 * const worker = await OnnxWorker.start({
 *   modelPath: new URL("../../models/flight-delay/model.onnx", import.meta.url).pathname,
 *   inputs: [{ name: "features", type: "float32", shape: [488] }],
 *   outputNames: ["probabilities"],
 *   batchSize: 256,
 *   threads: 1,
 * });
 * const { outputs } = await worker.run([new Float32Array(256 * 488)]);
 * assert.equal(outputs[0].dims[0], 256);
 * worker.close();
 * ```
 */
export class OnnxWorker {
  #worker: Worker;
  #pending = new Map<number, { resolve(r: BatchResult): void; reject(e: Error): void }>();
  #nextId = 1;
  #failure: Error | undefined;

  private constructor(worker: Worker) {
    this.#worker = worker;
  }

  /**
   * Starts `count` Workers now, so that their onnxruntime import runs while the caller loads and
   * checks the model; the next {@linkcode OnnxWorker.start} calls take them. Workers not taken
   * are ended by {@linkcode OnnxWorker.dropPrewarmed}.
   */
  static prewarm(count: number): void {
    for (let i = 0; i < count; i++) prewarmed.push(newWorker());
  }

  /** Ends the Workers {@linkcode OnnxWorker.prewarm} started that nobody took. */
  static dropPrewarmed(): void {
    for (const w of prewarmed.splice(0)) w.terminate();
  }

  /** Starts the Worker and creates the session; rejects with a {@linkcode ModelError}. */
  static start(settings: SessionSettings): Promise<OnnxWorker> {
    const worker = prewarmed.shift() ?? newWorker();
    const handle = new OnnxWorker(worker);
    return new Promise((resolve, reject) => {
      worker.onmessage = (event: MessageEvent<WorkerReply>) => {
        const message = event.data;
        if (message.type === "ready") {
          worker.onmessage = (e: MessageEvent<WorkerReply>) => handle.#receive(e.data);
          resolve(handle);
        } else if (message.type === "error") {
          worker.terminate();
          reject(new ModelError(message.message));
        }
      };
      worker.onerror = (event) => {
        event.preventDefault();
        const error = new ModelError(`scoring worker failed: ${event.message}`);
        handle.#fail(error);
        reject(error);
      };
      worker.postMessage({ type: "load", settings } satisfies WorkerRequest);
    });
  }

  /**
   * Scores one batch: one buffer per input, `batchSize × product(shape)` values each; typed
   * arrays are transferred to the worker and come back in the result.
   */
  run(inputs: RunInput[]): Promise<BatchResult> {
    if (this.#failure) return Promise.reject(this.#failure);
    const id = this.#nextId++;
    const transfer: Transferable[] = [];
    for (const input of inputs) {
      if (!Array.isArray(input)) transfer.push(input.buffer as ArrayBuffer);
    }
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#worker.postMessage({ type: "run", id, inputs } satisfies WorkerRequest, transfer);
    });
  }

  /** Stops the worker; batches still running are rejected. */
  close(): void {
    this.#fail(new ModelError("scoring worker closed"));
    this.#worker.terminate();
  }

  #receive(message: WorkerReply): void {
    if (message.type !== "results") return;
    for (const result of message.results) {
      const pending = this.#pending.get(result.id);
      this.#pending.delete(result.id);
      if (result.error !== undefined) {
        pending?.reject(new ModelError(`onnxruntime failed on a batch: ${result.error}`));
      } else pending?.resolve({ inputs: result.inputs, outputs: result.outputs });
    }
  }

  #fail(error: Error): void {
    this.#failure ??= error;
    for (const pending of this.#pending.values()) pending.reject(error);
    this.#pending.clear();
  }
}
