/**
 * Finds the broker that owns a topic (LOOKUP, following redirects and the authoritative flag, or
 * going through the service URL when it is a proxy), and asks how many partitions a topic has.
 *
 * @module
 */
import type { Connection } from "./connection.ts";
import type { ConnectionPool } from "./connection_pool.ts";
import { BrokerError, ConnectionError } from "./errors.ts";
import { parseServiceUrls } from "./service_url.ts";
import type { Command } from "./wire/mod.ts";

type Answer = Record<string, unknown>;

/** Where a topic is served: the broker's URL, and where to open the socket. */
export interface BrokerAddress {
  /** The owning broker (`pulsar://…`). */
  brokerUrl: string;
  /** Where the socket goes: the broker itself, or the service URL when it is a proxy. */
  physicalUrl: string;
}

const MAX_REDIRECTS = 20;

/**
 * Topic lookups against the client's service URL.
 *
 * @example
 * ```ts
 * import { ConnectionPool } from "./connection_pool.ts";
 * import { LookupService } from "./lookup.ts";
 * // Needs a running broker: type-checked here, not run.
 * async function example() {
 *   const lookup = new LookupService(new ConnectionPool({}), "pulsar://127.0.0.1:6650", false);
 *   const { brokerUrl } = await lookup.lookup("persistent://public/default/t");
 *   console.log(brokerUrl);
 * }
 * void example;
 * ```
 */
export class LookupService {
  readonly #hosts: string[];
  #current = 0;

  /** Lookups through `serviceUrl` (one host, or several separated by commas). */
  constructor(
    readonly pool: ConnectionPool,
    readonly serviceUrl: string,
    readonly useTls: boolean,
  ) {
    this.#hosts = parseServiceUrls(serviceUrl).urls;
  }

  /**
   * A connection to the service URL: the host that answered last, else each other host in turn
   * (the Java client's order); fails when none can be reached, naming every host's error.
   */
  async serviceConnection(): Promise<Connection> {
    const errors: string[] = [];
    let last: unknown;
    for (let tried = 0; tried < this.#hosts.length; tried++) {
      const index = (this.#current + tried) % this.#hosts.length;
      try {
        const conn = await this.pool.get(this.#hosts[index]);
        if (!conn.isOpen) throw new ConnectionError(`${conn.url} closed the connection`);
        this.#current = index;
        return conn;
      } catch (error) {
        last = error;
        errors.push(`${this.#hosts[index]}: ${(error as Error).message}`);
      }
    }
    if (this.#hosts.length === 1) throw last;
    throw new ConnectionError(`no host of ${this.serviceUrl} answered (${errors.join("; ")})`, {
      cause: last,
    });
  }

  /**
   * `command` on a service connection. With several hosts, a connection lost during the request
   * moves on to the next host (each host once), as a lost host at connect time does.
   */
  async #serviceRequest(command: Command): Promise<{ conn: Connection; answer: Answer }> {
    for (let attempt = 1;; attempt++) {
      const conn = await this.serviceConnection();
      try {
        const frame = await conn.request(command);
        return { conn, answer: frame.command as unknown as Answer };
      } catch (error) {
        if (!(error instanceof ConnectionError) || attempt >= this.#hosts.length) throw error;
        if (this.#hosts[this.#current] === conn.url) {
          this.#current = (this.#current + 1) % this.#hosts.length;
        }
      }
    }
  }

  /** The connection to the broker that serves `topic`. */
  async connectionFor(topic: string): Promise<Connection> {
    const address = await this.lookup(topic);
    return this.pool.get(address.brokerUrl, address.physicalUrl);
  }

  /** Follows LOOKUP redirects until a broker says it owns `topic`. */
  async lookup(topic: string): Promise<BrokerAddress> {
    let conn: Connection | undefined;
    let authoritative = false;
    for (let hop = 0; hop < MAX_REDIRECTS; hop++) {
      const command = { type: "LOOKUP", topic, authoritative } as Command;
      let answer: Answer;
      if (conn === undefined) ({ conn, answer } = await this.#serviceRequest(command));
      else answer = (await conn.request(command)).command as unknown as Answer;
      const brokerUrl = String(
        (this.useTls ? answer.brokerServiceUrlTls : answer.brokerServiceUrl) ??
          answer.brokerServiceUrl ?? "",
      );
      if (!brokerUrl) throw BrokerError.from("ServiceNotReady", "lookup gave no broker URL", topic);
      // Through a proxy, sockets go where this lookup went (as the Java client does).
      const physicalUrl = answer.proxyThroughServiceUrl ? conn.url : brokerUrl;
      if (answer.response === "Connect") return { brokerUrl, physicalUrl };
      authoritative = answer.authoritative === true;
      conn = await this.pool.get(brokerUrl, physicalUrl);
    }
    throw new ConnectionError(`lookup of ${topic} redirected more than ${MAX_REDIRECTS} times`);
  }

  /** Number of partitions of `topic`; 0 for a non-partitioned topic. */
  async partitions(topic: string): Promise<number> {
    const { answer } = await this.#serviceRequest(
      { type: "PARTITIONED_METADATA", topic } as Command,
    );
    return Number(answer.partitions ?? 0);
  }

  /** Topics of a namespace (persistent ones by default), optionally filtered by a regex. */
  async topicsOfNamespace(
    namespace: string,
    mode: "PERSISTENT" | "NON_PERSISTENT" | "ALL" = "PERSISTENT",
  ): Promise<string[]> {
    const { answer } = await this.#serviceRequest(
      { type: "GET_TOPICS_OF_NAMESPACE", namespace, mode } as Command,
    );
    return (answer.topics as string[] | undefined) ?? [];
  }
}
