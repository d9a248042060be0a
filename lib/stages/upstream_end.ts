/**
 * How a stateful stage tells the end of its stream from the death of the process feeding it.
 * Behind an edgepipe source (the input began with a `hello`), only the source's `end` control
 * record ends the stream; end of input without it means the upstream process failed. Plain NDJSON
 * (no `hello`) keeps the ordinary meaning of end of input. See `docs/envelope.md`.
 *
 * @module
 */
import { EdgepipeError } from "../errors.ts";
import { type EndRecord, isControl, isEnd, type Item } from "../envelope.ts";

/**
 * The input of a stage behind an edgepipe source ended without the source's `end` record: the
 * process feeding the stage died or was stopped. Nothing was fired; the state was kept.
 */
export class UpstreamEndedError extends EdgepipeError {}

/**
 * Watches a stage's input for `hello` and `end`. Feed it every item; at end of input,
 * {@linkcode StreamEnd.ended} says whether the stream really ended.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { StreamEnd } from "./upstream_end.ts";
 * const behindSource = new StreamEnd();
 * behindSource.see({ $edgepipe: "hello", v: 1, ack: "/tmp/a.sock", source: "consume" });
 * behindSource.see({ value: 1 });
 * assert.equal(behindSource.ended, false); // EOF now would be an upstream failure
 * behindSource.see({ $edgepipe: "end", source: "consume" });
 * assert.equal(behindSource.ended, true);
 * const plain = new StreamEnd();
 * plain.see({ value: 1 });
 * assert.equal(plain.ended, true); // plain NDJSON: EOF is the end
 * ```
 */
export class StreamEnd {
  #behindSource = false;
  #end: EndRecord | undefined;

  /** Notes one input item. An event after an `end` means that `end` was not the end. */
  see(item: Item): void {
    if (isEnd(item)) {
      this.#end = item;
      return;
    }
    if (isControl(item)) {
      if (item.$edgepipe === "hello") this.#behindSource = true;
      return;
    }
    this.#end = undefined;
  }

  /** True once a `hello` was seen: only an `end` record ends this stream. */
  get behindSource(): boolean {
    return this.#behindSource;
  }

  /** The last `end` record seen, unless an event came after it. */
  get record(): EndRecord | undefined {
    return this.#end;
  }

  /** At end of input: true when it is the end of the stream (an `end` came, or no `hello`). */
  get ended(): boolean {
    return !this.#behindSource || this.#end !== undefined;
  }
}
