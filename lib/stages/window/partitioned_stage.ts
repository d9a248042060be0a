/**
 * The window stage with state that follows its partition (`window --checkpoint-store`): the
 * windows of each source partition live in their own operator and are checkpointed, partition by
 * partition, to a shared store. A partition is restored from its newest checkpoint at its first
 * event, before that event is absorbed (the broker sends a Failover partition's events to its
 * active consumer only); a `partitions` record (from `consume --announce-partitions`) that no
 * longer names a partition held here makes it lost: a final checkpoint, then its state is
 * dropped. See docs/scaling.md.
 *
 * As in every stateful stage (`lib/stages/keyed/stateful_stage.ts`), an event is acknowledged
 * only once a checkpoint holding it is durable, and behind an ack relay the results not yet
 * reported delivered (the outbox) are part of the checkpoints: each partition's own results in
 * its own checkpoint, so that its next owner emits them again.
 *
 * @module
 */
import { deadLetterOf } from "../../dead_letter.ts";
import {
  ackRecord,
  type Envelope,
  type HelloRecord,
  isControl,
  isEnd,
  type Item,
} from "../../envelope.ts";
import { InputError } from "../../errors.ts";
import { isPartitionsRecord } from "../../partitions_record.ts";
import type { Stage } from "../types.ts";
import { StreamEnd, UpstreamEndedError } from "../upstream_end.ts";
import { TICK, withIdleTicks } from "../idle_ticks.ts";
import type { StatefulStageOptions } from "../keyed/stateful_options.ts";
import { Outbox } from "./outbox.ts";
import { peekFirst } from "./peek_first.ts";
import { Redeliveries } from "./redeliveries.ts";
import { Rejects } from "./rejects.ts";
import {
  namesOf,
  partitionKeyOf,
  type PartitionState,
  type PartitionStates,
} from "./partition_states.ts";
import { PartitionCheckpoints } from "./partition_checkpoints.ts";

/** Checkpointing to a shared store, per partition. */
export interface PartitionedCheckpointing {
  states: PartitionStates;
  /** Wall-clock time between checkpoints (default 1000 ms). */
  intervalMs?: number;
  relay?: NonNullable<StatefulStageOptions["checkpoint"]>["relay"];
  maxOutbox?: number;
  drain?: () => Promise<void>;
}

/** Runs the window with per-partition state; `options.checkpoint` is not used. */
export function partitionedWindowStage(
  partitioned: PartitionedCheckpointing,
  options: StatefulStageOptions,
): Stage {
  return async function* (input: AsyncIterable<Item>): AsyncGenerator<Item> {
    try {
      yield* run(partitioned, options, input);
    } finally {
      partitioned.states.close();
    }
  };
}

async function* run(
  cp: PartitionedCheckpointing,
  options: StatefulStageOptions,
  input: AsyncIterable<Item>,
): AsyncGenerator<Item> {
  const name = options.name;
  const states = cp.states;
  const late = options.late ?? { kind: "drop" };
  const rejects = new Rejects(
    name,
    options.onError ?? { kind: "fail" },
    options.deadLetters,
    options.lineOf,
  );
  const log = options.log ?? ((message: string) => console.error(message));
  const stream = new StreamEnd();
  let lateDropped = 0;
  let strays = 0;
  /** The partitions announced as this instance's (undefined before any record: all). */
  let owned: Set<string> | undefined;

  let relaying = false;
  const outbox = new Outbox(cp.maxOutbox);
  const redeliveries = new Redeliveries();
  const relayId = crypto.randomUUID().slice(0, 8);
  const runId = crypto.randomUUID().slice(0, 8);
  let sequence = 0;
  const prefix = options.resultIdPrefix ?? "w";
  const checkpoints = new PartitionCheckpoints(states, outbox, redeliveries, cp.intervalMs ?? 1000);
  /**
   * Partitions another instance took over while this one still held them: not taken back until
   * a partitions record names them again (two owners would fence each other in turn).
   */
  const fenced = new Set<string>();
  checkpoints.onFenced = (state) => {
    states.drop(state.name);
    redeliveries.forget(state.where);
    fenced.add(state.name);
    log(`edgepipe ${name}: partition ${state.name} is owned by another instance now; let go`);
  };
  /** In relay mode, gives each result an id and keeps it (with its partition) until delivered. */
  const track = (item: Item, state: PartitionState): Item => {
    if (relaying && !isControl(item)) {
      const id = `${prefix}:${relayId}:${runId}:${sequence++}`;
      (item as Envelope).id = id;
      outbox.add(item);
      checkpoints.resultOf(id, state.name);
    }
    return item;
  };
  const release = (ids: string[], partition?: string): Item => {
    if (relaying && partition !== undefined) checkpoints.unconfirmed(ids, partition);
    return ackRecord(ids);
  };

  const { source, head } = cp.relay ? await peekFirst(input) : { source: input };
  if (
    cp.relay && head && !head.done && isControl(head.value) &&
    head.value.$edgepipe === "hello" && typeof head.value.ack === "string"
  ) {
    relaying = true;
    const opened = await cp.relay(head.value as HelloRecord, {
      ownPrefix: `${prefix}:${relayId}:`,
      onDelivered: (id) => (outbox.delivered(id), checkpoints.delivered(id)),
      onRelayed: (id) => checkpoints.relayed(id),
    });
    yield opened.hello();
  }

  /** Takes a partition over: its restored results and acks go out first. */
  async function* adopt(key: ReturnType<typeof partitionKeyOf>): AsyncGenerator<Item> {
    const { state, progress } = await states.adopt(key);
    redeliveries.adopt(state.where, progress?.frontier?.[state.where], progress?.pendingAcks ?? []);
    for (const item of progress?.outbox ?? []) yield track(item, state);
    const acks = progress?.pendingAcks ?? [];
    if (acks.length > 0) yield release(acks, state.name);
  }
  /** Final checkpoint of a partition that went elsewhere, then its state is dropped. */
  async function* letGo(state: PartitionState): AsyncGenerator<Item> {
    yield* checkpoints.settled(release);
    yield* takeOut(state);
    const ids = await checkpoints.writeOne(state);
    if (ids.length > 0) yield release(ids, state.name);
    states.drop(state.name);
    redeliveries.forget(state.where);
  }
  function* takeOut(state: PartitionState): Generator<Item> {
    const out = state.op.out;
    if (out.length === 0) return;
    state.op.out = [];
    state.dirty = true;
    for (const item of out) yield track(item, state);
  }

  const writer = options.flushWhenIdle;
  const wantsTick = () => checkpoints.pending || (writer !== undefined && writer.buffered > 0);
  const ticks = withIdleTicks(source, options.idleMs ?? 200, wantsTick);
  let first = true;
  let drained = false;
  try {
    for (;;) {
      let item: Item | typeof TICK | undefined = ticks.pull();
      if (item === undefined) {
        const next = await ticks.next();
        if (next.done) {
          drained = true;
          break;
        }
        item = next.value;
      }
      if (item === TICK) {
        await writer?.flush();
        yield* checkpoints.maybe(release);
        continue;
      }
      stream.see(item);
      if (first) {
        first = false;
        if (isControl(item) && item.$edgepipe === "hello") {
          redeliveries.activate();
          if (relaying) continue;
        }
      }
      if (isControl(item)) {
        if (isPartitionsRecord(item)) {
          owned = new Set(item.partitions.map((p) => namesOf(p).name));
          for (const partition of owned) fenced.delete(partition);
          for (const state of [...states.held.values()]) {
            if (!owned.has(state.name)) yield* letGo(state);
          }
          // A gained partition is restored at its first event, not here: a consumer counts as
          // active until the broker says otherwise, so a record may name partitions that are
          // not this instance's, and claiming them would fence their owners out.
        }
        if (!isEnd(item)) yield item;
        continue;
      }
      const key = partitionKeyOf(item);
      const partition = namesOf(key).name;
      if ((owned !== undefined && !owned.has(partition)) || fenced.has(partition)) {
        // Buffered before the partition went elsewhere: its new owner has it redelivered.
        strays++;
        continue;
      }
      let state = states.held.get(partition);
      if (state === undefined) {
        yield* adopt(key);
        state = states.held.get(partition)!;
      }
      const id = typeof item.id === "string" ? item.id : undefined;
      if (id !== undefined && redeliveries.check(item, id)) {
        yield release([id], partition);
        continue;
      }
      let outcome: "absorbed" | "late" | "rejected";
      try {
        outcome = state.op.process(item);
      } catch (error) {
        if (!(error instanceof InputError)) throw error;
        await rejects.reject(item, error);
        outcome = "rejected";
      }
      yield* takeOut(state);
      if (outcome === "absorbed") {
        state.dirty = true;
        if (id !== undefined) state.absorbed.push(id);
      } else if (outcome === "late") {
        options.observer?.late();
        if (late.kind === "emit") yield { ...item, late: true } as Envelope;
        else {
          if (late.kind === "dead-letter") {
            const reason =
              `late event: beyond --allowed-lateness (watermark ${state.op.watermark})`;
            await late.sink.write(deadLetterOf(name, new InputError(reason), item));
          } else if (lateDropped++ === 0) {
            log(`edgepipe ${name}: late events are dropped and counted (--late drop)`);
          }
          if (id !== undefined) yield ackRecord([id]);
        }
      } else if (id !== undefined) yield ackRecord([id]);
      yield* checkpoints.maybe(release);
      if (relaying && outbox.full) {
        await writer?.flush();
        log(`edgepipe ${name}: ${outbox.size} results wait for the terminal stage's report`);
        await outbox.room();
      }
    }
  } finally {
    if (!drained) await ticks.return();
  }
  if (lateDropped > 0) log(`edgepipe ${name}: ${lateDropped} late events dropped (--late drop)`);
  if (redeliveries.count > 0) {
    log(
      `edgepipe ${name}: ${redeliveries.count} redelivered events were already counted; ` +
        `acknowledged again, not counted twice`,
    );
  }
  if (strays > 0) {
    log(`edgepipe ${name}: ${strays} events of partitions gone elsewhere left to their owner`);
  }
  if (!stream.ended) {
    yield* checkpoints.all(release);
    if (relaying && cp.drain) {
      await cp.drain();
      for await (const _ of checkpoints.all(release));
    }
    throw new UpstreamEndedError(
      "the input ended without its source's end record (the process feeding this stage " +
        `stopped): nothing held in state was emitted; it is kept in ${states.where}`,
    );
  }
  const held = [...states.held.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
  for (const state of held) {
    state.op.flushAll();
    yield* takeOut(state);
  }
  yield* checkpoints.all(release);
  if (stream.record) yield stream.record;
  if (relaying && cp.drain) {
    await cp.drain();
    for await (const _ of checkpoints.all(release));
  }
}
