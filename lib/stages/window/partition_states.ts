/**
 * The window state of each source partition, for `window --checkpoint-store`: one
 * {@linkcode WindowOperator} per partition (its own watermark, its own windows), restored from
 * and checkpointed to a {@linkcode SharedCheckpointStore} one partition at a time, with the
 * generation numbers that fence an old owner out (see `lib/checkpoint/shared_store.ts`).
 *
 * @module
 */
import { decodeCheckpoint, encodeCheckpoint } from "../../checkpoint/format.ts";
import type { PartitionKey, SharedCheckpointStore } from "../../checkpoint/shared_store.ts";
import { CheckpointError } from "../../checkpoint/store.ts";
import { EdgepipeError } from "../../errors.ts";
import type { Item } from "../../envelope.ts";
import type { StageProgress } from "../keyed/progress.ts";
import type { WindowOperator } from "./operator.ts";
import { nameOf } from "./partition_watermarks.ts";
import { checkConfig, restoreWindows, snapshotWindows, WINDOW_KIND } from "./snapshot.ts";

/** Claims tried before giving up when other instances keep writing the same partition. */
const CLAIM_ATTEMPTS = 5;

/** The state of one partition held here. */
export interface PartitionState {
  key: PartitionKey;
  /** `topic#partition`, as per-partition watermarks name it. */
  name: string;
  /** `topic|partition`, as the redelivery frontier names it. */
  where: string;
  op: WindowOperator;
  /** The generation last written (or claimed) in the store. */
  generation: number;
  /** Ids absorbed since the last checkpoint of this partition. */
  absorbed: string[];
  /** Something changed since the last checkpoint. */
  dirty: boolean;
}

/** What a restored partition brings besides its windows. */
export interface Adopted {
  state: PartitionState;
  /** The restored progress (undefined for a partition without checkpoints). */
  progress?: StageProgress;
  /** The generation restored (0: none). */
  restoredGeneration: number;
}

/** The partition of an envelope (`topic` and `partition`; none for files: `""`, -1). */
export function partitionKeyOf(event: { topic?: unknown; partition?: unknown }): PartitionKey {
  return {
    topic: typeof event.topic === "string" ? event.topic : "",
    partition: typeof event.partition === "number" ? event.partition : -1,
  };
}

/** The two names of a partition (see {@linkcode PartitionState}). */
export function namesOf(key: PartitionKey): { name: string; where: string } {
  return {
    name: key.topic === "" && key.partition === -1 ? "" : nameOf(key.topic, key.partition),
    where: `${key.topic}|${key.partition}`,
  };
}

/** Partition states and their store. */
export class PartitionStates {
  readonly #store: SharedCheckpointStore;
  readonly #config: string;
  readonly #makeOp: () => WindowOperator;
  /** The partitions held here, by name. */
  readonly held = new Map<string, PartitionState>();

  constructor(store: SharedCheckpointStore, config: string, makeOp: () => WindowOperator) {
    this.#store = store;
    this.#config = config;
    this.#makeOp = makeOp;
  }

  /** The store's name, for messages. */
  get where(): string {
    return this.#store.where;
  }

  /**
   * Takes a partition over: restores its newest generation (if any) into a fresh operator and
   * claims the next generation with the same content, so that an old owner still writing it is
   * fenced out. If another instance wrote that generation first, reads again.
   */
  async adopt(key: PartitionKey): Promise<Adopted> {
    for (let attempt = 0; attempt < CLAIM_ATTEMPTS; attempt++) {
      const newest = await this.#store.newest(key);
      const op = this.#makeOp();
      const { name, where } = namesOf(key);
      let progress: StageProgress | undefined;
      let bytes: Uint8Array;
      if (newest !== undefined) {
        try {
          const data = decodeCheckpoint(newest.bytes, WINDOW_KIND);
          checkConfig(data, this.#config);
          progress = restoreWindows(op, data);
        } catch (cause) {
          if (!(cause instanceof EdgepipeError)) throw cause;
          throw new CheckpointError(
            `the newest checkpoint of ${name} (generation ${newest.generation} in ` +
              `${this.#store.where}) cannot be used: ${(cause as Error).message}`,
            { cause },
          );
        }
        bytes = newest.bytes;
      } else {
        const empty = { inputCount: 0, outputPosition: 0, pendingAcks: [] };
        bytes = encodeCheckpoint(snapshotWindows(op, empty, this.#config));
      }
      const generation = (newest?.generation ?? 0) + 1;
      if (await this.#store.put(key, generation, bytes) === "written") {
        const state: PartitionState = {
          key,
          name,
          where,
          op,
          generation,
          absorbed: [],
          dirty: false,
        };
        this.held.set(name, state);
        return { state, progress, restoredGeneration: newest?.generation ?? 0 };
      }
    }
    throw new CheckpointError(
      `could not take partition ${namesOf(key).name} over: other instances kept writing its ` +
        `checkpoints in ${this.#store.where}; is it owned by two of them?`,
    );
  }

  /**
   * Encodes a checkpoint of `state` now (it may share arrays with live state) and takes its
   * absorbed ids; `progress` brings the outbox, unconfirmed acks and frontier of the partition.
   */
  snapshot(
    state: PartitionState,
    progress: { outbox: Item[]; unconfirmed: string[]; frontier?: string },
  ): { generation: number; bytes: Uint8Array; ids: string[] } {
    const ids = state.absorbed;
    const stage: StageProgress = {
      inputCount: 0,
      outputPosition: 0,
      pendingAcks: [...progress.unconfirmed, ...ids],
      outbox: progress.outbox,
      ...(progress.frontier === undefined
        ? {}
        : { frontier: { [state.where]: progress.frontier } }),
    };
    const bytes = encodeCheckpoint(snapshotWindows(state.op, stage, this.#config));
    state.absorbed = [];
    state.dirty = false;
    return { generation: ++state.generation, bytes, ids };
  }

  /** Writes a snapshot; `"fenced"` when another instance owns the partition now. */
  put(state: PartitionState, generation: number, bytes: Uint8Array): Promise<"written" | "fenced"> {
    return this.#store.put(state.key, generation, bytes);
  }

  /** Lets go of a partition's state. */
  drop(name: string): void {
    this.held.delete(name);
  }

  /** Releases the store. */
  close(): void {
    this.#store.close();
  }
}
