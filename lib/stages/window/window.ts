/**
 * `window`: keyed event-time windows as a stage, with late events sent to a side output and,
 * optionally, file-backed checkpoints. See `docs/windows.md` and `docs/checkpoints.md`.
 *
 * Acknowledgements: an event absorbed into window state is acknowledged in-band only once that
 * state is safe — after the checkpoint that holds it is durable, or, without checkpoints, right
 * after the result of the last window holding it has been emitted and the window closed.
 *
 * Behind an acknowledging source (`hello`) with checkpoints and a relay factory, the stage is an
 * ack relay: it writes its own hello, gives each result an id, and keeps the results that the
 * terminal has not yet reported delivered (the outbox) in every checkpoint; a restored outbox is
 * emitted again first. See `docs/checkpoints.md`.
 *
 * @module
 */
import { encodeCheckpoint } from "../../checkpoint/format.ts";
import { CheckpointStore, type Restored } from "../../checkpoint/store.ts";
import type { DeadLetterSink, ErrorPolicy } from "../../dead_letter.ts";
import { deadLetterOf } from "../../dead_letter.ts";
import {
  ackRecord,
  type Envelope,
  type HelloRecord,
  isControl,
  type Item,
} from "../../envelope.ts";
import { InputError } from "../../errors.ts";
import type { Stage } from "../types.ts";
import { parseAggregates } from "./aggregates.ts";
import type { WindowShape } from "./assign.ts";
import { eventTimeReader, keyReader } from "./event_fields.ts";
import { TICK, withIdleTicks } from "./idle_ticks.ts";
import { WindowOperator } from "./operator.ts";
import { Rejects } from "./rejects.ts";
import {
  checkConfig,
  restoreWindows,
  snapshotWindows,
  type StageProgress,
  WINDOW_KIND,
} from "./snapshot.ts";

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
  /**
   * Opens the ack relay when the input starts with a source's `hello` (see
   * {@linkcode WindowRelayFactory}). Without it the hello is passed on as by any stage.
   */
  relay?: WindowRelayFactory;
}

/** What a window stage needs of an ack relay (`lib/delivery/ack_relay.ts` in the command). */
export type WindowRelayFactory = (
  upstream: HelloRecord,
  routes: {
    /** Ids starting with it are the stage's own results. */
    ownPrefix: string;
    /** A result id came back from the terminal: that result is delivered. */
    onDelivered: (id: string) => void;
    /** Any other id came back and was relayed to the source. */
    onRelayed: (id: string) => void;
  },
) => Promise<{ hello(): HelloRecord }>;

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
  /** An event's input line, named in errors and dead letters (the CLI knows it). */
  lineOf?: (event: Envelope) => number | undefined;
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
    const rejects = new Rejects(
      "window",
      options.onError ?? { kind: "fail" },
      options.deadLetters,
      options.lineOf,
    );
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

    // Ack relay state: results not yet reported delivered (by id, in emission order), and acks
    // released in-band that have not come back from the terminal yet.
    let relaying = false;
    const outbox = new Map<string, Item>();
    const unconfirmed = new Set<string>();
    let relayId: string = crypto.randomUUID().slice(0, 8);
    const run = crypto.randomUUID().slice(0, 8);
    let sequence = 0;
    /** In relay mode, gives each result an id and keeps it until the terminal reports it. */
    const track = (item: Item): Item => {
      if (relaying && !isControl(item)) {
        const id = `w:${relayId}:${run}:${sequence++}`;
        (item as Envelope).id = id;
        outbox.set(id, item);
      }
      return item;
    };
    /** An ack record for ids whose journey ends here; in relay mode remembered until relayed. */
    const release = (ids: string[]): Item => {
      if (relaying) { for (const id of ids) unconfirmed.add(id); }
      return ackRecord(ids);
    };

    let restoredAcks: string[] = [];
    let restoredOutbox: Item[] = [];
    if (checkpoint?.restored) {
      const progress = restoreWindows(op, checkpoint.restored);
      inputCount = skip = progress.inputCount;
      restoredAcks = progress.pendingAcks;
      restoredOutbox = progress.outbox ?? [];
      if (progress.relayId !== undefined) relayId = progress.relayId;
      if (restoredAcks.length > 0) redelivered = new Set(restoredAcks);
    }

    // With a relay factory, look at the first item before anything is emitted: a source's hello
    // makes this stage a relay, whose own hello must come first.
    let source: AsyncIterable<Item> = input;
    let head: IteratorResult<Item> | undefined;
    if (checkpoint?.relay) {
      const iterator = input[Symbol.asyncIterator]();
      const first = await iterator.next();
      head = first;
      source = {
        [Symbol.asyncIterator]: () => {
          let pending: IteratorResult<Item> | undefined = first;
          return {
            next: () => {
              if (pending === undefined) return iterator.next();
              const next = pending;
              pending = undefined;
              return Promise.resolve(next);
            },
            return: (value?: unknown) =>
              iterator.return?.(value) ?? Promise.resolve({ done: true, value: undefined }),
          };
        },
      };
    }
    if (
      checkpoint?.relay && head && !head.done && isControl(head.value) &&
      head.value.$edgepipe === "hello" && typeof head.value.ack === "string"
    ) {
      relaying = true;
      const opened = await checkpoint.relay(head.value as HelloRecord, {
        ownPrefix: `w:${relayId}:`,
        onDelivered: (id) => void outbox.delete(id),
        onRelayed: (id) => void unconfirmed.delete(id),
      });
      emitted++;
      yield opened.hello();
      // Results the terminal may not have delivered before the stop: emit them again first.
      for (const item of restoredOutbox) {
        outbox.set((item as Envelope).id as string, item);
        emitted++;
        yield item;
      }
    }
    if (restoredAcks.length > 0) {
      // Acks that may not have left before the stop: send them again (acks are idempotent).
      emitted++;
      yield release(restoredAcks);
    }

    // Checkpoints are snapshotted between two events, then written (and fsynced) in the
    // background while events keep flowing; their acks are released once the write is durable.
    let writing: Promise<void> | undefined;
    let durable: string[] | undefined;
    let writeError: unknown;
    const startCheckpoint = async (): Promise<void> => {
      const outputPosition = checkpoint!.flushOutput ? await checkpoint!.flushOutput() : emitted;
      // Encode now: the snapshot shares arrays (quantile samples) with the live state.
      const progress: StageProgress = { inputCount, outputPosition, pendingAcks: absorbed };
      if (relaying) {
        // Acks released but not yet seen relayed may be lost with this process: keep them too.
        progress.pendingAcks = [...unconfirmed, ...absorbed];
        progress.outbox = [...outbox.values()];
        progress.relayId = relayId;
      }
      const bytes = encodeCheckpoint(snapshotWindows(op, progress, config));
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
      return ids.length > 0 ? release(ids) : undefined;
    };
    const due = () =>
      checkpoint !== undefined && writing === undefined &&
      performance.now() - lastCheckpoint >= intervalMs;

    let first = true;
    let sinceClockRead = 0;
    let emittedAtClockRead = 0;
    const writer = options.flushWhenIdle;
    const wantsTick = () =>
      (checkpoint !== undefined && (dirty || writing !== undefined)) ||
      (writer !== undefined && writer.buffered > 0);
    for await (const item of withIdleTicks(source, options.idleMs ?? 200, wantsTick)) {
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
        if (isControl(item) && item.$edgepipe === "hello") {
          skip = 0;
          // The relay wrote its own hello in place of this one.
          if (relaying) continue;
        } else redelivered = undefined;
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
        yield release([id]);
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
          yield track(out[i]);
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
      // Reading the clock per event costs more than a cheap aggregation: look every 64 events,
      // and whenever something was emitted (results waiting in an outbox want a checkpoint soon).
      if (checkpoint !== undefined && (++sinceClockRead >= 64 || emitted !== emittedAtClockRead)) {
        sinceClockRead = 0;
        emittedAtClockRead = emitted;
        if (due()) await startCheckpoint();
      }
    }
    op.flushAll();
    for (const item of op.out) {
      emitted++;
      yield track(item);
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
