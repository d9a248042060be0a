/**
 * One model ready to score: its compiled encoders and attacher, its onnxruntime sessions (one per
 * Worker) and its pool of input buffers. The score stage holds one; with `--watch` it swaps in a
 * new one between batches and closes the old one once its last batch is out.
 *
 * @module
 */
import { compileAttacher, type ScoreAttacher } from "./attach_scores.ts";
import { type CompiledEncoder, compileEncoder, newInputBuffer } from "./encode_features.ts";
import type { LoadedModel } from "./load_model.ts";
import { specInputs } from "./model_spec.ts";
import { type BatchResult, OnnxWorker } from "./onnx_worker.ts";
import type { RunInput } from "./worker_protocol.ts";

/**
 * A batch's model input buffers (one per input) and where their one-hot 1s are: rows are encoded
 * sparsely into buffers whose one-hot columns are zero, and only the recorded 1s are reset before
 * the buffers are used again.
 */
export interface InputSlot {
  buffers: RunInput[];
  marks: Int32Array[];
  markCounts: number[];
}

/** How to build an engine. */
export interface EngineSettings {
  batchSize: number;
  as: string;
  threads: number;
  workers: number;
  /** Put the model's version (hash of model.onnx) in each score record as `model`. */
  versioned: boolean;
}

/** A model with its sessions; see the module doc. */
export class ScoringEngine {
  readonly model: LoadedModel;
  readonly encoders: CompiledEncoder[];
  readonly attach: ScoreAttacher;
  /** Settles when every session is ready; rejects with why one could not start. */
  readonly ready: Promise<void>;
  #workers: OnnxWorker[] = [];
  #starting: Promise<OnnxWorker[]>;
  #next = 0;
  #free: InputSlot[] = [];
  #batchSize: number;
  /** Batches sent and not yet released. */
  #inFlight = 0;
  #retired = false;
  #closed = false;

  private constructor(model: LoadedModel, settings: EngineSettings) {
    this.model = model;
    this.#batchSize = settings.batchSize;
    this.encoders = specInputs(model.spec).map((i) => compileEncoder(i, i.type));
    this.attach = compileAttacher(
      model.spec.outputs,
      settings.as,
      settings.versioned ? { model: model.version } : undefined,
    );
    this.#starting = startWorkers(model, settings);
    this.ready = this.#starting.then((workers) => {
      this.#workers = workers;
      if (this.#closed) { for (const w of workers) w.close(); }
    });
    this.ready.catch(() => {}); // awaited by whoever needs it
  }

  /**
   * The engine at once, its sessions starting (each loads the model and runs one warm-up batch):
   * batches can be encoded meanwhile, and {@linkcode ScoringEngine.run} waits for them.
   */
  static begin(model: LoadedModel, settings: EngineSettings): ScoringEngine {
    return new ScoringEngine(model, settings);
  }

  /** The engine once its sessions are ready: the model's full check. */
  static async start(model: LoadedModel, settings: EngineSettings): Promise<ScoringEngine> {
    const engine = new ScoringEngine(model, settings);
    try {
      await engine.ready;
    } catch (err) {
      engine.close();
      throw err;
    }
    return engine;
  }

  /** A zeroed set of input buffers, reused when one is free. */
  takeSlot(): InputSlot {
    const slot = this.#free.pop();
    if (slot === undefined) {
      const size = this.#batchSize;
      return {
        buffers: this.model.inputs.map((input, k) =>
          newInputBuffer(input.type, size * this.encoders[k].columns)
        ),
        marks: this.encoders.map((e) => new Int32Array(size * e.marksPerRow)),
        markCounts: this.encoders.map(() => 0),
      };
    }
    for (let k = 0; k < this.encoders.length; k++) {
      const buffer = slot.buffers[k] as Float32Array;
      const marks = slot.marks[k];
      const markCount = slot.markCounts[k];
      for (let i = 0; i < markCount; i++) buffer[marks[i]] = 0;
      slot.markCounts[k] = 0;
    }
    return slot;
  }

  /** Gives back a slot that was not sent. */
  returnSlot(slot: InputSlot): void {
    this.#free.push(slot);
  }

  /** Sends a batch to the next session in turn (once they are ready). */
  run(slot: InputSlot): Promise<BatchResult> {
    this.#inFlight++;
    const send = (workers: OnnxWorker[]) => {
      const worker = workers[this.#next];
      this.#next = (this.#next + 1) % workers.length;
      return worker.run(slot.buffers);
    };
    return this.#workers.length > 0 ? send(this.#workers) : this.#starting.then(send);
  }

  /** A sent batch is out: its buffers (handed back by the worker) go back to the pool. */
  release(slot: InputSlot): void {
    this.#inFlight--;
    this.#free.push(slot);
    if (this.#retired && this.#inFlight === 0) this.close();
  }

  /** No new batches: close once the last one sent is released. */
  retire(): void {
    this.#retired = true;
    if (this.#inFlight === 0) this.close();
  }

  /** Stops the sessions. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const w of this.#workers) w.close();
  }
}

async function startWorkers(model: LoadedModel, settings: EngineSettings): Promise<OnnxWorker[]> {
  const session = {
    modelPath: model.modelPath,
    inputs: model.inputs.map((i) => ({ name: i.name, type: i.type, shape: i.shape })),
    outputNames: model.spec.outputs.map((o) => o.name),
    batchSize: settings.batchSize,
    threads: settings.threads,
  };
  const started = await Promise.allSettled(
    Array.from({ length: settings.workers }, () => OnnxWorker.start(session)),
  );
  const workers = started.flatMap((s) => s.status === "fulfilled" ? [s.value] : []);
  const failed = started.find((s) => s.status === "rejected");
  if (failed !== undefined) {
    for (const w of workers) w.close();
    throw (failed as PromiseRejectedResult).reason;
  }
  return workers;
}
