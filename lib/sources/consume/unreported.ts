/**
 * The messages a source has written and the terminal stage has not reported delivered yet, bounded
 * in count and bytes. Each is kept as its topic and message id (what acknowledging needs, without
 * parsing the id back), never the message or its payload; when the bound is
 * reached the source stops reading until reports make room (backpressure: nothing is dropped,
 * the broker keeps the rest).
 *
 * @module
 */
import { Message, type MessageId } from "../../pulsar/mod.ts";

const EMPTY = new Uint8Array(0);

/**
 * A message to acknowledge by: its topic and id, with no payload or properties. What acknowledging
 * needs (the topic routes the ack to its partition's consumer, the id object keeps the consumer's
 * batch bookkeeping), made when the report comes.
 */
export function ackHandle(topic: string, id: MessageId): Message {
  return new Message(topic, id, EMPTY, { publishTime: 0 });
}

/** Default bounds of {@linkcode Unreported}. */
export const DEFAULT_MAX_UNREPORTED = { messages: 250_000, bytes: 64 * 1024 * 1024 };

/** Options of {@linkcode Unreported}. */
export interface UnreportedOptions {
  /** Most messages held (default 250,000). */
  maxMessages?: number;
  /** Most bytes held, as estimated per entry (default 64 MiB). */
  maxBytes?: number;
  /** Told once, the first time reading has to wait for room. */
  onFull?: (held: { messages: number; bytes: number }) => void;
}

/** Estimated bytes of one entry: the id string (UTF-16), the id object and the map's slot. */
export function entryBytes(id: string): number {
  return id.length * 2 + 200;
}

/**
 * Ids written and not yet reported, with the handle to acknowledge each by.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Unreported } from "./unreported.ts";
 * import { Message, MessageId } from "../../pulsar/mod.ts";
 * const unreported = new Unreported({ maxMessages: 1 });
 * const msg = new Message("t", new MessageId(1n, 2n), new Uint8Array(1000), { publishTime: 1 });
 * unreported.add("a", msg);
 * assert.ok(unreported.full);
 * const room = unreported.room(); // waits: the bound is reached
 * const handle = unreported.take("a")!;
 * assert.equal(handle.id, msg.id); // the same id object, so batch bookkeeping applies
 * assert.equal(handle.topic, "t");
 * assert.equal(handle.payload.length, 0); // the payload was never held
 * await room;
 * assert.equal(unreported.size, 0);
 * ```
 */
export class Unreported {
  /** The count bound. */
  readonly maxMessages: number;
  /** The bytes bound (estimated, see {@linkcode entryBytes}). */
  readonly maxBytes: number;
  /** Per topic (partition): reported id → message id. Few topics, so a report looks in each. */
  readonly #byTopic = new Map<string, Map<string, MessageId>>();
  #size = 0;
  readonly #onFull?: UnreportedOptions["onFull"];
  #bytes = 0;
  #toldFull = false;
  #waiters: (() => void)[] = [];

  /** An empty set with the given bounds. */
  constructor(options: UnreportedOptions = {}) {
    this.maxMessages = options.maxMessages ?? DEFAULT_MAX_UNREPORTED.messages;
    this.maxBytes = options.maxBytes ?? DEFAULT_MAX_UNREPORTED.bytes;
    this.#onFull = options.onFull;
  }

  /** Messages held. */
  get size(): number {
    return this.#size;
  }

  /** Estimated bytes held. */
  get bytes(): number {
    return this.#bytes;
  }

  /** True when no more may be added before something is reported. */
  get full(): boolean {
    return this.#size >= this.maxMessages || this.#bytes >= this.maxBytes;
  }

  /** Holds `id` (the topic and message id of `msg`, not the message) until it is reported. */
  add(id: string, msg: Message): void {
    let ids = this.#byTopic.get(msg.topic);
    if (!ids) this.#byTopic.set(msg.topic, ids = new Map());
    if (ids.has(id)) return;
    ids.set(id, msg.id);
    this.#size++;
    this.#bytes += entryBytes(id);
  }

  /** A handle to acknowledge a reported `id` by (forgotten from now on), or undefined. */
  take(id: string): Message | undefined {
    for (const [topic, ids] of this.#byTopic) {
      const messageId = ids.get(id);
      if (messageId === undefined) continue;
      ids.delete(id);
      if (ids.size === 0) this.#byTopic.delete(topic);
      this.#size--;
      this.#bytes -= entryBytes(id);
      if (!this.full && this.#waiters.length > 0) {
        const waiters = this.#waiters;
        this.#waiters = [];
        for (const wake of waiters) wake();
      }
      return ackHandle(topic, messageId);
    }
    return undefined;
  }

  /** Resolves at once while there is room; otherwise when reports have made some. */
  room(): Promise<void> {
    if (!this.full) return Promise.resolve();
    if (!this.#toldFull) {
      this.#toldFull = true;
      this.#onFull?.({ messages: this.#size, bytes: this.#bytes });
    }
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Wakes every waiter (the source is stopping). */
  release(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }
}
