/**
 * Terminal delivery: the last stage of a pipeline sends events to a sink and reports the ids of
 * what it delivered back to the source, never ahead of anything that came before them.
 *
 * @module
 */
import { type Envelope, isControl, type Item } from "../envelope.ts";
import { describeError } from "../errors.ts";
import { BrokenPipeError } from "../ndjson.ts";
import {
  deadLetterOf,
  type DeadLetterSink,
  type ErrorPolicy,
  FileDeadLetterSink,
} from "../dead_letter.ts";
import type { Sink } from "../sinks/types.ts";
import { AckReporter } from "./ack_reporter.ts";
import { AckServer, type AckSink } from "./ack_server.ts";
import { DeliveryError } from "./errors.ts";

/** Options of {@linkcode deliverAll}. All are optional. */
export interface DeliverOptions {
  /** Command name used in messages and dead letters (default `sink`). */
  stage?: string;
  /** What to do when the sink rejects an event (default `fail`). */
  onError?: ErrorPolicy;
  /**
   * Where rejected events go with `dead-letter=…`. When absent, the policy's target is taken as
   * a file path and opened (and closed) here.
   */
  deadLetters?: DeadLetterSink;
  /** Sends unsettled at once before reading more input (default 1000): the backpressure bound. */
  maxInFlight?: number;
  /** Stop reading input when aborted (SIGINT/SIGTERM); in-flight sends still settle and report. */
  signal?: AbortSignal;
  /** Where warnings and skip notices go (default: stderr). */
  log?: (message: string) => void;
  /** Called as events settle, for metrics. */
  observer?: DeliveryObserver;
  /**
   * Exactly-once: refuse to send an event that no `txn` control record placed in a transaction
   * (the source was not started with `--guarantee exactly-once`).
   */
  requireTransaction?: boolean;
}

/** Hooks for metrics; each is optional. */
export interface DeliveryObserver {
  /** An event was read from the input. */
  received?(event: Envelope): void;
  /** The sink confirmed an event. */
  delivered?(event: Envelope): void;
  /** The sink rejected an event, and what became of it. */
  rejected?(event: Envelope, error: unknown, outcome: "skipped" | "dead-lettered" | "failed"): void;
  /** `count` ids were reported to their source. */
  acknowledged?(count: number): void;
}

/** What {@linkcode deliverAll} did. */
export interface DeliveryReport {
  /** Events read from the input. */
  events: number;
  /** Events the sink confirmed. */
  delivered: number;
  /** Events rejected by the sink and skipped (`--on-error skip`). */
  skipped: number;
  /** Events rejected by the sink and written to the dead-letter target. */
  deadLettered: number;
  /** Ids handed back to the source over the ack channel. */
  acknowledged: number;
  /** True when the signal stopped the input early. */
  interrupted: boolean;
}

const PENDING = 0;
const SETTLED = 1;
const FAILED = 2;

interface Entry {
  ids: string[];
  reporter: AckSink | undefined;
  state: number;
  error?: unknown;
}

/**
 * Sends every event of `items` to `sink` and reports delivered ids to the source named by the
 * stream's `hello` record. In-band `ack` records are reported once everything before them has
 * settled. Flushes the sink at the end but does not close it. Rejects with
 * {@linkcode DeliveryError} when a send fails under `--on-error fail` (after reporting everything
 * delivered before it), and with {@linkcode BrokenPipeError} when the sink's reader went away.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { deliverAll } from "./terminal.ts";
 * import type { Envelope, Item } from "../envelope.ts";
 * import type { Sink } from "../sinks/types.ts";
 * const seen: Envelope[] = [];
 * const sink: Sink = {
 *   description: "memory",
 *   send: (event) => { seen.push(event); return Promise.resolve(); },
 *   flush: () => Promise.resolve(),
 *   close: () => Promise.resolve(),
 * };
 * const items: Item[] = [{ value: 1 }, { $edgepipe: "ack", ids: [] }, { value: 2 }];
 * const report = await deliverAll(items, sink);
 * assert.equal(report.delivered, 2);
 * assert.equal(seen.length, 2);
 * ```
 */
export async function deliverAll(
  items: AsyncIterable<Item> | Iterable<Item>,
  sink: Sink,
  options: DeliverOptions = {},
): Promise<DeliveryReport> {
  const stage = options.stage ?? "sink";
  const policy = options.onError ?? { kind: "fail" };
  const maxInFlight = options.maxInFlight ?? 1000;
  const log = options.log ?? ((message: string) => console.error(`edgepipe ${stage}: ${message}`));
  const observer = options.observer ?? {};
  const ownDeadLetters = policy.kind === "dead-letter" && !options.deadLetters
    ? new FileDeadLetterSink(policy.target)
    : undefined;
  const deadLetters = options.deadLetters ?? ownDeadLetters;

  const report: DeliveryReport = {
    events: 0,
    delivered: 0,
    skipped: 0,
    deadLettered: 0,
    acknowledged: 0,
    interrupted: false,
  };
  const reporters: AckSink[] = [];
  let reporter: AckSink | undefined;
  // The FIFO: entries settle in any order, ids leave strictly from the head.
  let fifo: Entry[] = [];
  let head = 0;
  let inFlight = 0;
  let fatal: { error: unknown } | undefined;
  let inTransaction = false;
  let wake: () => void = () => {};

  const drain = () => {
    let batch: string[] = [];
    let batchReporter: AckSink | undefined;
    const emit = () => {
      if (batchReporter && batch.length > 0) {
        batchReporter.report(batch);
        report.acknowledged += batch.length;
        observer.acknowledged?.(batch.length);
      }
      batch = [];
    };
    while (head < fifo.length && fifo[head].state === SETTLED) {
      const entry = fifo[head++];
      if (entry.ids.length === 0) continue;
      if (entry.reporter !== batchReporter) {
        emit();
        batchReporter = entry.reporter;
      }
      for (const id of entry.ids) batch.push(id);
    }
    emit();
    if (head > 4096 && head * 2 > fifo.length) {
      fifo = fifo.slice(head);
      head = 0;
    }
  };

  const settle = (entry: Entry, error?: unknown) => {
    inFlight--;
    if (error === undefined) {
      entry.state = SETTLED;
      drain();
    } else {
      entry.state = FAILED;
      entry.error = error;
      fatal ??= { error };
    }
    wake();
  };

  const onRejected = async (event: Envelope, error: unknown): Promise<void> => {
    if (error instanceof BrokenPipeError || policy.kind === "fail") {
      observer.rejected?.(event, error, "failed");
      throw error;
    }
    if (policy.kind === "skip") {
      report.skipped++;
      observer.rejected?.(event, error, "skipped");
      log(`skipped event${event.id ? ` ${event.id}` : ""}: ${describeError(error)}`);
      return;
    }
    await deadLetters!.write(deadLetterOf(stage, error, event));
    report.deadLettered++;
    observer.rejected?.(event, error, "dead-lettered");
  };

  const send = (event: Envelope) => {
    const entry: Entry = { ids: event.id ? [event.id] : [], reporter, state: PENDING };
    fifo.push(entry);
    inFlight++;
    let sent: Promise<void>;
    try {
      sent = sink.send(event);
    } catch (error) {
      sent = Promise.reject(error);
    }
    sent.then(
      () => {
        report.delivered++;
        try {
          observer.delivered?.(event);
        } catch (error) {
          return settle(entry, error);
        }
        settle(entry);
      },
      (error) => onRejected(event, error).then(() => settle(entry), (e) => settle(entry, e)),
    );
  };

  const waitForRoom = async () => {
    while (inFlight >= maxInFlight && !fatal) {
      // A sink that only settles on full batches gets a nudge when nothing settles for a while.
      const woke = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), 1000);
        wake = () => {
          clearTimeout(timer);
          resolve(true);
        };
      });
      wake = () => {};
      if (!woke) await sink.flush().catch(() => {});
    }
  };

  const iterator = Symbol.asyncIterator in items
    ? (items as AsyncIterable<Item>)[Symbol.asyncIterator]()
    : (items as Iterable<Item>)[Symbol.iterator]();
  let inputError: unknown;
  const reader = abortableReader(iterator, options.signal);
  try {
    while (!fatal) {
      const next = await reader.next();
      if (next === ABORTED) {
        report.interrupted = true;
        break;
      }
      if (next.done) break;
      const item = next.value;
      if (isControl(item)) {
        if (item.$edgepipe === "hello" && typeof item.ack === "string") {
          // A source in this process (`edgepipe run`) takes the ids without the socket.
          reporter = AckServer.local(item.ack) ??
            new AckReporter(item.ack, (message) => log(message));
          reporters.push(reporter);
        } else if (item.$edgepipe === "ack" && Array.isArray(item.ids)) {
          fifo.push({ ids: item.ids.map(String), reporter, state: SETTLED });
          drain();
        } else if (item.$edgepipe === "txn" && typeof item.txn === "string") {
          if (!sink.joinTransaction) {
            fatal = {
              error: new DeliveryError(
                `the source asks for exactly-once, but ${sink.description} cannot join a Pulsar ` +
                  `transaction (end the pipe with produce)`,
              ),
            };
            break;
          }
          await sink.joinTransaction(item.txn);
          inTransaction = true;
        }
        continue;
      }
      if (options.requireTransaction && !inTransaction) {
        fatal = {
          error: new DeliveryError(
            "--guarantee exactly-once: an event came outside a transaction (start the source " +
              "with --guarantee exactly-once)",
          ),
        };
        break;
      }
      report.events++;
      observer.received?.(item);
      send(item);
      if (inFlight >= maxInFlight) await waitForRoom();
    }
  } catch (error) {
    inputError = error;
  } finally {
    reader.dispose();
    if (report.interrupted || fatal || inputError) {
      // Stop the producer side of the input without waiting on a read that may never finish.
      void Promise.resolve(iterator.return?.()).catch(() => {});
    }
  }

  // Everything accepted gets its chance to settle, even when stopping on an error.
  try {
    await sink.flush();
  } catch (error) {
    fatal ??= { error };
  }
  while (inFlight > 0) {
    await new Promise<void>((resolve) => (wake = resolve));
    wake = () => {};
  }
  drain();
  await Promise.all(reporters.map((r) => r.close()));
  await ownDeadLetters?.close();

  if (fatal) {
    const error = fatal.error;
    if (error instanceof BrokenPipeError) throw error;
    const failed = fifo.slice(head).find((entry) => entry.state === FAILED);
    const id = failed?.ids[0];
    throw new DeliveryError(
      `could not deliver event${id ? ` ${id}` : ""} to ${sink.description}: ${
        describeError(error)
      }`,
      { cause: error, id },
    );
  }
  if (inputError !== undefined) throw inputError;
  return report;
}

const ABORTED = Symbol("aborted");

/**
 * Reads `iterator`, each read ending early with ABORTED once the signal fires (a read may block
 * forever on stdin). One abort listener serves every read, and a read costs one promise: no
 * `Promise.race`, no listener added and removed per event.
 */
function abortableReader<T>(
  iterator: AsyncIterator<T> | Iterator<T>,
  signal: AbortSignal | undefined,
): {
  next(): Promise<IteratorResult<T> | typeof ABORTED> | IteratorResult<T> | typeof ABORTED;
  dispose(): void;
} {
  if (!signal) return { next: () => iterator.next(), dispose: () => {} };
  let settle: ((value: typeof ABORTED) => void) | undefined;
  const onAbort = () => settle?.(ABORTED);
  signal.addEventListener("abort", onAbort, { once: true });
  return {
    next() {
      if (signal.aborted) return ABORTED;
      const read = iterator.next();
      if (!(read instanceof Promise)) return read;
      return new Promise<IteratorResult<T> | typeof ABORTED>((resolve, reject) => {
        settle = resolve;
        read.then(resolve, reject);
      });
    },
    dispose: () => signal.removeEventListener("abort", onAbort),
  };
}
