/**
 * The main-thread handle of the scoring Worker: load a session, run fixed-shape batches, close.
 *
 * @module
 */
import { join } from "node:path";
import { ModelError } from "./errors.ts";
import type {
  OutputTensor,
  SessionSettings,
  WorkerReply,
  WorkerRequest,
} from "./worker_protocol.ts";

/** Results of one batch, and the input buffer handed back for reuse. */
export interface BatchResult {
  input: Float32Array;
  outputs: OutputTensor[];
}

/** A worker started by {@linkcode OnnxWorker.prepare} and not yet taken. */
let prepared: { modelPath: string; worker: Worker; preloaded: Promise<void> } | undefined;

const spawn = () => new Worker(new URL("./score_worker.ts", import.meta.url), { type: "module" });

/**
 * An onnxruntime session living in its own Worker. Needs `--allow-read --allow-ffi --allow-env`
 * (the native addon is loaded through FFI).
 *
 * @example
 * ```ts
 * import { OnnxWorker } from "./onnx_worker.ts";
 * const worker = await OnnxWorker.start({
 *   modelPath: new URL("../../models/flight-delay/model.onnx", import.meta.url).pathname,
 *   inputName: "features",
 *   outputNames: ["probabilities"],
 *   batchSize: 256,
 *   columns: 488,
 *   threads: 1,
 * });
 * const { outputs } = await worker.run(new Float32Array(256 * 488));
 * console.assert(outputs[0].dims[0] === 256);
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

  /** Starts the Worker and creates the session; rejects with a {@linkcode ModelError}. */
  /**
   * Starts the worker for the model in `modelDir` now, before the command has parsed its
   * options or read input: importing onnxruntime and opening the model take most of the time to
   * the first scored event, and the worker does that in parallel. The next
   * {@linkcode OnnxWorker.start} for the same model takes it over; another model's start
   * terminates it.
   */
  static prepare(modelDir: string): void {
    if (prepared) return;
    const modelPath = join(modelDir, "model.onnx");
    const worker = spawn();
    const preloaded = new Promise<void>((resolve) => {
      worker.onmessage = (event: MessageEvent<WorkerReply>) => {
        if (event.data.type === "preloaded") resolve();
      };
      worker.onerror = (event) => {
        event.preventDefault();
        resolve();
      };
    });
    worker.postMessage({ type: "preload", modelPath } satisfies WorkerRequest);
    prepared = { modelPath, worker, preloaded };
  }

  /**
   * Stops a worker from {@linkcode OnnxWorker.prepare} that no start took (the command failed
   * first), once it is out of onnxruntime: ending the process while the native addon opens a
   * model can crash it.
   */
  static async discardPrepared(timeoutMs = 10_000): Promise<void> {
    const early = prepared;
    if (!early) return;
    prepared = undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      early.preloaded,
      new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs))),
    ]);
    clearTimeout(timer);
    early.worker.terminate();
  }

  static start(settings: SessionSettings): Promise<OnnxWorker> {
    const early = prepared;
    prepared = undefined;
    if (early && early.modelPath !== settings.modelPath) {
      void early.preloaded.then(() => early.worker.terminate());
    }
    const worker = early?.modelPath === settings.modelPath ? early.worker : spawn();
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

  /** Scores one batch of `batchSize × columns` values; the buffer is transferred to the worker. */
  run(input: Float32Array): Promise<BatchResult> {
    if (this.#failure) return Promise.reject(this.#failure);
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#worker.postMessage(
        { type: "run", id, input } satisfies WorkerRequest,
        [input.buffer as ArrayBuffer],
      );
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
      } else pending?.resolve({ input: result.input, outputs: result.outputs });
    }
  }

  #fail(error: Error): void {
    this.#failure ??= error;
    for (const pending of this.#pending.values()) pending.reject(error);
    this.#pending.clear();
  }
}
