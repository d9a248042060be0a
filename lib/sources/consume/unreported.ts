/**
 * The messages a source has written and the terminal stage has not reported delivered yet, bounded
 * in count and bytes. Each is kept as a payload-free handle of its message (topic and id: what
 * acknowledging needs, without parsing the id back), never the payload itself; when the bound is
 * reached the source stops reading until reports make room (backpressure: nothing is dropped,
 * the broker keeps the rest).
 *
 * @module
 */
import { Message } from "../../pulsar/mod.ts";

const EMPTY = new Uint8Array(0);

/**
 * What acknowledging `msg` needs (its topic and id), without its payload or properties, so that
 * holding it costs a small constant.
 */
export function ackHandle(msg: Message): Message {
  return new Message(msg.topic, msg.id, EMPTY, {
    publishTime: msg.publishTime,
    redeliveryCount: msg.redeliveryCount,
  });
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

/** Estimated bytes of one entry: the id string (UTF-16), the handle, its id and the map's slot. */
export function entryBytes(id: string): number {
  return id.length * 2 + 320;
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
 * assert.equal(handle.id, msg.id);
 * assert.equal(handle.payload.length, 0); // the payload was never held
 * await room;
 * assert.equal(unreported.size, 0);
 * ```
 */
export class Unreported {
  readonly maxMessages: number;
  readonly maxBytes: number;
  readonly #ids = new Map<string, Message>();
  readonly #onFull?: UnreportedOptions["onFull"];
  #bytes = 0;
  #toldFull = false;
  #waiters: (() => void)[] = [];

  constructor(options: UnreportedOptions = {}) {
    this.maxMessages = options.maxMessages ?? DEFAULT_MAX_UNREPORTED.messages;
    this.maxBytes = options.maxBytes ?? DEFAULT_MAX_UNREPORTED.bytes;
    this.#onFull = options.onFull;
  }

  /** Messages held. */
  get size(): number {
    return this.#ids.size;
  }

  /** Estimated bytes held. */
  get bytes(): number {
    return this.#bytes;
  }

  /** True when no more may be added before something is reported. */
  get full(): boolean {
    return this.#ids.size >= this.maxMessages || this.#bytes >= this.maxBytes;
  }

  /** Holds `id` (as a payload-free handle of `msg`) until it is reported. */
  add(id: string, msg: Message): void {
    if (this.#ids.has(id)) return;
    this.#ids.set(id, ackHandle(msg));
    this.#bytes += entryBytes(id);
  }

  /** The handle of a reported `id` (forgotten from now on), or undefined when not held. */
  take(id: string): Message | undefined {
    const handle = this.#ids.get(id);
    if (handle === undefined) return undefined;
    this.#ids.delete(id);
    this.#bytes -= entryBytes(id);
    if (!this.full && this.#waiters.length > 0) {
      const waiters = this.#waiters;
      this.#waiters = [];
      for (const wake of waiters) wake();
    }
    return handle;
  }

  /** Resolves at once while there is room; otherwise when reports have made some. */
  room(): Promise<void> {
    if (!this.full) return Promise.resolve();
    if (!this.#toldFull) {
      this.#toldFull = true;
      this.#onFull?.({ messages: this.#ids.size, bytes: this.#bytes });
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
