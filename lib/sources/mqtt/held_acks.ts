/**
 * Acknowledgements an MQTT source holds back until the pipeline's terminal stage reports the
 * messages delivered. MQTT requires PUBACK (QoS 1) and PUBREC (QoS 2) to go out in the order the
 * PUBLISH packets came in (MQTT 5.0 §4.6, 3.1.1 §4.6), so a reported message is released only
 * once every message received before it is reported too.
 *
 * @module
 */

/** One held acknowledgement: the packet to send once released. */
export interface HeldAck<T> {
  /** The envelope id the terminal stage reports. */
  readonly id: string;
  /** What to send (the PUBACK / PUBREC packet and its callback). */
  readonly ack: T;
}

/**
 * Held acknowledgements in arrival order.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { HeldAcks } from "./held_acks.ts";
 * const held = new HeldAcks<number>();
 * held.hold("a", 1);
 * held.hold("b", 2);
 * assert.deepEqual(held.report("b"), []); // "a" is not delivered yet
 * assert.deepEqual(held.report("a"), [1, 2]); // now both go, in arrival order
 * assert.equal(held.size, 0);
 * ```
 */
export class HeldAcks<T> {
  #queue: { id: string; ack: T; done: boolean }[] = [];
  #head = 0;
  readonly #byId = new Map<string, { id: string; ack: T; done: boolean }>();

  /** Acknowledgements held (reported or not) that have not been released. */
  get size(): number {
    return this.#queue.length - this.#head;
  }

  /** Holds `ack` for the message with envelope id `id`. */
  hold(id: string, ack: T): void {
    const entry = { id, ack, done: false };
    this.#queue.push(entry);
    this.#byId.set(id, entry);
  }

  /** True when `id` is held. */
  has(id: string): boolean {
    return this.#byId.has(id);
  }

  /**
   * Marks `id` delivered; returns the acknowledgements that may go now (in arrival order): the
   * delivered run at the head of the queue. An unknown id (a QoS 0 message, one from a dropped
   * connection) releases nothing.
   */
  report(id: string): T[] {
    const entry = this.#byId.get(id);
    if (!entry) return [];
    entry.done = true;
    this.#byId.delete(id);
    const released: T[] = [];
    while (this.#head < this.#queue.length && this.#queue[this.#head].done) {
      released.push(this.#queue[this.#head++].ack);
    }
    if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
    return released;
  }

  /** Forgets everything (the connection that received these messages is gone). */
  clear(): number {
    const dropped = this.size;
    this.#queue = [];
    this.#head = 0;
    this.#byId.clear();
    return dropped;
  }
}
