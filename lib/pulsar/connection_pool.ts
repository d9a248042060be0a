/**
 * One shared connection per broker address. Producers and consumers of many topics on the same
 * broker multiplex over it; a closed connection is dropped so the next user opens a fresh one.
 *
 * @module
 */
import { Connection, type ConnectionOptions } from "./connection.ts";

/** Connection settings shared by every connection of a client. */
export type PoolOptions = Omit<ConnectionOptions, "url" | "proxyToBrokerUrl">;

/**
 * Opens connections on demand and shares them.
 *
 * @example
 * ```ts
 * import { ConnectionPool } from "./connection_pool.ts";
 * // Needs a running broker: type-checked here, not run.
 * async function example() {
 *   const pool = new ConnectionPool({});
 *   const conn = await pool.get("pulsar://127.0.0.1:6650");
 *   console.log(conn.serverVersion);
 *   await pool.close();
 * }
 * void example;
 * ```
 */
export class ConnectionPool {
  readonly #options: PoolOptions;
  readonly #connections = new Map<string, Promise<Connection>>();
  #closed = false;

  constructor(options: PoolOptions) {
    this.#options = options;
  }

  /**
   * The connection to `brokerUrl`. When `physicalUrl` differs (a proxy), the socket goes there
   * and asks the proxy to forward to `brokerUrl`.
   */
  get(brokerUrl: string, physicalUrl: string = brokerUrl): Promise<Connection> {
    const key = `${brokerUrl}|${physicalUrl}`;
    const existing = this.#connections.get(key);
    if (existing) return existing;
    const opening = Connection.open({
      ...this.#options,
      url: physicalUrl,
      ...(physicalUrl !== brokerUrl ? { proxyToBrokerUrl: brokerUrl } : {}),
    });
    this.#connections.set(key, opening);
    opening.then(
      (conn) => {
        if (this.#closed) conn.close("client closed");
        conn.closed.then(() => {
          if (this.#connections.get(key) === opening) this.#connections.delete(key);
        });
      },
      () => {
        if (this.#connections.get(key) === opening) this.#connections.delete(key);
      },
    );
    return opening;
  }

  /** Every open connection (for tests that cut them). */
  async connections(): Promise<Connection[]> {
    const settled = await Promise.allSettled(this.#connections.values());
    return settled.flatMap((s) => (s.status === "fulfilled" ? [s.value] : []));
  }

  /** Closes every connection. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const conn of await this.connections()) conn.close("client closed");
    this.#connections.clear();
  }
}
