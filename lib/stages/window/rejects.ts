/**
 * What a stage does with one event it cannot process, per the `--on-error` policy: `fail` throws,
 * `skip` says so on stderr, `dead-letter` writes the event and its error durably. In the last two
 * cases the caller acknowledges the event's id, because nothing further derives from it.
 *
 * @module
 */
import { deadLetterOf, type DeadLetterSink, type ErrorPolicy } from "../../dead_letter.ts";
import type { Envelope } from "../../envelope.ts";
import { describeError, InputError } from "../../errors.ts";

/** Handles rejected events for one stage. */
export class Rejects {
  /** How many events were skipped or dead-lettered. */
  count = 0;
  readonly #stage: string;
  readonly #policy: ErrorPolicy;
  readonly #sink?: DeadLetterSink;

  constructor(stage: string, policy: ErrorPolicy, sink?: DeadLetterSink) {
    if (policy.kind === "dead-letter" && sink === undefined) {
      throw new TypeError(`${stage}: a dead-letter policy needs a DeadLetterSink`);
    }
    this.#stage = stage;
    this.#policy = policy;
    this.#sink = sink;
  }

  /**
   * Applies the policy to `event` rejected with `error`. Throws an {@linkcode InputError} under
   * `fail`; otherwise resolves once the rejection is recorded (durably for dead letters).
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Rejects } from "./rejects.ts";
   * const rejects = new Rejects("filter", { kind: "skip" });
   * await rejects.reject({ value: 1 }, new Error("no such key"));
   * assert.ok(rejects.count === 1);
   * ```
   */
  async reject(event: Envelope, error: unknown): Promise<void> {
    const which = typeof event.id === "string" ? `event ${event.id}` : "an event";
    if (this.#policy.kind === "fail") {
      throw new InputError(`${which} (--on-error skip or dead-letter=<file> would go on)`, {
        cause: error,
      });
    }
    this.count++;
    if (this.#sink) await this.#sink.write(deadLetterOf(this.#stage, error, event));
    else console.error(`edgepipe ${this.#stage}: skipped ${which}: ${describeError(error)}`);
  }
}
