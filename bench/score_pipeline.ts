/**
 * Whole-pipeline benchmark of the score stage, every row measured side by side in one run
 * (three interleaved rounds, medians reported):
 *
 *   deno run --allow-read --allow-write --allow-ffi --allow-env --allow-run \
 *     bench/score_pipeline.ts [events=300000]
 *
 * Per model (events/s, µs per event, process CPU µs per event, and the ratios against raw
 * `session.run` on the same prepared tensors at batch 256, the baseline, and against raw
 * `session.run` that encodes each batch first):
 * - raw session.run in this thread, tensors encoded beforehand (the baseline),
 * - raw session.run in this thread, each batch encoded just before (sparse encoder, one thread),
 * - the `score` library stage over parsed events in memory, one by one (async generator in,
 *   `score()` out: encode + worker + attach, no I/O), timed from its first event pulled,
 * - the same stage fed chunks of 1,000 events (arrays in, `scoreBatches` arrays out),
 * - the `edgepipe score` command over an NDJSON file (parse + score + serialise), with peak RSS,
 * - the same NDJSON read and written without scoring (bench/score_passthrough.ts): the I/O floor.
 * Then the added latency of `score` at --max-delay 5 on a paced source, and how long the event
 * loop stalls while batches are scored by session.run on the main thread versus in the Worker.
 */
import { join } from "node:path";
import process from "node:process";
import * as ort from "onnxruntime-node";
import type { Envelope, Item } from "../lib/envelope.ts";
import { type LoadedModel, loadModel } from "../lib/score/load_model.ts";
import { OnnxWorker } from "../lib/score/onnx_worker.ts";
import { compileEncoder } from "../lib/score/encode_features.ts";
import { score, scoreBatches } from "../lib/score/score.ts";

const root = new URL("../", import.meta.url).pathname;
const total = Number(Deno.args[0] ?? 300_000);
const BATCH = 256;
const ROUNDS = Number(Deno.args[1] ?? 3);
const CHUNK = 1_000;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** Real events from a model's sample or fixture, repeated with fresh ids up to `n`. */
async function events(model: string, n: number): Promise<Envelope[]> {
  const flights = model === "flight-delay";
  const text = await Deno.readTextFile(
    join(root, "models", model, flights ? "sample.ndjson" : "fixture.ndjson"),
  );
  const base = text.trim().split("\n").map((line) => {
    const parsed = JSON.parse(line);
    return (flights ? parsed : parsed.event) as Envelope;
  });
  return Array.from({ length: n }, (_, i) => ({ ...base[i % base.length], id: `e${i}` }));
}

function sessionOptions(): ort.InferenceSession.SessionOptions {
  return {
    executionProviders: ["cpu"],
    graphOptimizationLevel: "all",
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    executionMode: "sequential",
  };
}

function tensors(model: LoadedModel, input: Envelope[], rows: number): ort.Tensor[] {
  const out: ort.Tensor[] = [];
  for (let start = 0; start < input.length; start += rows) {
    const data = new Float32Array(rows * model.columns);
    for (let i = start; i < Math.min(start + rows, input.length); i++) {
      model.encode(input[i], data, (i - start) * model.columns, { position: i + 1 });
    }
    out.push(new ort.Tensor("float32", data, [rows, model.columns]));
  }
  return out;
}

/** Events per second and process CPU microseconds per event of one in-process row. */
interface Measured {
  eps: number;
  cpu: number;
}

async function measured(events: number, work: () => Promise<void>): Promise<Measured> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await work();
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return { eps: events / seconds, cpu: (cpu.user + cpu.system) / events };
}

async function rawSessionRun(model: LoadedModel, input: Envelope[]): Promise<Measured> {
  const session = await ort.InferenceSession.create(model.modelPath, sessionOptions());
  // The first 64 batches of the same events, prepared once and cycled: all of them would hold
  // 600 MB of flight tensors and make the rows after this one pay for the garbage.
  const batches = tensors(model, input.slice(0, 64 * BATCH), BATCH);
  const feeds = (t: ort.Tensor) => ({ [model.inputs[0].name]: t });
  const names = model.spec.outputs.map((o) => o.name);
  await session.run(feeds(batches[0]), names); // warm-up
  const runs = Math.ceil(input.length / BATCH);
  const result = await measured(input.length, async () => {
    for (let i = 0; i < runs; i++) await session.run(feeds(batches[i % batches.length]), names);
  });
  await session.release();
  return result;
}

/** Raw session.run with the encoding in the loop: each batch encoded (sparsely) just before. */
async function rawWithEncoding(model: LoadedModel, input: Envelope[]): Promise<Measured> {
  const session = await ort.InferenceSession.create(model.modelPath, sessionOptions());
  const { encodeSparse, columns, marksPerRow } = compileEncoder(model.spec);
  const data = new Float32Array(BATCH * columns);
  const marks = new Int32Array(BATCH * marksPerRow);
  const tensor = new ort.Tensor("float32", data, [BATCH, columns]);
  const feeds = { [model.inputs[0].name]: tensor };
  const names = model.spec.outputs.map((o) => o.name);
  await session.run(feeds, names); // warm-up
  const result = await measured(input.length, async () => {
    let marked = 0;
    for (let start = 0; start < input.length; start += BATCH) {
      for (let i = 0; i < marked; i++) data[marks[i]] = 0;
      marked = 0;
      const end = Math.min(start + BATCH, input.length);
      for (let i = start; i < end; i++) {
        marked = encodeSparse(input[i], data, (i - start) * columns, marks, marked);
      }
      await session.run(feeds, names);
    }
  });
  await session.release();
  return result;
}

/**
 * A stage row: the clock and the CPU count start when the stage pulls its first event, so that
 * starting the Worker (onnxruntime, session, warm-up run; reported apart) is not spread over the
 * events, as the baseline's session creation is not.
 */
async function stageRow(
  events: number,
  run: (started: () => void) => Promise<number>,
): Promise<Measured> {
  let t0 = 0;
  let cpu0: ReturnType<typeof process.cpuUsage> | undefined;
  const scored = await run(() => {
    cpu0 = process.cpuUsage();
    t0 = performance.now();
  });
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  if (scored !== events) throw new Error(`scored ${scored} of ${events}`);
  return { eps: events / seconds, cpu: (cpu.user + cpu.system) / events };
}

function libraryStage(model: LoadedModel, input: Envelope[]): Promise<Measured> {
  return stageRow(input.length, async (started) => {
    async function* source(): AsyncGenerator<Item> {
      started();
      yield* input;
    }
    let n = 0;
    for await (const _ of score(source(), { model, batchSize: BATCH })) n++;
    return n;
  });
}

function libraryStageChunks(model: LoadedModel, input: Envelope[]): Promise<Measured> {
  return stageRow(input.length, async (started) => {
    async function* source(): AsyncGenerator<Item[]> {
      started();
      for (let i = 0; i < input.length; i += CHUNK) yield input.slice(i, i + CHUNK);
    }
    let n = 0;
    for await (const batch of scoreBatches(source(), { model, batchSize: BATCH })) {
      n += batch.length;
    }
    return n;
  });
}

/** Milliseconds from asking for a scoring Worker to its first batch being possible. */
async function workerStart(model: LoadedModel): Promise<number> {
  const t0 = performance.now();
  const worker = await OnnxWorker.start({
    modelPath: model.modelPath,
    inputs: model.inputs.map((i) => ({ name: i.name, type: i.type, shape: i.shape })),
    outputNames: model.spec.outputs.map((o) => o.name),
    batchSize: BATCH,
    threads: 1,
  });
  const ms = performance.now() - t0;
  worker.close();
  return ms;
}

/** Runs a shell command with /usr/bin/time in place of TIME; seconds and peak RSS in KiB. */
async function timed(command: string): Promise<{ seconds: number; rssKiB: number }> {
  const rssFile = await Deno.makeTempFile();
  const t0 = performance.now();
  const out = await new Deno.Command("bash", {
    args: ["-c", command.replace("TIME", `/usr/bin/time -f %M -o ${rssFile}`)],
    cwd: root,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const seconds = (performance.now() - t0) / 1000;
  if (!out.success) throw new Error(`${command}: ${new TextDecoder().decode(out.stderr)}`);
  const rssKiB = Number((await Deno.readTextFile(rssFile)).trim().split("\n").pop());
  await Deno.remove(rssFile);
  return { seconds, rssKiB };
}

async function pacedLatency(model: LoadedModel, input: Envelope[], perSecond: number) {
  const sentAt = new Map<string, number>();
  async function* paced(): AsyncGenerator<Item> {
    const start = performance.now();
    for (let i = 0; i < input.length; i++) {
      const wait = start + (i * 1000) / perSecond - performance.now();
      if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
      sentAt.set(input[i].id!, performance.now());
      yield input[i];
    }
  }
  const added: number[] = [];
  for await (const item of score(paced(), { model, batchSize: BATCH, maxDelayMs: 5 })) {
    added.push(performance.now() - sentAt.get((item as Envelope).id!)!);
  }
  added.sort((a, b) => a - b);
  const at = (q: number) => added[Math.min(added.length - 1, Math.floor(q * added.length))];
  return { p50: at(0.5), p99: at(0.99), max: added[added.length - 1] };
}

/** Longest gap between 1 ms ticks while `work` runs. */
async function worstStall(work: () => Promise<void>): Promise<number> {
  let worst = 0;
  let last = performance.now();
  const ticker = setInterval(() => {
    const now = performance.now();
    worst = Math.max(worst, now - last);
    last = now;
  }, 1);
  await work();
  clearInterval(ticker);
  return worst;
}

async function stalls(model: LoadedModel, input: Envelope[]) {
  const rows = 4096;
  const batches = tensors(model, input.slice(0, rows * 20), rows);
  const names = model.spec.outputs.map((o) => o.name);
  const session = await ort.InferenceSession.create(model.modelPath, sessionOptions());
  await session.run({ [model.inputs[0].name]: batches[0] }, names);
  const inline = await worstStall(async () => {
    for (const b of batches) await session.run({ [model.inputs[0].name]: b }, names);
  });
  await session.release();
  const worker = await OnnxWorker.start({
    modelPath: model.modelPath,
    inputs: model.inputs.map((i) => ({ name: i.name, type: i.type, shape: i.shape })),
    outputNames: names,
    batchSize: rows,
    threads: 1,
  });
  const inWorker = await worstStall(async () => {
    for (const b of batches) await worker.run([(b.data as Float32Array).slice()]);
  });
  worker.close();
  return { rows, inline, inWorker };
}

const fmt = (n: number, digits = 0) =>
  n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });

const rows: string[][] = [];
const notes: string[] = [];
for (const name of ["flight-delay", "earthquake-magnitude"]) {
  const model = await loadModel(join(root, "models", name));
  const input = await events(name, total);
  const file = await Deno.makeTempFile({ suffix: ".ndjson" });
  await Deno.writeTextFile(file, input.map((e) => JSON.stringify(e)).join("\n") + "\n");
  const megabytes = (await Deno.stat(file)).size / 1e6;

  // Rows run interleaved, ROUNDS times, and each reports its median: the machine is shared.
  const raws: Measured[] = [];
  const rawEncodes: Measured[] = [];
  const stages: Measured[] = [];
  const chunks: Measured[] = [];
  const starts: number[] = [];
  const commands: { seconds: number; rssKiB: number }[] = [];
  const ios: { seconds: number; rssKiB: number }[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    raws.push(await rawSessionRun(model, input));
    rawEncodes.push(await rawWithEncoding(model, input));
    starts.push(await workerStart(model));
    stages.push(await libraryStage(model, input));
    chunks.push(await libraryStageChunks(model, input));
    commands.push(
      await timed(
        `TIME deno run --allow-read --allow-ffi --allow-env cli/main.ts score --model models/${name} < ${file} > /dev/null`,
      ),
    );
    ios.push(
      await timed(`TIME deno run --allow-read bench/score_passthrough.ts < ${file} > /dev/null`),
    );
  }
  const mid = (rows: Measured[]): Measured => ({
    eps: median(rows.map((r) => r.eps)),
    cpu: median(rows.map((r) => r.cpu)),
  });
  const raw = mid(raws).eps;
  const rawEncode = mid(rawEncodes).eps;
  const command = {
    seconds: median(commands.map((c) => c.seconds)),
    rssKiB: Math.max(...commands.map((c) => c.rssKiB)),
  };
  const io = {
    seconds: median(ios.map((c) => c.seconds)),
    rssKiB: Math.max(...ios.map((c) => c.rssKiB)),
  };
  await Deno.remove(file);
  const rate = (seconds: number) => input.length / seconds;
  const row = (what: string, eps: number, cpu?: number, rss = "") => [
    name,
    what,
    fmt(eps),
    fmt(1e6 / eps, 2),
    cpu === undefined ? "" : fmt(cpu, 2),
    fmt(eps / raw, 2),
    fmt(eps / rawEncode, 2),
    rss,
  ];
  const inProcess = (what: string, rows: Measured[]) => {
    const m = mid(rows);
    return row(what, m.eps, m.cpu);
  };
  rows.push(
    inProcess("raw session.run, tensors prepared (baseline)", raws),
    inProcess("raw session.run, each batch encoded first", rawEncodes),
    inProcess("score stage, events one by one in memory", stages),
    inProcess(`score stage, chunks of ${fmt(CHUNK)} in, batches out`, chunks),
    row(
      `edgepipe score, NDJSON → /dev/null`,
      rate(command.seconds),
      undefined,
      fmt(command.rssKiB / 1024),
    ),
    row(`NDJSON read + write only (I/O floor)`, rate(io.seconds), undefined, fmt(io.rssKiB / 1024)),
  );
  notes.push(
    `${name}: starting the score Worker (onnxruntime, session, warm-up run) takes ${
      fmt(median(starts), 0)
    } ms, before the first event and not in the stage rows`,
  );
  notes.push(
    `${name}: ${fmt(megabytes, 1)} MB of NDJSON; edgepipe score runs at ${
      fmt(command.seconds > 0 ? io.seconds / command.seconds : 0, 2)
    }× the I/O floor`,
  );
  if (name === "flight-delay") {
    const latency = await pacedLatency(model, input.slice(0, 10_000), 5_000);
    notes.push(
      `added latency of score at --max-delay 5, a source paced at 5,000 events/s (flight-delay, 10,000 events): p50 ${
        fmt(latency.p50, 2)
      } ms, p99 ${fmt(latency.p99, 2)} ms, max ${fmt(latency.max, 2)} ms`,
    );
  } else {
    const s = await stalls(model, input);
    notes.push(
      `worst event-loop stall while scoring 20 batches of ${s.rows} (earthquake-magnitude): session.run on the main thread ${
        fmt(s.inline, 1)
      } ms, in the score Worker ${fmt(s.inWorker, 1)} ms`,
    );
  }
}

console.log(
  `\nedgepipe score — ${
    fmt(total)
  } events per row, median of ${ROUNDS} interleaved rounds, batch ${BATCH}, 1 intra-op thread, ${navigator.hardwareConcurrency} cores\n`,
);
const header = [
  "model",
  "what",
  "events/s",
  "µs/event",
  "CPU µs/event",
  "× raw",
  "× raw+encode",
  "peak RSS MiB",
];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
const line = (cells: string[]) =>
  "| " + cells.map((c, i) => i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i])).join(" | ") +
  " |";
console.log(line(header));
console.log(
  "|" + widths.map((w, i) => i < 2 ? "-".repeat(w + 2) : "-".repeat(w + 1) + ":").join("|") + "|",
);
for (const r of rows) console.log(line(r));
console.log(
  "\nµs/event: wall time per event; CPU µs/event: the process's user + system CPU per event (both" +
    " threads of the stage); × raw: against the baseline; × raw+encode: against raw session.run" +
    " that also encodes each batch in its loop.",
);
console.log("\n" + notes.map((n) => `- ${n}`).join("\n"));
