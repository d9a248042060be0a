/**
 * What producers and consumers need from their client: lookups, id counters, timeouts and
 * reconnect backoff. A seam so that they do not import the client itself.
 *
 * @module
 */
import type { BackoffOptions } from "./backoff.ts";
import type { ClientStatus } from "./client_status.ts";
import type { ConnectionPool } from "./connection_pool.ts";
import type { LookupService } from "./lookup.ts";
import type { Producer, ProducerOptions } from "./producer.ts";

/** Shared state of one client. */
export interface ClientContext {
  readonly pool: ConnectionPool;
  readonly lookup: LookupService;
  readonly operationTimeoutMs: number;
  readonly backoff: BackoffOptions;
  /** Where producers and consumers report their retries (the client's status stream). */
  reportStatus?(status: ClientStatus): void;
  newProducerId(): number;
  newConsumerId(): number;
  /** Creates a producer for a single (non-partitioned or partition) topic; used for dead letters. */
  createProducer(options: ProducerOptions): Promise<Producer>;
}
