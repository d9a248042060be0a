/**
 * Recognising events that come again although the checkpointed state already holds (or held)
 * them. Behind an acknowledging source (`edgepipe consume`), an event is acknowledged only after
 * a checkpoint that covers it is durable, and the acknowledgement travels through the terminal
 * stage; a kill in between makes the broker deliver the event again, and a window that fired
 * since must not take it for late data, nor count it twice.
 *
 * Two ways, as far as the checkpoint allows:
 * - by position: Pulsar delivers the messages of one partition to an exclusive (or failover)
 *   subscriber in order, so every message at or before the highest position the stage has
 *   handled (per topic and partition, kept in each checkpoint) was handled before;
 * - by id: the ids of the checkpoint's unconfirmed acknowledgements (any id format).
 *
 * @module
 */
import type { Envelope } from "../../envelope.ts";
import { MessageId } from "../../pulsar/message_id.ts";

/** Highest handled position per `topic|partition`, as the id text the source gave. */
export type Frontier = Record<string, string>;

/** Recognises redeliveries; see the module documentation. */
export class Redeliveries {
  /** Events recognised as redeliveries so far. */
  count = 0;
  readonly #ids: Set<string>;
  readonly #top = new Map<string, { text: string; at: MessageId }>();
  #active = false;

  /** `frontier` and `ids` come from the restored checkpoint. */
  constructor(frontier: Frontier = {}, ids: Iterable<string> = []) {
    this.#ids = new Set(ids);
    for (const [where, text] of Object.entries(frontier)) {
      const at = position(text);
      if (at) this.#top.set(where, { text, at });
    }
  }

  /** Behind an acknowledging source only: elsewhere ids mean nothing about redelivery. */
  activate(): void {
    this.#active = true;
  }

  /**
   * True when `event` (with id `id`) was handled before; otherwise notes it as handled.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { MessageId } from "../../pulsar/message_id.ts";
   * import { Redeliveries } from "./redeliveries.ts";
   * const seen = new Redeliveries();
   * seen.activate();
   * const at = (entry: bigint) => ({ topic: "t", value: 1, id: new MessageId(3n, entry).toString() });
   * assert.equal(seen.check(at(5n), at(5n).id), false);
   * assert.equal(seen.check(at(6n), at(6n).id), false);
   * assert.equal(seen.check(at(5n), at(5n).id), true); // came again
   * ```
   */
  check(event: Envelope, id: string): boolean {
    if (!this.#active) return false;
    if (this.#ids.has(id)) {
      this.count++;
      return true;
    }
    if (typeof event.topic !== "string") return false;
    const at = position(id);
    if (at === undefined) return false;
    const where = `${event.topic}|${event.partition ?? -1}`;
    const top = this.#top.get(where);
    if (top !== undefined && MessageId.compare(at, top.at) <= 0) {
      this.count++;
      return true;
    }
    this.#top.set(where, { text: id, at });
    return false;
  }

  /**
   * A partition (`topic|partition`) came here with the checkpoint of its previous owner: its
   * highest handled position (none: forgotten) and the ids that owner had not confirmed.
   */
  adopt(where: string, text: string | undefined, ids: Iterable<string>): void {
    this.forget(where);
    const at = text === undefined ? undefined : position(text);
    if (text !== undefined && at !== undefined) this.#top.set(where, { text, at });
    for (const id of ids) this.#ids.add(id);
  }

  /** A partition went elsewhere: what it handled here says nothing about its next owner's. */
  forget(where: string): void {
    this.#top.delete(where);
  }

  /** The highest handled position of one partition (`topic|partition`), if any. */
  frontierOf(where: string): string | undefined {
    return this.#top.get(where)?.text;
  }

  /** The positions to keep in a checkpoint. */
  frontier(): Frontier {
    const out: Frontier = {};
    for (const [where, top] of this.#top) out[where] = top.text;
    return out;
  }
}

function position(text: string): MessageId | undefined {
  try {
    const at = MessageId.parse(text);
    return at.ledgerId >= 0n && at.entryId >= 0n ? at : undefined;
  } catch {
    return undefined;
  }
}
