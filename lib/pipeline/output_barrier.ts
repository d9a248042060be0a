/**
 * Makes a checkpointed window stage safe in one process. A window checkpoint forgets the windows
 * it has already emitted, so those results must be delivered by the sink before the checkpoint
 * that follows them counts; otherwise a crash in between would lose them (their events are
 * acknowledged with the checkpoint, and the restored state no longer holds their windows).
 *
 * When the window snapshots a checkpoint (`flushOutput`), a barrier record is put into its output
 * stream right after what it emitted so far. Stages pass control records through in order, so
 * when the barrier reaches the sink end, everything before it has been handed to the sink. The
 * checkpoint's `syncOutput` then flushes the sink and waits until those sends have settled.
 *
 * @module
 */
import type { Envelope, Item } from "../envelope.ts";
import { EdgepipeError } from "../errors.ts";
import type { Sink } from "../sinks/types.ts";
import type { Stage } from "../stages/types.ts";

const BARRIER = "barrier";

interface Waiter {
  /** Sends issued before the barrier reached the sink end; undefined until it does. */
  sendsBefore?: number;
}

/** The output could not be confirmed before a checkpoint (the pipeline is stopping). */
export class OutputBarrierError extends EdgepipeError {}

/**
 * One barrier channel per pipeline: {@linkcode OutputBarriers.after} wraps a window's output,
 * {@linkcode OutputBarriers.atSink} wraps the items and the sink of the terminal delivery.
 */
export class OutputBarriers {
  readonly #waiters = new Map<string, Waiter>();
  #issued = 0;
  readonly #pending = new Set<number>();
  #changed: (() => void)[] = [];
  #sink: Sink | undefined;
  #closed: unknown;
  #next = 0;

  /**
   * The window's checkpoint hooks plus the stage that carries its barriers. Use the returned
   * stage on the window's output, the hooks as `flushOutput` / `syncOutput`.
   */
  forWindow(): {
    stage: (window: Stage) => Stage;
    flushOutput: () => Promise<number>;
    syncOutput: () => Promise<void>;
  } {
    const queued: string[] = [];
    let wake: (() => void) | undefined;
    let last: string | undefined;
    const flushOutput = (): Promise<number> => {
      const token = `b${this.#next++}`;
      this.#waiters.set(token, {});
      queued.push(token);
      last = token;
      wake?.();
      return Promise.resolve(this.#next);
    };
    const syncOutput = async (): Promise<void> => {
      if (last === undefined) return;
      const token = last;
      const waiter = this.#waiters.get(token)!;
      await this.#until(() => waiter.sendsBefore !== undefined);
      await this.#sink?.flush();
      const limit = waiter.sendsBefore!;
      // Sends are numbered in order and a Set iterates in insertion order: its first is the oldest.
      await this.#until(() => {
        const oldest = this.#pending.values().next();
        return oldest.done === true || oldest.value >= limit;
      });
      this.#waiters.delete(token);
    };
    const stage = (window: Stage): Stage => (input) => {
      const iterator = window(input)[Symbol.asyncIterator]();
      return (async function* (): AsyncGenerator<Item> {
        let pending: Promise<IteratorResult<Item>> | undefined;
        while (true) {
          if (queued.length > 0) {
            yield { $edgepipe: BARRIER, token: queued.shift()! };
            continue;
          }
          // Armed before the window runs: it may snapshot synchronously inside next().
          const barrier = new Promise<"barrier">((resolve) => (wake = () => resolve("barrier")));
          pending ??= iterator.next();
          const winner = await Promise.race([pending, barrier]);
          wake = undefined;
          if (winner === "barrier") continue;
          pending = undefined;
          if (winner.done) return;
          yield winner.value;
        }
      })();
    };
    return { stage, flushOutput, syncOutput };
  }

  /** Wraps the terminal delivery's input and sink; barriers stop here. */
  atSink(items: AsyncIterable<Item>, sink: Sink): { items: AsyncIterable<Item>; sink: Sink } {
    this.#sink = sink;
    const counted: Sink = {
      description: sink.description,
      send: (event: Envelope) => this.#send(sink, event),
      flush: () => sink.flush(),
      close: () => sink.close(),
    };
    return { items: this.#withoutBarriers(items), sink: counted };
  }

  #send(sink: Sink, event: Envelope): Promise<void> {
    const seq = this.#issued++;
    this.#pending.add(seq);
    const settle = () => {
      this.#pending.delete(seq);
      this.#notify();
    };
    let sent: Promise<void>;
    try {
      sent = sink.send(event);
    } catch (err) {
      sent = Promise.reject(err);
    }
    sent.then(settle, settle);
    return sent;
  }

  async *#withoutBarriers(items: AsyncIterable<Item>): AsyncGenerator<Item> {
    let completed = false;
    try {
      for await (const item of items) {
        const record = item as { $edgepipe?: unknown; token?: unknown };
        if (record.$edgepipe === BARRIER && typeof record.token === "string") {
          const waiter = this.#waiters.get(record.token);
          if (waiter) {
            waiter.sendsBefore = this.#issued;
            this.#notify();
          }
          continue;
        }
        yield item;
      }
      completed = true;
    } finally {
      // Stopped early (a failure downstream): checkpoints still waiting can never complete.
      // At a normal end the sends still settle, and the delivery loop waits for them.
      if (!completed) {
        this.#closed ??= new OutputBarrierError(
          "the pipeline stopped before a checkpoint's output was delivered",
        );
        this.#notify();
      }
    }
  }

  /** Resolves once `ready()` holds, checked whenever something settles; rejects on stop. */
  #until(ready: () => boolean): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (ready()) resolve();
        else if (this.#closed !== undefined) reject(this.#closed);
        else this.#changed.push(check);
      };
      check();
    });
  }

  #notify(): void {
    const listeners = this.#changed;
    this.#changed = [];
    for (const listener of listeners) listener();
  }
}
