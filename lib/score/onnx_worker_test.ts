import assert from "node:assert/strict";
import { OnnxWorker } from "./onnx_worker.ts";

const models = new URL("../../models/", import.meta.url).pathname;
const settings = {
  modelPath: `${models}flight-delay/model.onnx`,
  inputName: "features",
  outputNames: ["probabilities"],
  batchSize: 4,
  columns: 488,
  threads: 1,
};
const input = () => Float32Array.from({ length: 4 * 488 }, (_, i) => (i % 7 === 0 ? 1 : 0));

async function probabilities(worker: OnnxWorker): Promise<number[]> {
  const { outputs } = await worker.run(input());
  worker.close();
  return [...(outputs[0].data as Float32Array)];
}

Deno.test("a prepared worker is taken by start and scores as a fresh one does", async () => {
  const fresh = await probabilities(await OnnxWorker.start(settings));
  OnnxWorker.prepare(`${models}flight-delay`);
  const prepared = await probabilities(await OnnxWorker.start(settings));
  assert.equal(prepared.length, 8);
  assert.deepEqual(prepared, fresh);
  // Taken: nothing is left to discard.
  await OnnxWorker.discardPrepared(1);
});

Deno.test("a worker prepared for another model is replaced, one for a broken model discarded", async () => {
  OnnxWorker.prepare(`${models}earthquake-magnitude`);
  const other = await probabilities(await OnnxWorker.start(settings));
  assert.equal(other.length, 8);
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(`${dir}/model.onnx`, "this is not a model");
  OnnxWorker.prepare(dir);
  await OnnxWorker.discardPrepared();
  await assert.rejects(
    OnnxWorker.start({ ...settings, modelPath: `${dir}/model.onnx` }),
    /onnxruntime cannot load/,
  );
  await Deno.remove(dir, { recursive: true });
});
