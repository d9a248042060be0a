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
import { Outbox } from "./outbox.ts";
import { Redeliveries } from "./redeliveries.ts";
import { parseAggregates } from "./aggregates.ts";
import { eventTimeReader, keyReader } from "./event_fields.ts";
import { TICK, withIdleTicks } from "../idle_ticks.ts";
import { WindowOperator } from "./operator.ts";
import { PartitionWatermarks } from "./partition_watermarks.ts";
import { isPartitionsRecord } from "../../partitions_record.ts";
import { Rejects } from "./rejects.ts";
import { restoreWindows, snapshotWindows, type StageProgress } from "./snapshot.ts";
import { windowConfig, type WindowOptions } from "./window_options.ts";
import { peekFirst } from "./peek_first.ts";

export {
  type LatePolicy,
  openWindowCheckpoints,
  type WindowCheckpointing,
  windowConfig,
  type WindowOptions,
  type WindowRelayFactory,
} from "./window_options.ts";

/**
 * A keyed window stage.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
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
 * const results = await Array.fromAsync(perOrigin(ReadableStream.from(events)));
 * assert.equal(results.length, 1);
 * assert.ok(JSON.stringify(results[0]).includes('"avg_value_delay":15'));
 * ```
 */
export function window(options: WindowOptions): Stage {
  const spec = parseAggregates(options.aggregates);
  const keyOf = keyReader(options.key);
  const timeOf = eventTimeReader(options.time);
  const checkpoint = options.checkpoint;
  const config = windowConfig(options);
  const intervalMs = checkpoint?.intervalMs ?? 1000;
  const late = options.late ?? { kind: "drop" };

  const stage = async function* (input: AsyncIterable<Item>): AsyncGenerator<Item> {
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
      ...(options.watermark === "global" ? {} : {
        watermarks: new PartitionWatermarks({
          outOfOrderness: options.outOfOrderness ?? 0,
          idleTimeoutMs: options.idleTimeoutMs,
          idleAdvanceMs: options.idleAdvanceMs,
        }),
      }),
    });
    /** Idleness of partitions is judged on the wall clock: read it when quiet and every so often. */
    const clocked = op.watermarks?.wantsTicks === true;
    let sinceWatermarkClock = 0;
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
    const run = crypto.randomUUID().slice(0, 8);
    let sequence = 0;
    /** In relay mode, gives each result an id and keeps it until the terminal reports it. */
    const track = (item: Item): Item => {
      if (relaying && !isControl(item)) {
        (item as Envelope).id = `w:${relayId}:${run}:${sequence++}`;
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
      const progress = restoreWindows(op, checkpoint.restored);
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
        ownPrefix: `w:${relayId}:`,
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
      const outputPosition = checkpoint!.flushOutput ? await checkpoint!.flushOutput() : emitted;
      // Encode now: the snapshot shares arrays (quantile samples) with the live state.
      const progress: StageProgress = { inputCount, outputPosition, pendingAcks: absorbed };
      if (stream.behindSource) progress.frontier = redeliveries.frontier();
      if (relaying) {
        // Acks released but not yet seen relayed may be lost with this process: keep them too.
        progress.pendingAcks = [...unconfirmed, ...absorbed];
        progress.outbox = outbox.items();
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

    /** Results the operator produced outside an event (a clock tick). */
    const takeOut = function* (): Generator<Item> {
      const out = op.out;
      if (out.length === 0) return;
      op.out = [];
      for (const item of out) {
        emitted++;
        yield track(item);
      }
    };

    let first = true;
    let sinceClockRead = 0;
    let emittedAtClockRead = 0;
    const writer = options.flushWhenIdle;
    const wantsTick = () =>
      clocked || (checkpoint !== undefined && (dirty || writing !== undefined)) ||
      (writer !== undefined && writer.buffered > 0);
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
          if (clocked) {
            op.tick(Date.now());
            yield* takeOut();
          }
          await writer?.flush();
          const ack = takeDurable();
          if (ack) (emitted++, yield ack);
          if (dirty && due()) await startCheckpoint();
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
          if (isPartitionsRecord(item)) op.watermarks?.announce(item.partitions);
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
        let outcome: "absorbed" | "late" | "rejected";
        try {
          outcome = op.process(item);
        } catch (error) {
          if (!(error instanceof InputError)) throw error;
          await rejects.reject(item, error);
          outcome = "rejected";
        }
        if (clocked && ++sinceWatermarkClock >= 64) {
          sinceWatermarkClock = 0;
          op.tick(Date.now());
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
            if (late.kind === "dead-letter") {
              await late.sink.write(
                deadLetterOf("window", new InputError(lateReason(op.watermark)), item),
              );
            } else if (lateDropped++ === 0) log(LATE_DROPPED);
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
            `edgepipe window: ${outbox.size} results wait for the terminal stage's report; ` +
              `reading paused until it catches up`,
          );
          await outbox.room();
        }
        // Reading the clock per event costs more than a cheap aggregation: look every 64 events,
        // and whenever something was emitted (results waiting in an outbox want a checkpoint soon).
        if (
          checkpoint !== undefined && (++sinceClockRead >= 64 || emitted !== emittedAtClockRead)
        ) {
          sinceClockRead = 0;
          emittedAtClockRead = emitted;
          if (due()) await startCheckpoint();
        }
      }
    } finally {
      // As `for await` does when its body throws or the consumer stops early.
      if (!drained) await ticks.return();
    }
    if (lateDropped > 0) log(`edgepipe window: ${lateDropped} late events dropped (--late drop)`);
    if (redeliveries.count > 0) {
      log(
        `edgepipe window: ${redeliveries.count} redelivered events were already counted; ` +
          `acknowledged again, not counted twice`,
      );
    }
    if (!stream.ended) {
      // The process feeding this stage died: nothing is final. Keep the state, fire nothing.
      if (checkpoint) {
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
  };
  return async function* (input: AsyncIterable<Item>): AsyncGenerator<Item> {
    try {
      yield* stage(input);
    } finally {
      checkpoint?.store.close();
    }
  };
}

const LATE_DROPPED = "edgepipe window: late events (beyond --allowed-lateness) are dropped and " +
  "counted (--late drop, the default); keep them with --late dead-letter=<file>, or send them " +
  "on with the results with --late emit";

function upstreamEnded(dir: string | undefined): string {
  const kept = dir === undefined
    ? "their events were not acknowledged and come again when the pipe is restarted"
    : `their state is kept in the checkpoint ${dir}; restart the pipe to go on`;
  return "the input ended without its source's end record (the process feeding this " +
    `stage stopped), so this is not the end of the stream: no open window was fired, ${kept}`;
}

function lateReason(watermark: number): string {
  return `late event: its windows closed (watermark ${watermark}, beyond --allowed-lateness)`;
}
