/**
 * When and what `window --checkpoint-store` checkpoints: every interval, each partition whose
 * state changed is snapshotted between two events and written in the background, one partition
 * after the other; the ids a written checkpoint holds are released (acknowledged) once it is
 * durable. A write that finds its generation taken means that another instance owns the
 * partition now: its ids are not released (the new owner has them redelivered) and the partition
 * is let go of here.
 *
 * @module
 */
import type { Item } from "../../envelope.ts";
import type { Outbox } from "./outbox.ts";
import type { PartitionState, PartitionStates } from "./partition_states.ts";
import type { Redeliveries } from "./redeliveries.ts";

/** Makes the ack record for ids of a partition (relay bookkeeping included). */
type Release = (ids: string[], partition?: string) => Item;

interface Written {
  state: PartitionState;
  ids: string[];
  fenced: boolean;
}

/** The checkpoints of the partitions held by one window stage. */
export class PartitionCheckpoints {
  readonly #states: PartitionStates;
  readonly #outbox: Outbox;
  readonly #redeliveries: Redeliveries;
  readonly #intervalMs: number;
  /** Result id → the partition whose window it is (relay mode). */
  readonly #results = new Map<string, string>();
  /** Acks released and not yet seen relayed → their partition (relay mode). */
  readonly #unconfirmed = new Map<string, string>();
  #writing: Promise<void> | undefined;
  #done: Written[] | undefined;
  #error: unknown;
  #last = performance.now();
  /** Called for a partition another instance took over (fenced out). */
  onFenced: (state: PartitionState) => void = () => {};

  constructor(
    states: PartitionStates,
    outbox: Outbox,
    redeliveries: Redeliveries,
    intervalMs: number,
  ) {
    this.#states = states;
    this.#outbox = outbox;
    this.#redeliveries = redeliveries;
    this.#intervalMs = intervalMs;
  }

  /** A result of `partition`'s windows was given id `id`. */
  resultOf(id: string, partition: string): void {
    this.#results.set(id, partition);
  }

  /** The terminal reported a result delivered: its partition's outbox changed. */
  delivered(id: string): void {
    const partition = this.#results.get(id);
    if (partition === undefined) return;
    this.#results.delete(id);
    const state = this.#states.held.get(partition);
    if (state) state.dirty = true;
  }

  /** Acks of `partition` released in-band (kept in its checkpoints until relayed). */
  unconfirmed(ids: string[], partition: string): void {
    for (const id of ids) this.#unconfirmed.set(id, partition);
  }

  /** An ack came back from the terminal and went on to the source. */
  relayed(id: string): void {
    this.#unconfirmed.delete(id);
  }

  /** Whether something waits to be checkpointed or released. */
  get pending(): boolean {
    return this.#writing !== undefined || this.#anyDirty();
  }

  #anyDirty(): boolean {
    for (const state of this.#states.held.values()) if (state.dirty) return true;
    return false;
  }

  #snapshot(state: PartitionState) {
    const outbox: Item[] = [];
    for (const item of this.#outbox.items()) {
      if (this.#results.get((item as { id?: string }).id ?? "") === state.name) outbox.push(item);
    }
    const unconfirmed: string[] = [];
    for (const [id, partition] of this.#unconfirmed) {
      if (partition === state.name) unconfirmed.push(id);
    }
    return this.#states.snapshot(state, {
      outbox,
      unconfirmed,
      frontier: this.#redeliveries.frontierOf(state.where),
    });
  }

  /** Snapshots `states` now and writes them one after the other in the background. */
  #start(states: PartitionState[]): void {
    const snaps = states.map((state) => ({ state, ...this.#snapshot(state) }));
    this.#last = performance.now();
    this.#writing = (async () => {
      const done: Written[] = [];
      for (const { state, generation, bytes, ids } of snaps) {
        const outcome = await this.#states.put(state, generation, bytes);
        done.push({ state, ids, fenced: outcome === "fenced" });
      }
      return done;
    })().then((done) => void (this.#done = done), (err) => void (this.#error = err ?? "failed"));
  }

  /** The acks of what became durable; fenced partitions are let go of. */
  *#take(release: Release): Generator<Item> {
    if (this.#error !== undefined) throw this.#error;
    const done = this.#done;
    if (done === undefined) return;
    this.#done = undefined;
    this.#writing = undefined;
    for (const { state, ids, fenced } of done) {
      if (fenced) {
        if (this.#states.held.get(state.name) === state) this.onFenced(state);
      } else if (ids.length > 0) yield release(ids, state.name);
    }
  }

  /** Releases what became durable, and starts a checkpoint when one is due. */
  *maybe(release: Release): Generator<Item> {
    if (this.#writing !== undefined) yield* this.#take(release);
    if (this.#writing !== undefined || performance.now() - this.#last < this.#intervalMs) return;
    const dirty = [...this.#states.held.values()].filter((state) => state.dirty);
    if (dirty.length > 0) this.#start(dirty);
  }

  /** Waits for the checkpoint being written and releases its acks. */
  async *settled(release: Release): AsyncGenerator<Item> {
    await this.#writing;
    yield* this.#take(release);
  }

  /** Writes one partition now (after {@linkcode settled}); its ids if written, else none. */
  async writeOne(state: PartitionState): Promise<string[]> {
    const { generation, bytes, ids } = this.#snapshot(state);
    return await this.#states.put(state, generation, bytes) === "written" ? ids : [];
  }

  /** Writes every changed partition now and waits; their acks. */
  async *all(release: Release): AsyncGenerator<Item> {
    yield* this.settled(release);
    const dirty = [...this.#states.held.values()].filter((state) => state.dirty);
    if (dirty.length === 0) return;
    this.#start(dirty);
    yield* this.settled(release);
  }
}
