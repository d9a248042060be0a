/**
 * The settings of a window stage, and opening its checkpoint directory.
 *
 * @module
 */
import { CheckpointStore, type Restored, type RestoreOptions } from "../../checkpoint/store.ts";
import type { DeadLetterSink, ErrorPolicy } from "../../dead_letter.ts";
import type { Envelope, HelloRecord } from "../../envelope.ts";
import type { WindowShape } from "./assign.ts";
import { checkConfig, WINDOW_KIND } from "./snapshot.ts";

/**
 * Where events too late for any window go: `drop` (the default) acknowledges and counts them
 * (one stderr line, and the total at the end), `dead-letter` writes them to a side output, `emit`
 * sends them on with the results, marked `"late": true`.
 */
export type LatePolicy =
  | { kind: "drop" }
  | { kind: "emit" }
  | { kind: "dead-letter"; sink: DeadLetterSink };

/** Checkpointing of a window stage. */
export interface WindowCheckpointing {
  /** Where the generations are written. */
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
  /** Behind a relay: most results that may wait for the terminal's report (default 100,000). */
  maxOutbox?: number;
  /**
   * Behind a relay, after the last item: ends the output and waits until the terminal stage has
   * reported what it delivered; a last checkpoint then drops those results from the outbox.
   */
  drain?: () => Promise<void>;
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
  /** Tumbling, sliding or session windows, sizes in ms. */
  shape: WindowShape;
  /** Aggregations, e.g. `count(), avg(value.delay)`. */
  aggregates: string;
  /** Event-time field (default `eventTime`, falling back to `publishTime`). */
  time?: string;
  /** How far (ms) events may arrive out of order before the watermark passes them. */
  outOfOrderness?: number;
  /** How long (ms) after its end a window still takes late events. */
  allowedLateness?: number;
  /** Emit early (partial) results this often, ms of event time. */
  earlyEvery?: number;
  /** Session state of a key idle this long (ms) is dropped. */
  idleKeyTtl?: number;
  /**
   * `partition` (default): one watermark per source partition (the envelope's topic and
   * partition), the window's being their minimum; `global`: one watermark over all events.
   * Events without topic and partition are one partition, so both agree on them.
   */
  watermark?: "partition" | "global";
  /** With `partition`: a partition without events for this long (wall clock, ms) stops holding
   * the watermark back (timing-dependent; default 0, never). */
  idleTimeoutMs?: number;
  /** With `partition`: once the whole input has been quiet this long (ms), the watermark moves
   * on with the wall clock (timing-dependent; default 0, never). */
  idleAdvanceMs?: number;
  /** Events without a usable key, time or value (default `fail`). */
  onError?: ErrorPolicy;
  /** Where dead letters go under `dead-letter`. */
  deadLetters?: DeadLetterSink;
  /** An event's input line, named in errors and dead letters (the CLI knows it). */
  lineOf?: (event: Envelope) => number | undefined;
  /** Events later than the allowed lateness (default: dropped and counted). */
  late?: LatePolicy;
  /** Where the stage says things (late events dropped, paused reading); default stderr. */
  log?: (message: string) => void;
  /** File-backed state, restored on restart. */
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
 * Opens (and locks) a window stage's checkpoint directory and loads its newest checkpoint, if
 * any; a corrupt newest one is an error unless `restore.fallback`. The returned
 * `outputPosition` is where the output stood at that checkpoint. The stage made with the store
 * closes it (releasing the lock) when its stream ends.
 */
export async function openWindowCheckpoints(
  dir: string,
  options: WindowOptions,
  warn?: (message: string) => void,
  restore: RestoreOptions = {},
): Promise<{ store: CheckpointStore; restored?: Restored; outputPosition: number }> {
  const store = await CheckpointStore.open(dir, WINDOW_KIND, warn);
  const config = windowConfig(options);
  try {
    const restored = await store.restore((data) => checkConfig(data, config), restore);
    const outputPosition = (restored?.json.outputPosition as number | undefined) ?? 0;
    return { store, restored, outputPosition };
  } catch (error) {
    store.close();
    throw error;
  }
}
