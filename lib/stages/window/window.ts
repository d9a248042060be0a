/**
 * `window`: keyed event-time windows as a stage, with late events sent to a side output and,
 * optionally, file-backed checkpoints. See `docs/windows.md` and `docs/checkpoints.md`.
 *
 * Acknowledgements: an event absorbed into window state is acknowledged in-band only once that
 * state is safe — after the checkpoint that holds it is durable, or, without checkpoints, right
 * after the result of the last window holding it has been emitted and the window closed.
 *
 * @module
 */
import { encodeCheckpoint } from "../../checkpoint/format.ts";
import { CheckpointStore, type Restored } from "../../checkpoint/store.ts";
import type { DeadLetterSink, ErrorPolicy } from "../../dead_letter.ts";
import { deadLetterOf } from "../../dead_letter.ts";
import { ackRecord, type Envelope, isControl, type Item } from "../../envelope.ts";
import { InputError } from "../../errors.ts";
import type { Stage } from "../types.ts";
import { parseAggregates } from "./aggregates.ts";
import type { WindowShape } from "./assign.ts";
import { eventTimeReader, keyReader } from "./event_fields.ts";
import { TICK, withIdleTicks } from "./idle_ticks.ts";
import { WindowOperator } from "./operator.ts";
import { Rejects } from "./rejects.ts";
import { checkConfig, restoreWindows, snapshotWindows, WINDOW_KIND } from "./snapshot.ts";

/** Where events too late for any window go. */
export type LatePolicy = { kind: "emit" } | { kind: "dead-letter"; sink: DeadLetterSink };

/** Checkpointing of a window stage. */
export interface WindowCheckpointing {
  store: CheckpointStore;
  /** The checkpoint to resume from (see {@linkcode openWindowCheckpoints}). */
  restored?: Restored;
  /** Wall-clock time between checkpoints (default 1000 ms). */
  intervalMs?: number;
  /**
   * Writes out everything emitted so far and returns its position (e.g. the byte length of an
   * output file), recorded in the checkpoint. Without it the position is the item count.
   */
  flushOutput?: () => Promise<number>;
  /** Makes the output written so far durable (fsync); runs before the checkpoint is written. */
  syncOutput?: () => Promise<void>;
}

/** Options of {@linkcode window}. */
export interface WindowOptions {
  /** Dotted path (falls back to `value.<path>`) or CEL expression giving the key. */
  key: string;
  shape: WindowShape;
  /** Aggregations, e.g. `count(), avg(value.delay)`. */
  aggregates: string;
  /** Event-time field (default `eventTime`, falling back to `publishTime`). */
  time?: string;
  outOfOrderness?: number;
  allowedLateness?: number;
  earlyEvery?: number;
  idleKeyTtl?: number;
  /** Events without a usable key, time or value (default `fail`). */
  onError?: ErrorPolicy;
  deadLetters?: DeadLetterSink;
  /** Events later than the allowed lateness (default: emitted downstream with `late: true`). */
  late?: LatePolicy;
  checkpoint?: WindowCheckpointing;
  /** How long the input may idle before a due checkpoint is written anyway (default 200 ms). */
  idleMs?: number;
  /**
   * An output buffer to flush when the input goes quiet, so that results do not wait for more
   * input (the command passes its stdout writer; one idle watch serves both purposes).
   */
  flushWhenIdle?: { buffered: number; flush(): Promise<void> };
}

/** The settings that a checkpoint must have been written with to be restored. */
export function windowConfig(options: WindowOptions): string {
  return JSON.stringify({
    key: options.key,
    shape: options.shape,
    aggregates: options.aggregates,
    time: options.time ?? "eventTime",
    outOfOrderness: options.outOfOrderness ?? 0,
    allowedLateness: options.allowedLateness ?? 0,
    earlyEvery: options.earlyEvery ?? 0,
    idleKeyTtl: options.idleKeyTtl ?? 0,
  });
}

/**
 * Opens a window stage's checkpoint directory and loads its newest valid checkpoint, if any.
 * The returned `outputPosition` is where the output stood at that checkpoint.
 */
export async function openWindowCheckpoints(
  dir: string,
  options: WindowOptions,
  warn?: (message: string) => void,
): Promise<{ store: CheckpointStore; restored?: Restored; outputPosition: number }> {
  const store = await CheckpointStore.open(dir, WINDOW_KIND, warn);
  const config = windowConfig(options);
  const restored = await store.restore((data) => checkConfig(data, config));
  const outputPosition = (restored?.json.outputPosition as number | undefined) ?? 0;
  return { store, restored, outputPosition };
}

/**
 * A keyed window stage.
 *
 * @example
 * ```ts
 * import { window } from "./window.ts";
 * const perOrigin = window({
 *   key: "origin",
 *   shape: { kind: "tumbling", size: 3_600_000 },
 *   aggregates: "count(), avg(value.delay)",
 * });
 * const events = [
 *   { eventTime: 0, value: { origin: "SFO", delay: 10 } },
 *   { eventTime: 60_000, value: { origin: "SFO", delay: 20 } },
 * ];
 * for await (const result of perOrigin(ReadableStream.from(events))) {
 *   console.assert(JSON.stringify(result).includes('"avg_value_delay":15'));
 * }
 * ```
 */
export function window(options: WindowOptions): Stage {
  const spec = parseAggregates(options.aggregates);
  const keyOf = keyReader(options.key);
  const timeOf = eventTimeReader(options.time);
  const checkpoint = options.checkpoint;
  const config = windowConfig(options);
  const intervalMs = checkpoint?.intervalMs ?? 1000;
  const late = options.late ?? { kind: "emit" };

  return async function* (input: AsyncIterable<Item>): AsyncGenerator<Item> {
    const rejects = new Rejects("window", options.onError ?? { kind: "fail" }, options.deadLetters);
    const op = new WindowOperator({
      shape: options.shape,
      aggregates: spec,
      keyOf,
      timeOf,
      outOfOrderness: options.outOfOrderness,
      allowedLateness: options.allowedLateness,
      earlyEvery: options.earlyEvery,
      idleKeyTtl: options.idleKeyTtl,
      trackIds: checkpoint === undefined,
    });
    let inputCount = 0;
    let emitted = 0;
    let skip = 0;
    let absorbed: string[] = [];
    let redelivered: Set<string> | undefined;
    let dirty = false;
    let lastCheckpoint = performance.now();

    if (checkpoint?.restored) {
      const progress = restoreWindows(op, checkpoint.restored);
      inputCount = skip = progress.inputCount;
      if (progress.pendingAcks.length > 0) {
        // Acks that may not have left before the stop: send them again (acks are idempotent).
        emitted++;
        yield ackRecord(progress.pendingAcks);
        redelivered = new Set(progress.pendingAcks);
      }
    }

    // Checkpoints are snapshotted between two events, then written (and fsynced) in the
    // background while events keep flowing; their acks are released once the write is durable.
    let writing: Promise<void> | undefined;
    let durable: string[] | undefined;
    let writeError: unknown;
    const startCheckpoint = async (): Promise<void> => {
      const outputPosition = checkpoint!.flushOutput ? await checkpoint!.flushOutput() : emitted;
      // Encode now: the snapshot shares arrays (quantile samples) with the live state.
      const bytes = encodeCheckpoint(
        snapshotWindows(op, { inputCount, outputPosition, pendingAcks: absorbed }, config),
      );
      const ids = absorbed;
      absorbed = [];
      lastCheckpoint = performance.now();
      dirty = false;
      writing = (async () => {
        await checkpoint!.syncOutput?.();
        await checkpoint!.store.write(bytes);
      })().then(() => void (durable = ids), (err) => void (writeError = err ?? "write failed"));
    };
    /** The ack record for a checkpoint that became durable, if one did. */
    const takeDurable = (): Item | undefined => {
      if (writeError !== undefined) throw writeError;
      if (durable === undefined) return undefined;
      const ids = durable;
      durable = undefined;
      writing = undefined;
      return ids.length > 0 ? ackRecord(ids) : undefined;
    };
    const due = () =>
      checkpoint !== undefined && writing === undefined &&
      performance.now() - lastCheckpoint >= intervalMs;

    let first = true;
    const writer = options.flushWhenIdle;
    const wantsTick = () =>
      (checkpoint !== undefined && (dirty || writing !== undefined)) ||
      (writer !== undefined && writer.buffered > 0);
    for await (const item of withIdleTicks(input, options.idleMs ?? 200, wantsTick)) {
      if (item === TICK) {
        await writer?.flush();
        const ack = takeDurable();
        if (ack) (emitted++, yield ack);
        if (dirty && due()) await startCheckpoint();
        continue;
      }
      if (first) {
        first = false;
        // A source that acknowledges (hello) redelivers what was not acked: nothing to skip.
        if (isControl(item) && item.$edgepipe === "hello") skip = 0;
        else redelivered = undefined;
      }
      if (skip > 0) {
        skip--;
        continue;
      }
      inputCount++;
      if (isControl(item)) {
        emitted++;
        yield item;
        continue;
      }
      const id = typeof item.id === "string" ? item.id : undefined;
      if (id !== undefined && redelivered?.has(id)) {
        emitted++;
        yield ackRecord([id]);
        continue;
      }
      let outcome: "absorbed" | "late" | "rejected";
      try {
        outcome = op.process(item);
      } catch (error) {
        if (!(error instanceof InputError)) throw error;
        await rejects.reject(item, error);
        outcome = "rejected";
      }
      const out = op.out;
      if (out.length > 0) {
        op.out = [];
        for (let i = 0; i < out.length; i++) {
          emitted++;
          yield out[i];
        }
      }
      if (outcome === "absorbed") {
        dirty = true;
        if (checkpoint && id !== undefined) absorbed.push(id);
      } else if (outcome === "late") {
        if (late.kind === "emit") {
          emitted++;
          yield { ...item, late: true } as Envelope;
        } else {
          await late.sink.write(
            deadLetterOf("window", new InputError(lateReason(op.watermark)), item),
          );
          if (id !== undefined) (emitted++, yield ackRecord([id]));
        }
      } else if (id !== undefined) {
        emitted++;
        yield ackRecord([id]);
      }
      if (writing !== undefined) {
        const ack = takeDurable();
        if (ack) (emitted++, yield ack);
      }
      if (due()) await startCheckpoint();
    }
    op.flushAll();
    for (const item of op.out) {
      emitted++;
      yield item;
    }
    op.out = [];
    if (checkpoint) {
      await writing;
      const previous = takeDurable();
      if (previous) (emitted++, yield previous);
      await startCheckpoint();
      await writing;
      const ack = takeDurable();
      if (ack) yield ack;
    }
  };
}

function lateReason(watermark: number): string {
  return `late event: its windows closed (watermark ${watermark}, beyond --allowed-lateness)`;
}
