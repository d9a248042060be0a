/**
 * The acknowledgement side of a consumer: which messages of a batch entry are acked, when the
 * whole entry may be acknowledged, and the buffer that groups individual acks into few ACK
 * commands. It talks to the broker only through {@linkcode AckSender}, so it is tested without one.
 *
 * @module
 */
import { MessageId, type MessageIdWire, toWire } from "./message_id.ts";

/** Acknowledgement state of one batch entry whose messages are acked one by one. */
export interface BatchState {
  size: number;
  acked: Uint8Array;
  remaining: number;
}

/** How acks reach the broker. */
export type AckSender = (ackType: "Individual" | "Cumulative", ids: MessageIdWire[]) => void;

/** Options of {@linkcode AckTracker}. */
export interface AckTrackerOptions {
  /** Acknowledge single messages of a batch on the broker (ack sets). */
  batchIndexAck: boolean;
  send: AckSender;
  /** True while connected; buffered acks wait for it, cumulative ones are dropped without it. */
  connected: () => boolean;
  /** Flush after this many buffered acks. Default 1000. */
  flushCount?: number;
  /** Flush this long after the first buffered ack. Default 10 ms. */
  flushMs?: number;
  /**
   * Most entries remembered for acks by id that arrive before the entry (a human id names no
   * batch size). Past it the oldest is forgotten: that message is redelivered, never lost.
   * Default 10 000.
   */
  maxEarlyEntries?: number;
  /**
   * Most batch entries and chunked messages whose state is kept by key (for acks by id string);
   * past it the oldest is forgotten by key. The id objects handed out keep their state, so acks
   * of received messages still work; an id string of a forgotten one acks it again from scratch
   * (its entry may then be redelivered, never lost). A consumer that never acks (`--ack none`,
   * `| cat > file`) thus keeps bounded memory. Default 65 536.
   */
  maxTrackedEntries?: number;
}

/**
 * Tracks acknowledgements of one consumer.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { AckTracker } from "./consumer_acks.ts";
 * import { MessageId } from "./message_id.ts";
 * const sent: unknown[] = [];
 * const acks = new AckTracker({
 *   batchIndexAck: false,
 *   connected: () => true,
 *   send: (_type, ids) => void sent.push(...ids),
 * });
 * acks.entryArrived(new MessageId(3n, 1n), 2);
 * acks.ack(new MessageId(3n, 1n, -1, 0, 2));
 * acks.flush();
 * assert.deepEqual(sent, [], "half of the batch is not the entry");
 * acks.ack(new MessageId(3n, 1n, -1, 1, 2));
 * acks.flush();
 * assert.deepEqual(sent, [{ ledgerId: 3, entryId: 1 }]);
 * ```
 */
export class AckTracker {
  readonly #options: AckTrackerOptions;
  readonly #batches = new Map<string, BatchState>();
  readonly #batchOf = new WeakMap<MessageId, BatchState>();
  /** Batch indexes acked by id before their entry arrived, by entry. */
  readonly #early = new Map<string, Set<number>>();
  /** The chunk entries of each chunked message handed out, by its id's entry (bounded)... */
  readonly #chunks = new Map<string, MessageId[]>();
  /** ...and by the id object handed out. */
  readonly #chunkOf = new WeakMap<MessageId, MessageId[]>();
  #pending: MessageIdWire[] = [];
  #timer?: ReturnType<typeof setTimeout>;

  constructor(options: AckTrackerOptions) {
    this.#options = options;
  }

  /** Entries with some but not all messages acked (bounded by what the user holds unacked). */
  get partialEntries(): number {
    return this.#batches.size;
  }

  /** Chunked messages handed out and not acknowledged. */
  get chunkedMessages(): number {
    return this.#chunks.size;
  }

  /** A chunked message handed out as `id`: acknowledging it acknowledges all `chunks`. */
  chunked(id: MessageId, chunks: MessageId[]): void {
    this.#chunkOf.set(id, chunks);
    this.#remember(this.#chunks, entryKey(id), chunks);
  }

  /** The chunk entries of a chunked message, when `id` is one. */
  chunksOf(id: MessageId): MessageId[] | undefined {
    if (id.batchIndex >= 0) return undefined;
    return this.#chunkOf.get(id) ??
      (this.#chunks.size > 0 ? this.#chunks.get(entryKey(id)) : undefined);
  }

  /** Entries with acks waiting for their entry to arrive. */
  get earlyEntries(): number {
    return this.#early.size;
  }

  /**
   * A batch entry arrived with `size` messages (`ackSet`: the broker's unacked bits, when it
   * tracks batch indexes). Returns the state its message ids point at, and marks as acked the
   * indexes that need no delivery.
   */
  entryArrived(entry: MessageId, size: number, ackSet?: (number | bigint)[]): BatchState {
    const key = entryKey(entry);
    let batch = this.#batches.get(key);
    if (!batch || batch.size !== size) {
      batch = { size, acked: new Uint8Array(size), remaining: size };
    }
    const mark = (index: number) => {
      if (index < size && !batch.acked[index]) {
        batch.acked[index] = 1;
        batch.remaining--;
      }
    };
    if (ackSet && ackSet.length > 0) {
      for (let i = 0; i < size; i++) if (!bitIsSet(ackSet, i)) mark(i);
    }
    const early = this.#early.get(key);
    if (early) {
      this.#early.delete(key);
      for (const index of early) mark(index);
    }
    if (batch.remaining > 0) this.#remember(this.#batches, key, batch);
    else {
      // Everything in it was acked by id before it came: the entry itself is done.
      this.#batches.delete(key);
      if (early) this.#queue(toWire(entry.entry(), false));
    }
    return batch;
  }

  /** Binds a message id handed out to its entry's state, to find it without building a key. */
  bind(id: MessageId, batch: BatchState): void {
    this.#batchOf.set(id, batch);
  }

  /** True when this batch index needs no delivery (already acked). */
  isAcked(batch: BatchState, index: number): boolean {
    return batch.acked[index] === 1;
  }

  /** Acknowledges one message: its entry once every message of a batch is acked. */
  ack(id: MessageId): void {
    this.#settle(id, (wire, whole) => {
      if (whole && this.#options.batchIndexAck) {
        // The entry's partial acks still buffered are superseded by acknowledging it whole.
        this.#pending = this.#pending.filter((p) =>
          p.ackSet === undefined || p.ledgerId !== wire.ledgerId || p.entryId !== wire.entryId
        );
      }
      this.#queue(wire);
    });
  }

  /**
   * Like {@linkcode ack}, but returns what to acknowledge instead of buffering it (acks inside a
   * transaction are grouped per transaction and answered, see `txn_acks.ts`). Part of a batch gives nothing: the entry is
   * acknowledged whole with its last message (brokers without batch-index acks take an ack set
   * for the whole entry, and a second ack of it in the same transaction is a conflict).
   */
  take(id: MessageId): MessageIdWire[] {
    const out: MessageIdWire[] = [];
    this.#settle(id, (wire) => {
      if (wire.ackSet === undefined) out.push(wire);
    });
    return out;
  }

  #settle(id: MessageId, emit: (wire: MessageIdWire, whole: boolean) => void): void {
    if (id.batchIndex < 0) {
      const chunks = this.chunksOf(id);
      if (!chunks) return emit(toWire(id, false), false);
      this.#chunks.delete(entryKey(id));
      this.#chunkOf.delete(id);
      for (const chunk of chunks) emit(toWire(chunk, false), false);
      return;
    }
    const key = entryKey(id);
    // The id objects handed out point at their entry's state; a finished state may since have
    // been replaced by a redelivery's.
    let batch = this.#batchOf.get(id);
    if (!batch || batch.remaining === 0) batch = this.#batches.get(key) ?? batch;
    if (!batch && id.batchIndex < id.batchSize) {
      // No state (redelivered, or the id came from another process), but the id knows its size.
      batch = { size: id.batchSize, acked: new Uint8Array(id.batchSize), remaining: id.batchSize };
      this.#remember(this.#batches, key, batch);
    }
    if (!batch) return this.#ackEarly(key, id.batchIndex);
    if (batch.acked[id.batchIndex]) return;
    batch.acked[id.batchIndex] = 1;
    batch.remaining--;
    if (batch.remaining > 0) {
      if (this.#options.batchIndexAck) {
        emit({ ...toWire(id, false), ackSet: ackSetOf(batch) }, false);
      }
      return;
    }
    this.#batches.delete(key);
    emit(toWire(id, false), true);
  }

  /**
   * A batch index acked by a human id (`ledger:entry:partition:index`, no batch size) with no
   * state: acknowledging the entry would lose the rest of the batch, so the index is remembered
   * until the entry is delivered again and its size is known.
   */
  #ackEarly(key: string, index: number): void {
    let indexes = this.#early.get(key);
    if (!indexes) {
      const max = this.#options.maxEarlyEntries ?? 10_000;
      if (this.#early.size >= max) this.#early.delete(this.#early.keys().next().value!);
      this.#early.set(key, indexes = new Set());
    }
    indexes.add(index);
  }

  /** Acknowledges everything up to and including `id`; sent at once (after buffered acks). */
  ackCumulative(id: MessageId): void {
    let wire: MessageIdWire = toWire(id, false);
    if (id.batchIndex >= 0 && id.batchSize > 0 && id.batchIndex < id.batchSize - 1) {
      // Part of a batch: ack up to the entry before it, or up to this index when the broker
      // tracks batch indexes.
      if (this.#options.batchIndexAck) {
        const acked = new Uint8Array(id.batchSize).fill(1, 0, id.batchIndex + 1);
        wire = { ...wire, ackSet: ackSetOf({ size: id.batchSize, acked, remaining: 0 }) };
      } else {
        wire = toWire(new MessageId(id.ledgerId, id.entryId - 1n, id.partition), false);
      }
    }
    const before = (key: string) => {
      const [ledger, entry] = key.split(":").map(BigInt);
      return ledger < id.ledgerId || (ledger === id.ledgerId && entry < id.entryId);
    };
    for (const key of this.#batches.keys()) if (before(key)) this.#batches.delete(key);
    for (const key of this.#early.keys()) if (before(key)) this.#early.delete(key);
    for (const key of this.#chunks.keys()) {
      if (before(key) || key === entryKey(id)) this.#chunks.delete(key);
    }
    this.flush();
    if (this.#options.connected()) this.#options.send("Cumulative", [wire]);
  }

  /** Sets `key`, forgetting the oldest key past the bound. */
  #remember<T>(map: Map<string, T>, key: string, value: T): void {
    map.set(key, value);
    if (map.size > (this.#options.maxTrackedEntries ?? 65_536)) {
      map.delete(map.keys().next().value!);
    }
  }

  /** Forgets batch states (after a seek the broker delivers entries afresh). */
  reset(): void {
    this.#batches.clear();
    this.#early.clear();
  }

  /** Sends buffered acks; they stay buffered while not connected. */
  flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#pending.length === 0 || !this.#options.connected()) return;
    const ids = this.#pending;
    this.#pending = [];
    // Partial batch acks carry ack sets and must go one per command; whole entries go together.
    const whole = ids.filter((id) => id.ackSet === undefined);
    if (whole.length > 0) this.#options.send("Individual", whole);
    for (const id of ids) if (id.ackSet !== undefined) this.#options.send("Individual", [id]);
  }

  /** Stops the flush timer (the consumer closes). */
  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #queue(id: MessageIdWire): void {
    this.#pending.push(id);
    if (this.#pending.length >= (this.#options.flushCount ?? 1000)) this.flush();
    else if (this.#timer === undefined) {
      this.#timer = setTimeout(() => this.flush(), this.#options.flushMs ?? 10);
    }
  }
}

/** `ledger:entry`, the key of an entry. */
export function entryKey(id: MessageId): string {
  return `${id.ledgerId}:${id.entryId}`;
}

/** java.util.BitSet words where a set bit means "not yet acknowledged". */
export function ackSetOf(batch: BatchState): (number | bigint)[] {
  const words: (number | bigint)[] = [];
  for (let word = 0; word * 64 < batch.size; word++) {
    let bits = 0n;
    for (let bit = 0; bit < 64 && word * 64 + bit < batch.size; bit++) {
      if (!batch.acked[word * 64 + bit]) bits |= 1n << BigInt(bit);
    }
    const signed = BigInt.asIntN(64, bits);
    words.push(
      signed <= BigInt(Number.MAX_SAFE_INTEGER) && signed >= BigInt(Number.MIN_SAFE_INTEGER)
        ? Number(signed)
        : signed,
    );
  }
  return words;
}

function bitIsSet(words: (number | bigint)[], index: number): boolean {
  const word = words[index >> 6];
  if (word === undefined) return false;
  return (BigInt.asUintN(64, BigInt(word)) >> BigInt(index & 63) & 1n) === 1n;
}
