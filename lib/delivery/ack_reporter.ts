/**
 * The terminal side of the ack channel: connects to the socket a `hello` record names and writes
 * delivered ids there, one per line.
 *
 * @module
 */
import { describeError } from "../errors.ts";
import { AckChannelError } from "./errors.ts";

/**
 * Reports delivered ids to a source. Reports made before the connection is up are queued; if the
 * source has gone away, reports are dropped after one warning (the source's broker redelivers
 * whatever it never acknowledged, so nothing is lost).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { AckServer } from "./ack_server.ts";
 * import { AckReporter } from "./ack_reporter.ts";
 * const got: string[] = [];
 * const server = await AckServer.listen({ source: "consume", onAck: (id) => void got.push(id) });
 * const reporter = new AckReporter(server.hello().ack);
 * reporter.report(["a", "b"]);
 * await reporter.close();
 * await server.waitForTerminal(1000);
 * await server.close();
 * assert.equal(got.join(), "a,b");
 * ```
 */
export class AckReporter {
  readonly path: string;
  readonly #warn: (message: string) => void;
  readonly #encoder = new TextEncoder();
  #conn: Promise<Deno.UnixConn | undefined>;
  #chain: Promise<void> = Promise.resolve();
  #queued: string[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  #failed = false;
  #reported = 0;

  constructor(path: string, warn: (message: string) => void = console.error) {
    this.path = path;
    this.#warn = warn;
    this.#conn = Deno.connect({ transport: "unix", path }).catch((cause) => {
      this.#fail(new AckChannelError(`cannot connect to ack socket ${path}`, { cause }));
      return undefined;
    });
  }

  /** Ids handed to the socket so far. */
  get reported(): number {
    return this.#reported;
  }

  /** True when the channel broke and further reports are dropped. */
  get failed(): boolean {
    return this.#failed;
  }

  /** Queues ids for the source; returns at once. Writes happen in order. */
  report(ids: readonly string[]): void {
    if (ids.length === 0 || this.#failed) return;
    for (const id of ids) this.#queued.push(id);
    // Sends settle a batch at a time: gather them into one write per turn of the event loop.
    if (this.#timer === undefined) this.#timer = setTimeout(() => this.#write(), 0);
  }

  #write(): void {
    this.#timer = undefined;
    if (this.#queued.length === 0) return;
    const bytes = this.#encoder.encode(this.#queued.join("\n") + "\n");
    const count = this.#queued.length;
    this.#queued = [];
    this.#chain = this.#chain.then(async () => {
      const conn = await this.#conn;
      if (!conn || this.#failed) return;
      try {
        let offset = 0;
        while (offset < bytes.length) offset += await conn.write(bytes.subarray(offset));
        this.#reported += count;
      } catch (cause) {
        this.#fail(new AckChannelError("ack socket closed by the source", { cause }));
      }
    });
  }

  /** Resolves when every queued report is written. */
  flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#write();
    return this.#chain;
  }

  /** Writes what is queued, then closes the socket: the source takes this as "finished". */
  async close(): Promise<void> {
    await this.flush();
    const conn = await this.#conn;
    try {
      conn?.close();
    } catch { /* already closed */ }
  }

  #fail(error: AckChannelError): void {
    if (this.#failed) return;
    this.#failed = true;
    this.#warn(
      `warning: ${
        describeError(error)
      }; later deliveries are not acknowledged (they will be redelivered)`,
    );
  }
}
