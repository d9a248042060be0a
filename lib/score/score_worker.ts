/**
 * The Worker that owns the onnxruntime session, so that `session.run` never blocks the stage's
 * event loop (acks, heartbeats, signals). Runs one batch at a time, in arrival order, always at
 * the same `[batchSize, …shape]` shapes so onnxruntime's arena and memory pattern are reused.
 *
 * @module
 */
/// <reference lib="deno.worker" />
import type * as Ort from "onnxruntime-node";
import type {
  OutputTensor,
  RunInput,
  RunResult,
  SessionSettings,
  WorkerReply,
  WorkerRequest,
} from "./worker_protocol.ts";

// The import starts as soon as the Worker exists — it is most of score's start-up, and overlaps
// the main thread's own start, model checks and first input — and is awaited on the "load"
// request, so that a missing permission becomes a clear reply rather than a stack.
const importing: Promise<typeof Ort> = import("onnxruntime-node");
importing.catch(() => {}); // reported by load()
let ort: typeof Ort;
let session: Ort.InferenceSession | undefined;
let settings: SessionSettings | undefined;

function reply(message: WorkerReply, transfer: Transferable[] = []): void {
  self.postMessage(message, transfer);
}

async function load(next: SessionSettings): Promise<void> {
  try {
    ort = await importing;
  } catch (cause) {
    const hint = cause instanceof Deno.errors.NotCapable
      ? " (onnxruntime is a native addon: run with --allow-read --allow-ffi --allow-env)"
      : "";
    throw new Error(`cannot load onnxruntime-node: ${(cause as Error).message}${hint}`);
  }
  settings = next;
  try {
    session = await ort.InferenceSession.create(next.modelPath, {
      executionProviders: ["cpu"],
      graphOptimizationLevel: "all",
      intraOpNumThreads: next.threads,
      interOpNumThreads: 1,
      executionMode: "sequential",
      enableCpuMemArena: true,
      enableMemPattern: true,
    });
  } catch (cause) {
    throw new Error(`onnxruntime cannot load ${next.modelPath}: ${(cause as Error).message}`);
  }
  // One warm-up run at the fixed shape allocates the arena before the first real batch.
  await run(next.inputs.map((i) => emptyInput(i.type, next.batchSize * size(i.shape))));
}

function size(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function emptyInput(type: string, length: number): RunInput {
  if (type === "string") return new Array<string>(length).fill("");
  if (type === "int32") return new Int32Array(length);
  if (type === "bool") return new Uint8Array(length);
  if (type === "float32") return new Float32Array(length);
  return new Float64Array(length);
}

async function run(inputs: RunInput[]): Promise<OutputTensor[]> {
  const s = settings!;
  const feeds: Record<string, Ort.Tensor> = {};
  s.inputs.forEach((spec, k) => {
    const dims = [s.batchSize, ...spec.shape];
    const data = inputs[k];
    if (spec.type === "int64") {
      feeds[spec.name] = new ort.Tensor(
        "int64",
        BigInt64Array.from(data as Float64Array, BigInt),
        dims,
      );
    } else if (spec.type === "string") {
      feeds[spec.name] = new ort.Tensor("string", data as string[], dims);
    } else if (spec.type === "bool") {
      feeds[spec.name] = new ort.Tensor("bool", data as Uint8Array, dims);
    } else {
      feeds[spec.name] = new ort.Tensor(spec.type as "float32", data as Float32Array, dims);
    }
  });
  const results = await session!.run(feeds, s.outputNames);
  return s.outputNames.map((name) => {
    const out = results[name];
    const data = out.data as OutputTensor["data"];
    return { name, type: out.type, dims: [...out.dims], data };
  });
}

/** Runs not yet started, in arrival order. */
const queue: { id: number; inputs: RunInput[] }[] = [];
let draining = false;
/** Results held back at most this many... */
const MAX_HELD = 4;
/** ...and at most this long (ms): only results of runs shorter than it are held at all. */
const MAX_HOLD_MS = 0.2;

/**
 * Runs queued batches one after another. Batches that arrive during a run (session.run yields
 * to the event loop) join the queue. When runs are short (a small model), results go back
 * together once the queue is empty, MAX_HELD are waiting or the oldest has waited MAX_HOLD_MS:
 * a busy stream then costs a fraction of a wake-up per batch. A longer run's result goes back at
 * once, so the main thread never waits for a batch that is done.
 */
async function drain(): Promise<void> {
  draining = true;
  let results: RunResult[] = [];
  let transfer: Transferable[] = [];
  let heldSince = 0;
  while (queue.length > 0) {
    const { id, inputs } = queue.shift()!;
    const started = performance.now();
    try {
      const outputs = await run(inputs);
      for (const input of inputs) {
        if (!Array.isArray(input)) transfer.push(input.buffer as ArrayBuffer);
      }
      for (const o of outputs) {
        if (!Array.isArray(o.data)) transfer.push(o.data.buffer as ArrayBuffer);
      }
      results.push({ id, inputs, outputs });
    } catch (err) {
      results.push({ id, error: (err as Error).message ?? String(err) });
    }
    const now = performance.now();
    if (results.length === 1) heldSince = now;
    if (
      queue.length === 0 || results.length >= MAX_HELD || now - started >= MAX_HOLD_MS ||
      now - heldSince >= MAX_HOLD_MS
    ) {
      reply({ type: "results", results }, transfer);
      results = [];
      transfer = [];
    }
  }
  draining = false;
}

self.onmessage = (event: MessageEvent<WorkerRequest>) => {
  const message = event.data;
  if (message.type === "run") {
    queue.push(message);
    if (!draining) void drain();
    return;
  }
  if (message.type === "close") {
    void session?.release().finally(() => self.close());
    return;
  }
  load(message.settings).then(
    () => reply({ type: "ready" }),
    (err) => reply({ type: "error", message: (err as Error).message ?? String(err) }),
  );
};
