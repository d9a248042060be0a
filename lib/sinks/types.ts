/**
 * The one interface behind every terminal stage (Pulsar, S3, files, stdout). A sink batches as it
 * likes; the promise `send` returns settles only when that event is durably delivered, which is
 * when the source may acknowledge it.
 *
 * @module
 */
import type { Envelope } from "../envelope.ts";

/** A destination for events. */
export interface Sink {
  /** Human-readable target, for logs and `--dry-run` plans. */
  readonly description: string;
  /**
   * Accepts one event. Resolves when it is durably delivered; rejects when it cannot be. Callers
   * bound how many sends are unsettled at once, which is how backpressure reaches the source.
   */
  send(event: Envelope): Promise<void>;
  /**
   * Exactly-once (a `txn` control record came): events sent from now on join Pulsar transaction
   * `txn` ("most:least"). Only sinks that send to Pulsar have it.
   */
  joinTransaction?(txn: string): Promise<void>;
  /** Delivers everything accepted so far. */
  flush(): Promise<void>;
  /** Flushes, then releases connections and files. */
  close(): Promise<void>;
}
