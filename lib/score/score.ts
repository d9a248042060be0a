/**
 * The score stage: micro-batches events, runs the model in a Worker, attaches the outputs under
 * `score` and emits everything — events, control records, acks for rejected events — in input
 * order.
 *
 * Flow: a pump reads the input, encodes each event into the open batch's buffer and seals the
 * batch at `batchSize` events or `maxDelayMs` after its first item, whichever comes first. Sealed
 * batches go to the worker at once; the pump stops reading while `maxInFlight` batches are sealed
 * but not yet emitted, which is how a slow reader downstream slows the source. Control records
 * and acks ride in the batch at their position, so an ack never overtakes the events before it.
 *
 * @module
 */
import { ackRecord, type ControlRecord, type Envelope, isControl, type Item } from "../envelope.ts";
import { deadLetterOf, type DeadLetterSink, type ErrorPolicy } from "../dead_letter.ts";
import { describeError } from "../errors.ts";
import { FeatureError, ModelError } from "./errors.ts";
import { type LoadedModel, loadModel } from "./load_model.ts";
import { describeEvent } from "./encode_features.ts";
import type { BatchResult } from "./onnx_worker.ts";
import { type EngineSettings, type InputSlot, ScoringEngine } from "./engine.ts";
import { ModelWatcher } from "./model_watch.ts";

/** Options of {@linkcode score}. */
export interface ScoreOptions {
  /** A model directory or a model from {@linkcode loadModel}. */
  model: string | LoadedModel;
  /** Events per model run; batches are padded to this fixed shape. Default 256. */
  batchSize?: number;
  /** Longest an item waits in an open batch, in milliseconds. Default 5. */
  maxDelayMs?: number;
  /** Batches sealed but not yet emitted before reading pauses. Default 4. */
  maxInFlight?: number;
  /** The field that receives the outputs. Default `score`. */
  as?: string;
  /** onnxruntime intra-op threads. Default 1. */
  threads?: number;
  /**
   * onnxruntime sessions, each in its own Worker; batches go to them in turn and come out in
   * input order. Default 1.
   */
  workers?: number;
  /**
   * Reload the model directory when its files change (`score --watch`): the new model is checked
   * and started beside the old one, then takes over between two batches; a model that fails is
   * refused with one line and the old one keeps scoring. Each score record then names the model
   * version (`model`: the hash of model.onnx).
   */
  watch?: {
    /** Milliseconds between looks at the directory. Default 1000. */
    intervalMs?: number;
    /** Told when a new model takes over. */
    onSwap?: (model: LoadedModel) => void;
  };
  /** What to do with an event that cannot be scored. Default fail. */
  onError?: ErrorPolicy;
  /** Where dead letters go when `onError` is `dead-letter`. */
  deadLetters?: DeadLetterSink;
  /** The 1-based input line of an event, for error messages (the CLI knows it). */
  lineOf?: (event: Envelope) => number | undefined;
  /** Says one skipped event on stderr (or elsewhere). */
  warn?: (message: string) => void;
  /** Stage name in errors and dead letters. Default `score`. */
  stageName?: string;
  /** Told when a model run settles: its rows and how long it took (seconds), for metrics. */
  onBatch?: (rows: number, seconds: number) => void;
  /**
   * Told of each scored batch just before it is emitted: its items (which it may replace, e.g.
   * with events that carry a trace context) and its model run, for tracing (`--otlp`).
   */
  onScored?: (out: Item[], run: ScoredRun) => void;
}

/** One model run, as {@linkcode ScoreOptions.onScored} is told of it. */
export interface ScoredRun {
  /** Model rows (events scored). */
  rows: number;
  /** When the run started, in epoch milliseconds. */
  startedMs: number;
  /** The model spec's name. */
  modelName: string;
  /** `sha256:…` of model.onnx. */
  modelVersion: string;
}

/**
 * The stream to score: items one by one, or chunks of items (arrays, in order) where the source
 * has them at hand — a chunk costs one await instead of one per item. Both may be mixed.
 */
export type ScoreInput = AsyncIterable<Item | readonly Item[]>;

/** One sealed batch: its items in order, and how many of them are model rows. */
interface Batch {
  entries: Item[];
  /** For each entry: its row in the model input, or -1 for items that pass through. */
  rows: number[];
  rowCount: number;
  /** The model that encodes and scores it. */
  engine: ScoringEngine;
  slot: InputSlot;
  result?: Promise<BatchResult>;
  /** When its model run started (epoch ms). */
  startedMs?: number;
  error?: unknown;
}

/**
 * Scores a stream. Each event gets the model's outputs under `as` (`score`): class probabilities
 * by class name and the label for classifiers, the named value for regressors.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { getPath } from "../envelope.ts";
 * import { score } from "./score.ts";
 * const model = new URL("../../models/flight-delay", import.meta.url).pathname;
 * async function* flights() {
 *   yield {
 *     id: "f1",
 *     eventTime: Date.UTC(2001, 0, 5, 17, 30),
 *     value: { origin: "ORD", destination: "SFO", distance: 1846 },
 *   };
 * }
 * const out = await Array.fromAsync(score(flights(), { model }));
 * assert.equal(out.length, 1);
 * const delayed = getPath(out[0], "score.delayed") as number;
 * assert.ok(delayed > 0);
 * assert.ok(delayed < 1);
 * ```
 */
export function score(
  input: ScoreInput,
  options: ScoreOptions,
): AsyncIterableIterator<Item> {
  // A plain iterator over the batches: a generator's `yield*` costs about 0.3 µs per item, as
  // much as encoding a small event; an item already at hand is handed out without an async
  // function's machinery.
  const batches = scoreBatches(input, options);
  let current: Item[] = [];
  let index = 0;
  const refill = async (): Promise<IteratorResult<Item>> => {
    while (index >= current.length) {
      const step = await batches.next();
      if (step.done) return { done: true, value: undefined };
      current = step.value;
      index = 0;
    }
    return { done: false, value: current[index++] };
  };
  const iterator: AsyncIterableIterator<Item> = {
    [Symbol.asyncIterator]: () => iterator,
    next(): Promise<IteratorResult<Item>> {
      if (index < current.length) return Promise.resolve({ done: false, value: current[index++] });
      return refill();
    },
    async return(): Promise<IteratorResult<Item>> {
      current = [];
      index = 0;
      await batches.return(undefined);
      return { done: true, value: undefined };
    },
  };
  return iterator;
}

/**
 * Like {@linkcode score}, one array per model batch: a caller that writes to a pipe flushes after
 * each batch instead of waiting for its write buffer to fill. With arrays in (a {@linkcode
 * ScoreInput} of chunks) and arrays out, nothing is awaited per item: the cheapest way through.
 */
export async function* scoreBatches(
  input: ScoreInput,
  options: ScoreOptions,
): AsyncGenerator<Item[]> {
  const model = typeof options.model === "string" ? await loadModel(options.model) : options.model;
  const batchSize = options.batchSize ?? 256;
  const maxDelayMs = options.maxDelayMs ?? 5;
  const maxInFlight = options.maxInFlight ?? 4;
  const as = options.as ?? "score";
  const policy = options.onError ?? { kind: "fail" };
  const stage = options.stageName ?? "score";
  const warn = options.warn ?? ((message: string) => console.error(message));
  if (policy.kind === "dead-letter" && options.deadLetters === undefined) {
    throw new ModelError("onError dead-letter needs a deadLetters sink");
  }
  const settings: EngineSettings = {
    batchSize,
    as,
    threads: options.threads ?? 1,
    workers: options.workers ?? 1,
    versioned: options.watch !== undefined,
  };
  // The sessions start while the input is read and encoded: a failure to start ends the stage
  // as soon as it is known, with nothing written.
  let engine: ScoringEngine = ScoringEngine.begin(model, settings);
  const first: ScoringEngine = engine;
  let startFailure: unknown;
  let watcher: ModelWatcher | undefined;
  if (options.watch !== undefined) {
    try {
      watcher = await ModelWatcher.start({
        dir: model.dir,
        intervalMs: options.watch.intervalMs ?? 1000,
        settings,
        warn,
      });
    } catch (err) {
      engine.close();
      throw err;
    }
  }
  const newBatch = (): Batch => ({
    entries: [],
    rows: [],
    rowCount: 0,
    engine,
    slot: engine.takeSlot(),
  });
  /** Between batches (the open one empty): the watched directory's new model, when ready. */
  const maybeSwap = () => {
    const next = watcher?.take();
    if (next === undefined) return;
    open.engine.returnSlot(open.slot);
    engine.retire();
    engine = next;
    open = newBatch();
    options.watch!.onSwap?.(next.model);
  };

  // The queue of sealed batches between the pump and the emitting loop below.
  const sealed: Batch[] = [];
  let wakeConsumer: (() => void) | undefined;
  let wakePump: (() => void) | undefined;
  let inputDone = false;
  let stopped = false;
  let open = newBatch();
  let timer: ReturnType<typeof setTimeout> | undefined;

  const seal = () => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    if (open.entries.length === 0) return;
    const batch = open;
    if (batch.rowCount > 0) {
      const started = performance.now();
      batch.startedMs = Date.now();
      batch.result = batch.engine.run(batch.slot);
      // Rejections are read in order by the emitting loop; keep them from being "unhandled".
      batch.result.then(
        () => options.onBatch?.(batch.rowCount, (performance.now() - started) / 1000),
        () => {},
      );
    } else {
      batch.engine.returnSlot(batch.slot);
    }
    sealed.push(batch);
    open = newBatch();
    maybeSwap();
    wakeConsumer?.();
  };
  const pass = (entry: Item) => {
    open.entries.push(entry);
    open.rows.push(-1);
    if (timer === undefined) timer = setTimeout(seal, maxDelayMs);
  };

  let position = 0;
  /** Takes one item into the open batch; returns a promise only when a dead letter is written. */
  const accept = (item: Item): Promise<void> | undefined => {
    if (isControl(item)) {
      pass(item);
      // Nothing to wait for in an open batch without events: let it through now.
      if (open.rowCount === 0) seal();
      return undefined;
    }
    position++;
    if (open.entries.length === 0) maybeSwap();
    const event = item as Envelope;
    const batch = open;
    const encoders = batch.engine.encoders;
    const slot = batch.slot;
    const row = batch.rowCount;
    let k = 0;
    try {
      for (; k < encoders.length; k++) {
        const { encodeSparse, columns } = encoders[k];
        slot.markCounts[k] = encodeSparse(
          event,
          slot.buffers[k],
          row * columns,
          slot.marks[k],
          slot.markCounts[k],
        );
      }
    } catch (failure) {
      if (!(failure instanceof FeatureError)) throw failure;
      // 1s it set before failing are not recorded: clear its row in every input written.
      for (let j = 0; j <= k && j < encoders.length; j++) {
        const columns = encoders[j].columns;
        const buffer = slot.buffers[j];
        if (Array.isArray(buffer)) buffer.fill("", row * columns, (row + 1) * columns);
        else buffer.fill(0, row * columns, (row + 1) * columns);
      }
      return reject(event, failure);
    }
    batch.entries.push(event);
    batch.rows.push(row);
    batch.rowCount = row + 1;
    if (row + 1 >= batchSize) seal();
    else if (timer === undefined) timer = setTimeout(seal, maxDelayMs);
    return undefined;
  };
  const reject = (event: Envelope, failure: FeatureError): Promise<void> | undefined => {
    // Name the event only now: ids and line numbers cost nothing on the happy path.
    const id = typeof event.id === "string" ? event.id : undefined;
    const line = options.lineOf?.(event);
    const err = new FeatureError(
      `${describeEvent({ id, position })}: ${failure.message}`,
      { feature: failure.feature, line, cause: failure },
    );
    if (policy.kind === "fail") throw err;
    const acknowledge = () => {
      if (id !== undefined) pass(ackRecord([id]) as ControlRecord);
    };
    if (policy.kind === "dead-letter") {
      return options.deadLetters!.write(deadLetterOf(stage, err, event)).then(acknowledge);
    }
    warn(`edgepipe ${stage}: skipped: ${describeError(err)}`);
    acknowledge();
    return undefined;
  };

  const pump = async () => {
    try {
      for await (const next of input) {
        if (!Array.isArray(next)) {
          if (stopped) return;
          const writing = accept(next as Item);
          if (writing !== undefined) await writing;
          while (sealed.length >= maxInFlight && !stopped) {
            await new Promise<void>((resolve) => wakePump = resolve);
          }
          continue;
        }
        // A chunk of items: no await per item, only when the batches in flight are full.
        const chunk = next as readonly Item[];
        for (let i = 0; i < chunk.length; i++) {
          if (stopped) return;
          const writing = accept(chunk[i]);
          if (writing !== undefined) await writing;
          while (sealed.length >= maxInFlight && !stopped) {
            await new Promise<void>((resolve) => wakePump = resolve);
          }
        }
      }
      seal();
    } catch (err) {
      seal();
      sealed.push({ ...newBatch(), error: err });
    } finally {
      inputDone = true;
      wakeConsumer?.();
    }
  };

  first.ready.catch((err) => {
    startFailure = err ?? new ModelError("the scoring sessions did not start");
    wakeConsumer?.();
  });
  const pumping = pump();
  try {
    while (true) {
      if (startFailure !== undefined) throw startFailure;
      if (sealed.length === 0) {
        if (inputDone) break;
        await new Promise<void>((resolve) => wakeConsumer = resolve);
        wakeConsumer = undefined;
        continue;
      }
      const batch = sealed[0];
      if (batch.error !== undefined) throw batch.error;
      const { entries } = batch;
      const out: Item[] = new Array(entries.length);
      if (batch.result === undefined) {
        for (let i = 0; i < entries.length; i++) out[i] = entries[i];
      } else {
        const { inputs: buffers, outputs } = await batch.result;
        // The worker hands the buffers back (transferred both ways): same contents, same marks.
        batch.slot.buffers = buffers;
        batch.engine.attach(entries, batch.rows, entries.length, outputs, out);
        batch.engine.release(batch.slot);
        options.onScored?.(out, {
          rows: batch.rowCount,
          startedMs: batch.startedMs!,
          modelName: batch.engine.model.spec.name,
          modelVersion: batch.engine.model.version,
        });
      }
      sealed.shift();
      wakePump?.();
      wakePump = undefined;
      yield out;
    }
    await pumping;
    await first.ready; // even with no event to score, a model that cannot run is an error
  } finally {
    stopped = true;
    if (timer !== undefined) clearTimeout(timer);
    wakePump?.();
    watcher?.close();
    engine.close();
    for (const batch of sealed) batch.engine.close();
  }
}
