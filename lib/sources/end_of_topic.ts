/**
 * `consume -e`: stop once everything that was in the topics when consuming started has been read.
 * A consumer that can answer "is there more?" (a single-topic consumer or a reader) is asked;
 * one over several topics is compared against each topic's last message id, with a quiet period
 * as the fallback for topics whose subscription already acknowledged everything.
 *
 * @module
 */
import { type Message, MessageId, TimeoutError } from "../pulsar/mod.ts";

/** What the end detector needs from a consumer or reader. */
export interface Receiver {
  receive(timeoutMs?: number): Promise<Message>;
  hasMessageAvailable?(): Promise<boolean>;
  getLastMessageIds?(): Promise<Map<string, MessageId>>;
}

/**
 * Hands out messages until the end of the topics.
 *
 * @example
 * ```ts ignore
 * const end = await EndOfTopic.start(consumer, 2000);
 * for (let msg = await end.next(); msg; msg = await end.next()) console.log(msg.id.toString());
 * ```
 */
export class EndOfTopic {
  readonly #receiver: Receiver;
  readonly #quietMs: number;
  readonly #pending: Map<string, MessageId> | undefined;
  readonly #bounded: boolean;

  private constructor(
    receiver: Receiver,
    quietMs: number,
    bounded: boolean,
    pending?: Map<string, MessageId>,
  ) {
    this.#receiver = receiver;
    this.#quietMs = quietMs;
    this.#bounded = bounded;
    this.#pending = pending;
  }

  /**
   * Reads the topics' last ids when the receiver cannot be asked directly. `bounded`: a receiver
   * that says more is there but sends nothing for `quietMs` counts as at the end for now (for a
   * caller that then checks the end its own way: a subscription whose later messages were
   * acknowledged while earlier ones came again answers "more" although nothing more will come).
   */
  static async start(receiver: Receiver, quietMs: number, bounded = false): Promise<EndOfTopic> {
    if (typeof receiver.hasMessageAvailable === "function") {
      return new EndOfTopic(receiver, quietMs, bounded);
    }
    const last = await receiver.getLastMessageIds?.() ?? new Map<string, MessageId>();
    const pending = new Map([...last].filter(([, id]) => id.entryId >= 0n));
    return new EndOfTopic(receiver, quietMs, bounded, pending);
  }

  /** The next message, or undefined at the end. */
  async next(): Promise<Message | undefined> {
    const receiver = this.#receiver;
    if (!this.#pending) {
      if (!(await receiver.hasMessageAvailable!())) return undefined;
      if (!this.#bounded) return await receiver.receive();
      try {
        return await receiver.receive(this.#quietMs);
      } catch (error) {
        if (error instanceof TimeoutError) return undefined;
        throw error;
      }
    }
    if (this.#pending.size === 0) return undefined;
    let msg: Message;
    try {
      msg = await receiver.receive(this.#quietMs);
    } catch (error) {
      if (error instanceof TimeoutError) return undefined; // nothing more is coming
      throw error;
    }
    const last = this.#pending.get(msg.topic);
    if (last && reached(msg.id, last)) this.#pending.delete(msg.topic);
    return msg;
  }
}

/** True when `id` is at or past `last` (a whole-entry `last` means its final batch message). */
function reached(id: MessageId, last: MessageId): boolean {
  const order = MessageId.compare(id.entry(), last.entry());
  if (order !== 0) return order > 0;
  // A whole-entry id (an undecodable batch handed on as one message) covers the entry.
  if (last.batchIndex >= 0) return id.batchIndex < 0 || id.batchIndex >= last.batchIndex;
  return id.batchIndex < 0 || (id.batchSize > 0 && id.batchIndex === id.batchSize - 1);
}
