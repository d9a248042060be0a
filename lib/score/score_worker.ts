/**
 * The Worker that owns the onnxruntime session, so that `session.run` never blocks the stage's
 * event loop (acks, heartbeats, signals). Runs one batch at a time, always at the same
 * `[batchSize, columns]` shape so onnxruntime's arena and memory pattern are reused.
 *
 * @module
 */
/// <reference lib="deno.worker" />
import type * as Ort from "onnxruntime-node";
import type {
  OutputTensor,
  SessionSettings,
  WorkerReply,
  WorkerRequest,
} from "./worker_protocol.ts";

// Loaded on request, so that a missing permission becomes a clear reply rather than a stack.
let ort: typeof Ort;
let session: Ort.InferenceSession | undefined;
let settings: SessionSettings | undefined;
let chain: Promise<void> = Promise.resolve();

function reply(message: WorkerReply, transfer: Transferable[] = []): void {
  self.postMessage(message, transfer);
}

async function load(next: SessionSettings): Promise<void> {
  try {
    ort = await import("onnxruntime-node");
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
  await run(new Float32Array(next.batchSize * next.columns));
}

async function run(input: Float32Array): Promise<OutputTensor[]> {
  const s = settings!;
  const tensor = new ort.Tensor("float32", input, [s.batchSize, s.columns]);
  const results = await session!.run({ [s.inputName]: tensor }, s.outputNames);
  return s.outputNames.map((name) => {
    const out = results[name];
    const data = out.data as OutputTensor["data"];
    return { name, type: out.type, dims: [...out.dims], data };
  });
}

self.onmessage = (event: MessageEvent<WorkerRequest>) => {
  const message = event.data;
  // Requests are handled strictly one after another, in arrival order.
  chain = chain.then(async () => {
    if (message.type === "close") {
      await session?.release();
      self.close();
      return;
    }
    if (message.type === "load") {
      try {
        await load(message.settings);
        reply({ type: "ready" });
      } catch (err) {
        reply({ type: "error", message: (err as Error).message ?? String(err) });
      }
      return;
    }
    try {
      const outputs = await run(message.input);
      const transfer: Transferable[] = [message.input.buffer as ArrayBuffer];
      for (const o of outputs) {
        if (!Array.isArray(o.data)) transfer.push(o.data.buffer as ArrayBuffer);
      }
      reply({ type: "result", id: message.id, input: message.input, outputs }, transfer);
    } catch (err) {
      reply({ type: "error", id: message.id, message: (err as Error).message ?? String(err) });
    }
  });
};
