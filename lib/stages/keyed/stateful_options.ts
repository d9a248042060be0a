/**
 * The settings every stateful stage shares (late events, bad events, checkpoints, the ack relay),
 * and opening a stage's checkpoint directory.
 *
 * @module
 */
import type { CheckpointData } from "../../checkpoint/format.ts";
import { CheckpointFormatError } from "../../checkpoint/format.ts";
import { CheckpointStore, type Restored, type RestoreOptions } from "../../checkpoint/store.ts";
import type { DeadLetterSink, ErrorPolicy } from "../../dead_letter.ts";
import type { Envelope, HelloRecord } from "../../envelope.ts";
import type { StateObserver } from "../../observe/state_observer.ts";

/**
 * Where events too late for any state go: `drop` (the default) acknowledges and counts them
 * (one stderr line, and the total at the end), `dead-letter` writes them to a side output, `emit`
 * sends them on with the results, marked `"late": true`.
 */
export type LatePolicy =
  | { kind: "drop" }
  | { kind: "emit" }
  | { kind: "dead-letter"; sink: DeadLetterSink };

/** Checkpointing of a stateful stage. */
export interface StatefulCheckpointing {
  /** Where the generations are written. */
  store: CheckpointStore;
  /** The checkpoint to resume from (see {@linkcode openStageCheckpoints}). */
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
   * {@linkcode StageRelayFactory}). Without it the hello is passed on as by any stage.
   */
  relay?: StageRelayFactory;
  /** Behind a relay: most results that may wait for the terminal's report (default 100,000). */
  maxOutbox?: number;
  /**
   * Behind a relay, after the last item: ends the output and waits until the terminal stage has
   * reported what it delivered; a last checkpoint then drops those results from the outbox.
   */
  drain?: () => Promise<void>;
}

/** What a stateful stage needs of an ack relay (`lib/delivery/ack_relay.ts` in the command). */
export type StageRelayFactory = (
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

/** The options of the shell ({@linkcode statefulStage}) every stateful stage runs in. */
export interface StatefulStageOptions {
  /** The stage name, in messages and dead letters. */
  name: string;
  /** First part of result ids behind an ack relay (default `w`). */
  resultIdPrefix?: string;
  /** Events the operator cannot use (default `fail`). */
  onError?: ErrorPolicy;
  /** Where dead letters go under `dead-letter`. */
  deadLetters?: DeadLetterSink;
  /** An event's input line, named in errors and dead letters (the CLI knows it). */
  lineOf?: (event: Envelope) => number | undefined;
  /** Events too late for the state (default: dropped and counted). */
  late?: LatePolicy;
  /** What makes an event late, in messages (default `beyond --allowed-lateness`). */
  lateMeaning?: string;
  /** Where the stage says things (late events dropped, paused reading); default stderr. */
  log?: (message: string) => void;
  /** File-backed state, restored on restart. */
  checkpoint?: StatefulCheckpointing;
  /** How long the input may idle before a due checkpoint is written anyway (default 200 ms). */
  idleMs?: number;
  /**
   * An output buffer to flush when the input goes quiet, so that results do not wait for more
   * input (the command passes its stdout writer; one idle watch serves both purposes).
   */
  flushWhenIdle?: { buffered: number; flush(): Promise<void> };
  /** Told of late events and checkpoints, and given the state to sample (for metrics). */
  observer?: StateObserver;
}

/** Throws unless `data` was written with the same `config`. */
export function checkConfig(data: CheckpointData, config: string, stage = "window"): void {
  if (data.json.config !== config) {
    throw new CheckpointFormatError(
      `written with other ${stage} settings (${data.json.config}), now ${config}`,
    );
  }
}

/**
 * Opens (and locks) a stage's checkpoint directory and loads its newest checkpoint of `kind`
 * written with `config`, if any; a corrupt newest one is an error unless `restore.fallback`. The
 * returned `outputPosition` is where the output stood at that checkpoint. The stage made with the
 * store closes it (releasing the lock) when its stream ends.
 */
export async function openStageCheckpoints(
  dir: string,
  kind: string,
  config: string,
  warn?: (message: string) => void,
  restore: RestoreOptions = {},
  stage = "window",
): Promise<{ store: CheckpointStore; restored?: Restored; outputPosition: number }> {
  const store = await CheckpointStore.open(dir, kind, warn);
  try {
    const restored = await store.restore((data) => checkConfig(data, config, stage), restore);
    const outputPosition = (restored?.json.outputPosition as number | undefined) ?? 0;
    return { store, restored, outputPosition };
  } catch (error) {
    store.close();
    throw error;
  }
}
