/**
 * A middle stage that emits results of its own (a checkpointed window) sits between the source and
 * the terminal of a shell pipe as an **ack relay**: towards the source it is the terminal (it
 * reports ids to the socket of the source's `hello`), towards the terminal it is the source (it
 * writes its own `hello` and listens on its own socket). Ids that come back from the terminal are
 * routed by their prefix: ids of the stage's own results mark those results delivered, every other
 * id (events passed through, in-band acks) is relayed to the source unchanged.
 *
 * @module
 */
import type { HelloRecord } from "../envelope.ts";
import { AckReporter } from "./ack_reporter.ts";
import { AckServer, type TerminalWait } from "./ack_server.ts";

/** Options of {@linkcode AckRelay.open}. */
export interface AckRelayOptions {
  /** The stage name written into the relay's own hello record (e.g. `window`). */
  stage: string;
  /** Ids starting with this prefix are the stage's own results; all others go to the source. */
  ownPrefix: string;
  /** Called once per reported id of the stage's own results. */
  onDelivered: (id: string) => void;
  /** Called once per id relayed to the source (after it was queued for the source). */
  onRelayed?: (id: string) => void;
  /** Warnings (a source that went away); defaults to stderr. */
  warn?: (message: string) => void;
}

/**
 * The ack relay of one middle stage.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { AckServer } from "./ack_server.ts";
 * import { AckReporter } from "./ack_reporter.ts";
 * import { AckRelay } from "./ack_relay.ts";
 * const atSource: string[] = [];
 * const source = await AckServer.listen({ source: "consume", onAck: (id) => void atSource.push(id) });
 * const delivered: string[] = [];
 * const relay = await AckRelay.open(source.hello(), {
 *   stage: "window",
 *   ownPrefix: "w:1:",
 *   onDelivered: (id) => void delivered.push(id),
 * });
 * const terminal = new AckReporter(relay.hello().ack);
 * terminal.report(["CAcQAA==", "w:1:0"]);
 * await terminal.close();
 * await relay.close(1000);
 * await source.waitForTerminal(1000);
 * await source.close();
 * assert.ok(atSource.join() === "CAcQAA==" && delivered.join() === "w:1:0");
 * ```
 */
export class AckRelay {
  readonly #upstream: AckReporter;
  readonly #server: AckServer;
  readonly #counts: { relayed: number; delivered: number };

  private constructor(
    upstream: AckReporter,
    server: AckServer,
    counts: { relayed: number; delivered: number },
  ) {
    this.#upstream = upstream;
    this.#server = server;
    this.#counts = counts;
  }

  /** Connects to the source named by `upstream` and listens for the terminal on a new socket. */
  static async open(upstream: HelloRecord, options: AckRelayOptions): Promise<AckRelay> {
    const warn = options.warn ??
      ((message: string) => console.error(`edgepipe ${options.stage}: ${message}`));
    const reporter = new AckReporter(upstream.ack, warn);
    const counts = { relayed: 0, delivered: 0 };
    const server = await AckServer.listen({
      source: options.stage,
      onAck: (id) => {
        if (id.startsWith(options.ownPrefix)) {
          counts.delivered++;
          options.onDelivered(id);
        } else {
          counts.relayed++;
          reporter.report([id]);
          options.onRelayed?.(id);
        }
      },
      onError: (error) => warn(error.message),
    }).catch(async (error) => {
      await reporter.close();
      throw error;
    });
    return new AckRelay(reporter, server, counts);
  }

  /** The hello record to write downstream in place of the source's. */
  hello(): HelloRecord {
    return this.#server.hello();
  }

  /** Ids relayed to the source so far. */
  get relayed(): number {
    return this.#counts.relayed;
  }

  /** Ids of the stage's own results reported delivered so far. */
  get delivered(): number {
    return this.#counts.delivered;
  }

  /** True once a terminal has connected to the relay's socket. */
  get everConnected(): boolean {
    return this.#server.everConnected;
  }

  /**
   * Call after the stage's output has ended (stdout closed): waits until the terminal has reported
   * everything and disconnected (at most `timeoutMs`, and at most `connectWithinMs` for a terminal
   * that never connected), relays the rest, then closes the source connection — which tells the
   * source that its "terminal" has finished.
   */
  async close(timeoutMs: number, connectWithinMs = timeoutMs): Promise<TerminalWait> {
    const wait = await this.#server.waitForTerminal(timeoutMs, connectWithinMs);
    await this.#server.close();
    await this.#upstream.close();
    return wait;
  }
}
