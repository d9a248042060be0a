/**
 * Graceful stop on SIGINT and SIGTERM: the first signal aborts a signal that commands watch (they
 * stop reading, drain what is in flight, flush and acknowledge what was delivered); a second one
 * exits at once.
 *
 * @module
 */

/** Exit codes for a stop by signal, as shells report them (128 + signal number). */
export const SIGNAL_EXIT = { SIGINT: 130, SIGTERM: 143 } as const;

/**
 * Watches SIGINT and SIGTERM for one command run.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Shutdown } from "./shutdown.ts";
 * const shutdown = new Shutdown("replay");
 * assert.ok(!shutdown.signal.aborted);
 * assert.equal(shutdown.exitCode(0), 0);
 * shutdown.dispose();
 * ```
 */
export class Shutdown {
  readonly #controller = new AbortController();
  readonly #command: string;
  readonly #handlers: [Deno.Signal, () => void][] = [];
  #received: keyof typeof SIGNAL_EXIT | undefined;

  constructor(command: string) {
    this.#command = command;
    for (const name of ["SIGINT", "SIGTERM"] as const) {
      const handler = () => this.#onSignal(name);
      try {
        Deno.addSignalListener(name, handler);
        this.#handlers.push([name, handler]);
      } catch { /* signals are not available on this platform */ }
    }
  }

  /** Aborted by the first signal. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** The signal received, if any. */
  get received(): string | undefined {
    return this.#received;
  }

  /** `code` when no signal came, else 130 (SIGINT) or 143 (SIGTERM). */
  exitCode(code: number): number {
    return this.#received ? SIGNAL_EXIT[this.#received] : code;
  }

  /** Removes the listeners. */
  dispose(): void {
    for (const [name, handler] of this.#handlers) Deno.removeSignalListener(name, handler);
    this.#handlers.length = 0;
  }

  #onSignal(name: keyof typeof SIGNAL_EXIT): void {
    if (this.#received) {
      console.error(`edgepipe ${this.#command}: second ${name}, exiting without draining`);
      Deno.exit(SIGNAL_EXIT[name]);
    }
    this.#received = name;
    this.#controller.abort(new Error(name));
  }
}
