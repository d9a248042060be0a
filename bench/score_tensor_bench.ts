/**
 * The new scoring paths against raw `session.run` on prepared tensors, and `workers: 2` against
 * one, in interleaved rounds of one run (median ratio with its range):
 *
 *   deno run -A bench/score_tensor_bench.ts [events=50000] [rounds=5]
 *
 * - tensor path: temperature-anomaly, window outputs with two arrays of 24 (the fixture's 52
 *   windows, repeated), through the score stage (chunks of 1,000 in, batches out) vs raw
 *   session.run on the same events encoded beforehand, batch 256;
 * - image path: digits, base64 PNG events (decode, resize, normalise per event) vs raw
 *   session.run on the prepared NCHW tensors;
 * - workers: the score stage with 2 Worker sessions vs 1, on flight-delay (a logistic
 *   regression), earthquake-magnitude (the tree model: 150 gradient-boosted trees) and
 *   temperature-anomaly (100 isolation trees).
 *
 * Each figure is events per second of wall time from the first event pulled to the last out.
 */
import { join } from "node:path";
import * as ort from "onnxruntime-node";
import type { Envelope, Item } from "../lib/envelope.ts";
import { type LoadedModel, loadModel } from "../lib/score/load_model.ts";
import { compileEncoder, newInputBuffer } from "../lib/score/encode_features.ts";
import { specInputs } from "../lib/score/model_spec.ts";
import { base64Bytes, decodeImage } from "../lib/score/image_input.ts";
import { scoreBatches } from "../lib/score/score.ts";
import { interleave, machineState, ratio, spread, table } from "./_rounds.ts";

const root = new URL("../", import.meta.url).pathname;
const total = Number(Deno.args[0] ?? 50_000);
const rounds = Number(Deno.args[1] ?? 5);
const BATCH = 256;
const CHUNK = 1_000;

async function events(model: string, n: number): Promise<Envelope[]> {
  const sample = model === "flight-delay" ? "sample.ndjson" : "fixture.ndjson";
  const text = await Deno.readTextFile(join(root, "models", model, sample));
  const base = text.trim().split("\n").map((line) => {
    const parsed = JSON.parse(line);
    return (model === "flight-delay" ? parsed : parsed.event) as Envelope;
  });
  return Array.from({ length: n }, (_, i) => ({ ...base[i % base.length], id: `e${i}` }));
}

/** Raw session.run on tensors prepared beforehand (64 batches, cycled). */
async function raw(model: LoadedModel, input: Envelope[]): Promise<number> {
  const session = await ort.InferenceSession.create(model.modelPath, {
    executionProviders: ["cpu"],
    graphOptimizationLevel: "all",
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    executionMode: "sequential",
  });
  const inputs = specInputs(model.spec);
  const encoders = inputs.map((i) => compileEncoder(i, i.type));
  const feeds: Record<string, ort.Tensor>[] = [];
  for (let start = 0; start < Math.min(input.length, 64 * BATCH); start += BATCH) {
    const feed: Record<string, ort.Tensor> = {};
    inputs.forEach((spec, k) => {
      const data = newInputBuffer(spec.type, BATCH * encoders[k].columns) as Float32Array;
      for (let i = start; i < Math.min(start + BATCH, input.length); i++) {
        encoders[k].encode(input[i], data, (i - start) * encoders[k].columns, { position: i });
      }
      feed[spec.name] = new ort.Tensor("float32", data, [BATCH, ...model.inputs[k].shape]);
    });
    feeds.push(feed);
  }
  const names = model.spec.outputs.map((o) => o.name);
  await session.run(feeds[0], names);
  const runs = Math.ceil(input.length / BATCH);
  const t0 = performance.now();
  for (let i = 0; i < runs; i++) await session.run(feeds[i % feeds.length], names);
  const eps = input.length / ((performance.now() - t0) / 1000);
  await session.release();
  return eps;
}

/** The score stage over chunks of parsed events; the clock starts at the first chunk pulled. */
async function stage(model: LoadedModel, input: Envelope[], workers: number): Promise<number> {
  let t0 = 0;
  async function* source(): AsyncGenerator<Item[]> {
    t0 = performance.now();
    for (let i = 0; i < input.length; i += CHUNK) yield input.slice(i, i + CHUNK);
  }
  let n = 0;
  for await (const batch of scoreBatches(source(), { model, batchSize: BATCH, workers })) {
    n += batch.length;
  }
  if (n !== input.length) throw new Error(`scored ${n} of ${input.length}`);
  return input.length / ((performance.now() - t0) / 1000);
}

/** The floor of the image path: base64 + PNG decoding alone, events/s. */
function decodeOnly(input: Envelope[]): Promise<number> {
  const t0 = performance.now();
  let pixels = 0;
  for (const e of input) {
    pixels += decodeImage(base64Bytes((e.value as { png: string }).png)).data.length;
  }
  if (pixels === 0) throw new Error("no pixels");
  return Promise.resolve(input.length / ((performance.now() - t0) / 1000));
}

const lines: string[] = [];
const rows: string[][] = [];
const state = await machineState();
for (const name of ["temperature-anomaly", "digits"]) {
  const model = await loadModel(join(root, "models", name));
  const input = await events(name, total);
  const image = name === "digits";
  const results = await interleave([
    { name: `${name} raw`, run: () => raw(model, input) },
    { name: `${name} stage`, run: () => stage(model, input, 1) },
    ...(image ? [{ name: "decode", run: () => decodeOnly(input) }] : []),
  ], rounds);
  const r = results.get(`${name} raw`)!;
  const s = results.get(`${name} stage`)!;
  const d = results.get("decode");
  rows.push([
    image ? "image path (digits, PNG)" : "tensor path (temperature-anomaly)",
    spread(r),
    spread(s),
    ratio(s, r),
    d ? `${spread(d)}; stage ${ratio(s, d)} of it` : "—",
  ]);
}
lines.push(
  table([
    "path",
    "raw session.run, events/s",
    "score stage, events/s",
    "× raw",
    "PNG decode alone, events/s",
  ], rows),
);

const workerRows: string[][] = [];
for (const name of ["flight-delay", "earthquake-magnitude", "temperature-anomaly"]) {
  const model = await loadModel(join(root, "models", name));
  const input = await events(name, total);
  const results = await interleave([
    { name: `${name} w1`, run: () => stage(model, input, 1) },
    { name: `${name} w2`, run: () => stage(model, input, 2) },
  ], rounds);
  const one = results.get(`${name} w1`)!;
  const two = results.get(`${name} w2`)!;
  workerRows.push([name, spread(one), spread(two), ratio(two, one)]);
}
lines.push(
  "",
  table(["model", "workers 1, events/s", "workers 2, events/s", "2 ÷ 1"], workerRows),
);
console.log(
  `score tensor/image/workers — ${total} events per row, ${rounds} interleaved rounds, batch ${BATCH}; ${state}\n`,
);
console.log(lines.join("\n"));
