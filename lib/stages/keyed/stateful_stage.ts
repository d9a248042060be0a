/**
 * The shell every keyed, stateful stage runs in (`window`, `join`, `pattern`): input and control
 * records, acknowledgements, checkpoints, the ack relay with its outbox, redeliveries, late events
 * and the end of the stream. The stage brings an operator ({@linkcode StatefulOperator}) that holds
 * the keyed state and says what became of each event; everything else is the same for all of them.
 *
 * Acknowledgements: an event absorbed into state is acknowledged in-band only once that state is
 * safe — after the checkpoint that holds it is durable, or, without checkpoints, when the operator
 * lets go of it (it then puts an ack record into its output itself).
 *
 * Behind an acknowledging source (`hello`) with checkpoints and a relay factory, the stage is an
 * ack relay: it writes its own hello, gives each result an id, and keeps the results that the
 * terminal has not yet reported delivered (the outbox) in every checkpoint; a restored outbox is
 * emitted again first. See `docs/checkpoints.md`.
 *
 * @module
 */
import { encodeCheckpoint } from "../../checkpoint/format.ts";
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
import type { Stage } from "../types.ts";
import { StreamEnd, UpstreamEndedError } from "../upstream_end.ts";
import { TICK, withIdleTicks } from "../idle_ticks.ts";
import { Outbox } from "../window/outbox.ts";
import { Redeliveries } from "../window/redeliveries.ts";
import { peekFirst } from "../window/peek_first.ts";
import { Rejects } from "../window/rejects.ts";
import type { StatefulStageOptions } from "./stateful_options.ts";
import type { StageProgress } from "./progress.ts";

export { type KeyedState, type StatefulOperator, withCheckpoints } from "./stateful_operator.ts";
import type { StatefulOperator } from "./stateful_operator.ts";

/**
 * Runs `operator` as a stage. `trackIds` tells the operator factory whether it must acknowledge
 * the ids it lets go of itself (no checkpoints).
 */
export function statefulStage(
  makeOperator: (trackIds: boolean) => StatefulOperator,
  options: StatefulStageOptions,
): Stage {
  const checkpoint = options.checkpoint;
  return async function* (input: AsyncIterable<Item>): AsyncGenerator<Item> {
    try {
      yield* run(makeOperator(checkpoint === undefined), options, input);
    } finally {
      checkpoint?.store.close();
    }
  };
}

async function* run(
  op: StatefulOperator,
  options: StatefulStageOptions,
  input: AsyncIterable<Item>,
): AsyncGenerator<Item> {
  const name = options.name;
  const checkpoint = options.checkpoint;
  const intervalMs = checkpoint?.intervalMs ?? 1000;
  const late = options.late ?? { kind: "drop" };
  const lateMeaning = options.lateMeaning ?? "beyond --allowed-lateness";
  const rejects = new Rejects(
    name,
    options.onError ?? { kind: "fail" },
    options.deadLetters,
    options.lineOf,
  );
  const log = options.log ?? ((message: string) => console.error(message));
  const stream = new StreamEnd();
  let inputCount = 0;
  let emitted = 0;
  let skip = 0;
  let absorbed: string[] = [];
  let dirty = false;
  let lateDropped = 0;
  let lastCheckpoint = performance.now();

  // Ack relay state: results not yet reported delivered (the outbox), and acks released
  // in-band that have not come back from the terminal yet.
  let relaying = false;
  const outbox = new Outbox(checkpoint?.maxOutbox);
  const unconfirmed = new Set<string>();
  let relayId: string = crypto.randomUUID().slice(0, 8);
  const runId = crypto.randomUUID().slice(0, 8);
  let sequence = 0;
  const prefix = options.resultIdPrefix ?? "w";
  /** In relay mode, gives each result an id and keeps it until the terminal reports it. */
  const track = (item: Item): Item => {
    if (relaying && !isControl(item)) {
      (item as Envelope).id = `${prefix}:${relayId}:${runId}:${sequence++}`;
      outbox.add(item);
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
  let redeliveries = new Redeliveries();
  if (checkpoint?.restored) {
    const progress = op.restore(checkpoint.restored);
    inputCount = skip = progress.inputCount;
    restoredAcks = progress.pendingAcks;
    restoredOutbox = progress.outbox ?? [];
    if (progress.relayId !== undefined) relayId = progress.relayId;
    redeliveries = new Redeliveries(progress.frontier, restoredAcks);
  }

  // With a relay factory, look at the first item before anything is emitted: a source's hello
  // makes this stage a relay, whose own hello must come first.
  const { source, head } = checkpoint?.relay ? await peekFirst(input) : { source: input };
  if (
    checkpoint?.relay && head && !head.done && isControl(head.value) &&
    head.value.$edgepipe === "hello" && typeof head.value.ack === "string"
  ) {
    relaying = true;
    const opened = await checkpoint.relay(head.value as HelloRecord, {
      ownPrefix: `${prefix}:${relayId}:`,
      onDelivered: (id) => outbox.delivered(id),
      onRelayed: (id) => void unconfirmed.delete(id),
    });
    emitted++;
    yield opened.hello();
    // Results the terminal may not have delivered before the stop: emit them again first.
    for (const item of restoredOutbox) {
      outbox.add(item);
      emitted++;
      yield item;
    }
  }
  // Acks that may not have left before the stop: sent again first (acks are idempotent).
  let ackAfterFirst = restoredAcks.length > 0;
  if (relaying && ackAfterFirst) {
    ackAfterFirst = false;
    emitted++;
    yield release(restoredAcks);
  }

  // Checkpoints are snapshotted between two events, then written (and fsynced) in the
  // background while events keep flowing; their acks are released once the write is durable.
  let writing: Promise<void> | undefined;
  let durable: string[] | undefined;
  let writeError: unknown;
  const startCheckpoint = async (): Promise<void> => {
    const started = performance.now();
    const outputPosition = checkpoint!.flushOutput ? await checkpoint!.flushOutput() : emitted;
    // Encode now: the snapshot may share arrays with the live state.
    const progress: StageProgress = { inputCount, outputPosition, pendingAcks: absorbed };
    if (stream.behindSource) progress.frontier = redeliveries.frontier();
    if (relaying) {
      // Acks released but not yet seen relayed may be lost with this process: keep them too.
      progress.pendingAcks = [...unconfirmed, ...absorbed];
      progress.outbox = outbox.items();
      progress.relayId = relayId;
    }
    const bytes = encodeCheckpoint(op.snapshot(progress));
    const ids = absorbed;
    absorbed = [];
    lastCheckpoint = performance.now();
    dirty = false;
    writing = (async () => {
      await checkpoint!.syncOutput?.();
      await checkpoint!.store.write(bytes);
      options.observer?.checkpointed((performance.now() - started) / 1000, bytes.length);
    })().then(() => void (durable = ids), (err) => void (writeError = err ?? "write failed"));
  };
  /** The ids of a checkpoint that became durable, if one did. */
  const takeDurableIds = (): string[] => {
    if (writeError !== undefined) throw writeError;
    if (durable === undefined) return [];
    const ids = durable;
    durable = undefined;
    writing = undefined;
    return ids;
  };
  /** The ack record for a checkpoint that became durable, if one did. */
  const takeDurable = (): Item | undefined => {
    const ids = takeDurableIds();
    return ids.length > 0 ? release(ids) : undefined;
  };
  /** Writes a checkpoint now and waits for it; the ack record it releases, if any. */
  const checkpointNow = async (): Promise<Item | undefined> => {
    await writing;
    const ids = takeDurableIds();
    await startCheckpoint();
    await writing;
    ids.push(...takeDurableIds());
    return ids.length > 0 ? release(ids) : undefined;
  };
  const due = () =>
    checkpoint !== undefined && writing === undefined &&
    performance.now() - lastCheckpoint >= intervalMs;

  /** The operator's results so far, emitted. */
  function* takeOut(): Generator<Item> {
    const out = op.out;
    if (out.length === 0) return;
    op.out = [];
    for (const item of out) (emitted++, yield track(item));
  }
  /** Before a checkpoint: the operator handles what it batched, and its results go out first. */
  function* flushOp(): Generator<Item> {
    if (op.flush === undefined) return;
    op.flush();
    yield* takeOut();
  }

  let first = true;
  let sinceClockRead = 0;
  let emittedAtClockRead = 0;
  const writer = options.flushWhenIdle;
  const wantsTick = () =>
    (checkpoint !== undefined && (dirty || writing !== undefined)) ||
    (writer !== undefined && writer.buffered > 0) || op.wantsTick?.() === true;
  const ticks = withIdleTicks(source, options.idleMs ?? 200, wantsTick);
  // Items at hand are taken without a promise (`pull`); `for await` would make one per item.
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
        if (op.tick) {
          op.tick();
          if (op.out.length > 0) dirty = true;
          yield* takeOut();
        }
        await writer?.flush();
        const ack = takeDurable();
        if (ack) (emitted++, yield ack);
        if (dirty && due()) {
          yield* flushOp();
          await startCheckpoint();
        }
        continue;
      }
      stream.see(item);
      if (first) {
        first = false;
        // A source that acknowledges (hello) redelivers what was not acked: nothing to skip.
        if (isControl(item) && item.$edgepipe === "hello") {
          skip = 0;
          redeliveries.activate();
          // The relay wrote its own hello in place of this one.
          if (relaying) continue;
        } else if (ackAfterFirst) {
          ackAfterFirst = false;
          emitted++;
          yield release(restoredAcks);
        }
      }
      if (skip > 0) {
        skip--;
        continue;
      }
      inputCount++;
      if (isControl(item)) {
        op.control?.(item);
        // The end goes on after the results that the end itself causes.
        if (!isEnd(item)) (emitted++, yield item);
        if (ackAfterFirst) {
          // Behind a hello that this stage passes on: after it.
          ackAfterFirst = false;
          emitted++;
          yield release(restoredAcks);
        }
        continue;
      }
      const id = typeof item.id === "string" ? item.id : undefined;
      if (id !== undefined && redeliveries.check(item, id)) {
        // Handled before this restart (or earlier in this run): acknowledge it again, once more.
        emitted++;
        yield release([id]);
        continue;
      }
      let outcome: "absorbed" | "late" | "done" | "rejected";
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
        options.observer?.late();
        if (late.kind === "emit") {
          emitted++;
          yield { ...item, late: true } as Envelope;
        } else {
          if (late.kind === "dead-letter") {
            await late.sink.write(
              deadLetterOf(name, new InputError(lateReason(op.watermark, lateMeaning)), item),
            );
          } else if (lateDropped++ === 0) log(lateDroppedLine(name, lateMeaning));
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
      if (relaying && outbox.full) {
        // Memory stays bounded: stop reading until the terminal reports deliveries.
        await writer?.flush();
        log(
          `edgepipe ${name}: ${outbox.size} results wait for the terminal stage's report; ` +
            `reading paused until it catches up`,
        );
        await outbox.room();
      }
      // Reading the clock per event costs more than a cheap aggregation: look every 64 events,
      // and whenever something was emitted (results waiting in an outbox want a checkpoint soon).
      if (checkpoint !== undefined && (++sinceClockRead >= 64 || emitted !== emittedAtClockRead)) {
        sinceClockRead = 0;
        emittedAtClockRead = emitted;
        if (due()) {
          yield* flushOp();
          await startCheckpoint();
        }
      }
    }
  } finally {
    // As `for await` does when its body throws or the consumer stops early.
    if (!drained) await ticks.return();
  }
  if (lateDropped > 0) log(`edgepipe ${name}: ${lateDropped} late events dropped (--late drop)`);
  if (redeliveries.count > 0) {
    log(
      `edgepipe ${name}: ${redeliveries.count} redelivered events were already counted; ` +
        `acknowledged again, not counted twice`,
    );
  }
  if (!stream.ended) {
    // The process feeding this stage died: nothing is final. Keep the state, fire nothing.
    if (checkpoint) {
      yield* flushOp();
      const ack = await checkpointNow();
      if (ack) yield ack;
      if (relaying && checkpoint.drain) {
        await checkpoint.drain();
        await checkpointNow();
      }
    }
    throw new UpstreamEndedError(upstreamEnded(checkpoint?.store.dir));
  }
  op.flushAll();
  for (const item of op.out) {
    emitted++;
    yield track(item);
  }
  op.out = [];
  if (checkpoint) {
    const ack = await checkpointNow();
    if (ack) (emitted++, yield ack);
  }
  const end = stream.record;
  if (end) (emitted++, yield end);
  if (checkpoint && relaying && checkpoint.drain) {
    // Once the terminal has reported, what it delivered leaves the outbox for good: a restart
    // with no new input emits nothing.
    await checkpoint.drain();
    await checkpointNow();
  }
}

function lateDroppedLine(name: string, meaning: string): string {
  return `edgepipe ${name}: late events (${meaning}) are dropped and ` +
    "counted (--late drop, the default); keep them with --late dead-letter=<file>, or send them " +
    "on with the results with --late emit";
}

function upstreamEnded(dir: string | undefined): string {
  const kept = dir === undefined
    ? "their events were not acknowledged and come again when the pipe is restarted"
    : `their state is kept in the checkpoint ${dir}; restart the pipe to go on`;
  return "the input ended without its source's end record (the process feeding this " +
    `stage stopped), so this is not the end of the stream: nothing held in state was emitted, ${kept}`;
}

function lateReason(watermark: number, meaning: string): string {
  return `late event: ${meaning} (watermark ${watermark})`;
}
