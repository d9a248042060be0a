/**
 * The source side of the ack channel: a Unix socket in a private temporary directory where the
 * terminal stage of a shell pipeline reports, one per line, the ids of events it has delivered.
 *
 * @module
 */
import type { HelloRecord } from "../envelope.ts";
import { describeError } from "../errors.ts";
import { AckChannelError } from "./errors.ts";

/** Message ids are short; anything longer on the socket is a protocol error. */
const MAX_ID_BYTES = 4096;

const tooLong = () => new AckChannelError(`an id longer than ${MAX_ID_BYTES} bytes`);

/** Options of {@linkcode AckServer.listen}. */
export interface AckServerOptions {
  /** The source command, written into the hello record (`consume`). */
  source: string;
  /**
   * Called once per reported id, in the order the terminal reported them. A returned promise is
   * awaited (with the other ids of the same read) before the next read from the socket.
   */
  onAck: (id: string) => void | Promise<void>;
  /** Called when `onAck` throws or a connection fails; defaults to a line on stderr. */
  onError?: (error: AckChannelError) => void;
}

/**
 * Where a terminal stage reports delivered ids: the socket client ({@linkcode AckReporter} in
 * `ack_reporter.ts`) or, when the source runs in the same process, {@linkcode AckServer.local}.
 */
export interface AckSink {
  /** Hands ids to the source, in order; returns at once. */
  report(ids: readonly string[]): void;
  /** Everything is reported: the source takes this as "finished". */
  close(): Promise<void>;
}

/** Servers of this process by socket path, so that a terminal here can skip the socket. */
const inProcess = new Map<string, AckServer>();

/** How {@linkcode AckServer.waitForTerminal} ended. */
export type TerminalWait = "finished" | "timeout" | "never-connected";

/**
 * Listens for acknowledgements from the terminal stage of a pipeline.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { AckServer } from "./ack_server.ts";
 * const acked: string[] = [];
 * const server = await AckServer.listen({ source: "consume", onAck: (id) => void acked.push(id) });
 * const hello = server.hello(); // write this as the first line of stdout
 * const conn = await Deno.connect({ transport: "unix", path: hello.ack });
 * await conn.write(new TextEncoder().encode("CAcQAA==\n"));
 * conn.close();
 * await server.waitForTerminal(1000);
 * await server.close();
 * assert.deepEqual(acked, ["CAcQAA=="]);
 * ```
 */
export class AckServer {
  readonly #options: AckServerOptions;
  readonly #dir: string;
  readonly #listener: Deno.UnixListener;
  readonly #connections = new Set<Deno.UnixConn>();
  readonly #handlers = new Set<Promise<void>>();
  #everConnected = false;
  /** Terminals of this process reporting directly (see {@linkcode AckServer.local}). */
  #local = 0;
  #reported = 0;
  #closed = false;
  #changed: () => void = () => {};
  #accepting: Promise<void>;

  private constructor(options: AckServerOptions, dir: string, listener: Deno.UnixListener) {
    this.#options = options;
    this.#dir = dir;
    this.#listener = listener;
    this.#accepting = this.#accept();
  }

  /** Creates a private directory (mode 0700) and listens on `ack.sock` inside it. */
  static async listen(options: AckServerOptions): Promise<AckServer> {
    let dir: string;
    try {
      dir = await Deno.makeTempDir({ prefix: "edgepipe-ack-" });
      const listener = Deno.listen({ transport: "unix", path: `${dir}/ack.sock` });
      const server = new AckServer(options, dir, listener);
      inProcess.set(server.path, server);
      return server;
    } catch (cause) {
      throw new AckChannelError(`cannot open the ack socket: ${describeError(cause)}`, { cause });
    }
  }

  /**
   * A terminal stage in this process (`edgepipe run`) reports here directly, without the
   * socket: `undefined` unless `path` is the socket of a server this process listens on.
   * Ids reach `onAck` synchronously, in order; `close()` counts as the terminal disconnecting.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { AckServer } from "./ack_server.ts";
   * const acked: string[] = [];
   * const server = await AckServer.listen({ source: "run", onAck: (id) => void acked.push(id) });
   * const local = AckServer.local(server.hello().ack)!;
   * local.report(["a", "b"]);
   * await local.close();
   * assert.equal(await server.waitForTerminal(1000), "finished");
   * await server.close();
   * assert.deepEqual(acked, ["a", "b"]);
   * assert.equal(AckServer.local("/elsewhere/ack.sock"), undefined);
   * ```
   */
  static local(path: string): AckSink | undefined {
    const server = inProcess.get(path);
    return server === undefined ? undefined : server.#connectLocal();
  }

  #connectLocal(): AckSink | undefined {
    if (this.#closed) return undefined;
    this.#everConnected = true;
    this.#local++;
    this.#changed();
    const pending = new Set<Promise<void>>();
    let open = true;
    return {
      report: (ids) => {
        if (!open) return;
        for (const id of ids) {
          this.#reported++;
          try {
            const result = this.#options.onAck(id);
            if (result) {
              const settled = result.catch((cause) => this.#failAck(id, cause))
                .finally(() => pending.delete(settled));
              pending.add(settled);
            }
          } catch (cause) {
            this.#failAck(id, cause);
          }
        }
      },
      close: async () => {
        if (!open) return;
        open = false;
        await Promise.all(pending);
        this.#local--;
        this.#changed();
      },
    };
  }

  /** The socket path. */
  get path(): string {
    return `${this.#dir}/ack.sock`;
  }

  /** The record a source writes first so that the terminal stage knows where to report. */
  hello(): HelloRecord {
    return { $edgepipe: "hello", v: 1, ack: this.path, source: this.#options.source };
  }

  /** Ids received so far. */
  get reported(): number {
    return this.#reported;
  }

  /** Terminals connected right now (over the socket or in this process). */
  get connections(): number {
    return this.#connections.size + this.#local;
  }

  /** True once any terminal has connected. */
  get everConnected(): boolean {
    return this.#everConnected;
  }

  /**
   * Waits until every terminal that connected has finished reporting and disconnected, at most
   * `timeoutMs`. A terminal that has not connected yet is waited for at most `connectWithinMs`
   * (default: the same bound); 0 returns `never-connected` at once when none has.
   */
  async waitForTerminal(timeoutMs: number, connectWithinMs = timeoutMs): Promise<TerminalWait> {
    const started = Date.now();
    while (true) {
      if (this.#everConnected && this.#connections.size === 0 && this.#local === 0) {
        await Promise.all(this.#handlers);
        return "finished";
      }
      const bound = this.#everConnected ? timeoutMs : Math.min(timeoutMs, connectWithinMs);
      const left = started + bound - Date.now();
      if (left <= 0) return this.#everConnected ? "timeout" : "never-connected";
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve) => {
        this.#changed = resolve;
        timer = setTimeout(resolve, left);
      });
      clearTimeout(timer);
    }
  }

  /** Stops listening, drops open connections and removes the private directory. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    inProcess.delete(this.path);
    try {
      this.#listener.close();
    } catch { /* already closed */ }
    for (const conn of this.#connections) {
      try {
        conn.close();
      } catch { /* already closed */ }
    }
    await this.#accepting;
    await Promise.allSettled(this.#handlers);
    await Deno.remove(this.#dir, { recursive: true }).catch(() => {});
  }

  async #accept(): Promise<void> {
    try {
      for await (const conn of this.#listener) {
        this.#everConnected = true;
        this.#connections.add(conn);
        const handler = this.#serve(conn).finally(() => {
          this.#connections.delete(conn);
          this.#handlers.delete(handler);
          this.#changed();
        });
        this.#handlers.add(handler);
        this.#changed();
      }
    } catch (cause) {
      if (!this.#closed) this.#fail(new AckChannelError("ack socket failed", { cause }));
    }
  }

  async #serve(conn: Deno.UnixConn): Promise<void> {
    try {
      // Ids arrive in bursts: each read is decoded once and split, and its ids are acknowledged
      // together before the next read (no generator step or decode per id).
      const decoder = new TextDecoder("utf-8", { fatal: true });
      let rest = "";
      for await (const chunk of conn.readable) {
        const lines = (rest + decoder.decode(chunk, { stream: true })).split("\n");
        rest = lines.pop()!;
        if (rest.length > MAX_ID_BYTES) throw tooLong();
        await this.#acknowledge(lines);
      }
      await this.#acknowledge([rest + decoder.decode()]);
    } catch (cause) {
      if (this.#closed && cause instanceof Deno.errors.BadResource) return;
      this.#fail(new AckChannelError(`ack channel: ${describeError(cause)}`, { cause }));
    } finally {
      try {
        conn.close();
      } catch { /* the reader already closed it */ }
    }
  }

  /** Hands one read's ids to `onAck`; waits for the ones that return a promise. */
  async #acknowledge(lines: string[]): Promise<void> {
    const { onAck } = this.#options;
    let pending: Promise<void>[] | undefined;
    for (let line of lines) {
      if (line.length > MAX_ID_BYTES) throw tooLong();
      if (line.endsWith("\r")) line = line.slice(0, -1);
      if (line === "") continue;
      this.#reported++;
      // One id that cannot be acknowledged must not cost the ids after it.
      try {
        const result = onAck(line);
        if (result) (pending ??= []).push(result.catch((cause) => this.#failAck(line, cause)));
      } catch (cause) {
        this.#failAck(line, cause);
      }
    }
    if (pending) await Promise.all(pending);
  }

  #failAck(id: string, cause: unknown): void {
    this.#fail(new AckChannelError(`cannot acknowledge ${id}: ${describeError(cause)}`, { cause }));
  }

  #fail(error: AckChannelError): void {
    if (this.#options.onError) this.#options.onError(error);
    else console.error(`edgepipe ${this.#options.source}: ${error.message}`);
  }
}
