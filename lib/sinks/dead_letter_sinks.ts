/**
 * Opens any dead-letter target the same way in every stage: `--on-error dead-letter=<target>`
 * where the target is a file path (NDJSON, appended and fsynced), `s3://bucket/prefix` (batched
 * objects; a write resolves once its object is stored), `file:dir/` (rolling files) or a Pulsar
 * topic (`persistent://…` or `topic:<name>`, as `produce` spells it). Each record carries the rejected event, its error and the stage that rejected it.
 *
 * @module
 */
import { type DeadLetter, type DeadLetterSink, FileDeadLetterSink } from "../dead_letter.ts";
import { openSink, parseSinkSpec, type PulsarSinkFactory } from "./open_sink.ts";
import type { Sink } from "./types.ts";

/** Dead letters through any {@linkcode Sink}. */
export class SinkDeadLetters implements DeadLetterSink {
  readonly #sink: Sink;
  readonly #asPayload: boolean;

  /**
   * `asPayload`: the sink publishes the delivered record (Pulsar), so the whole record — event,
   * error and stage — becomes the value, which is then the message as it is.
   */
  constructor(sink: Sink, { asPayload = false }: { asPayload?: boolean } = {}) {
    this.#sink = sink;
    this.#asPayload = asPayload;
  }

  write(record: DeadLetter): Promise<void> {
    if (!this.#asPayload) return this.#sink.send(record);
    return this.#sink.send({ key: record.key ?? null, value: record });
  }

  close(): Promise<void> {
    return this.#sink.close();
  }
}

/**
 * Opens the dead-letter sink for `target`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { openDeadLetterSink } from "./dead_letter_sinks.ts";
 * import { deadLetterOf } from "../dead_letter.ts";
 * const path = await Deno.makeTempFile();
 * const deadLetters = await openDeadLetterSink(path);
 * await deadLetters.write(deadLetterOf("route", new Error("no route"), { id: "a", value: 1 }));
 * await deadLetters.close();
 * assert.equal(JSON.parse(await Deno.readTextFile(path)).deadLetter.stage, "route");
 * await Deno.remove(path);
 * ```
 */
export async function openDeadLetterSink(
  target: string,
  pulsar?: PulsarSinkFactory,
): Promise<DeadLetterSink> {
  if (!/^(s3:\/\/|file:|topic:|(non-)?persistent:\/\/)/.test(target)) {
    return new FileDeadLetterSink(target);
  }
  const spec = parseSinkSpec(target);
  // A dead letter holds up its event's acknowledgement: store rejected events promptly.
  if ((spec.kind === "s3" || spec.kind === "file") && !/[?&]max-age=/.test(target)) {
    spec.batching.maxAgeMs = 1_000;
  }
  // A dead letter is kept whole (id, topic, key…): it is for finding and replaying the event.
  if (spec.kind !== "pulsar") spec.payload ??= { kind: "envelope" };
  return new SinkDeadLetters(await openSink(spec, pulsar), { asPayload: spec.kind === "pulsar" });
}
