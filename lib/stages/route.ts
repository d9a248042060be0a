/**
 * Routing: each event goes to the destination of the first rule whose CEL condition holds (or to
 * every matching one with `fanOut`), else to the default destination. `send` settles when every
 * destination the event went to has delivered it, so an event is acknowledged at its source only
 * once it has arrived where it was routed.
 *
 * @module
 */
import type { Envelope } from "../envelope.ts";
import { InputError } from "../errors.ts";
import type { CompiledExpression } from "../expr/cel.ts";
import type { Sink } from "../sinks/types.ts";

/** An event no rule matched and there is no default destination. */
export class NoRouteError extends InputError {}

/** A compiled rule: where events go when `when` is true. */
export interface Route {
  when: CompiledExpression;
  sink: Sink;
}

/** Options of {@linkcode RoutingSink}. */
export interface RoutingOptions {
  /** Where events go that match no rule; without it they are rejected with NoRouteError. */
  fallback?: Sink;
  /** Send to every matching destination instead of the first. */
  fanOut?: boolean;
}

/**
 * A {@linkcode Sink} that dispatches to other sinks by condition.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { RoutingSink } from "./route.ts";
 * import { compileExpression } from "../expr/cel.ts";
 * import type { Sink } from "../sinks/types.ts";
 * import type { Envelope } from "../envelope.ts";
 * const memory = (seen: Envelope[]): Sink => ({
 *   description: "memory",
 *   send: (event) => Promise.resolve(void seen.push(event)),
 *   flush: () => Promise.resolve(),
 *   close: () => Promise.resolve(),
 * });
 * const big: Envelope[] = [];
 * const rest: Envelope[] = [];
 * const router = new RoutingSink(
 *   [{ when: compileExpression("event.value.amount > 100.0"), sink: memory(big) }],
 *   { fallback: memory(rest) },
 * );
 * await router.send({ value: { amount: 250 } });
 * await router.send({ value: { amount: 5 } });
 * assert.equal(big.length, 1);
 * assert.equal(rest.length, 1);
 * ```
 */
export class RoutingSink implements Sink {
  readonly description: string;
  readonly #routes: Route[];
  readonly #fallback?: Sink;
  readonly #fanOut: boolean;
  readonly #sinks: Sink[];

  constructor(routes: Route[], options: RoutingOptions = {}) {
    this.#routes = routes;
    this.#fallback = options.fallback;
    this.#fanOut = options.fanOut ?? false;
    this.#sinks = [
      ...new Set([...routes.map((r) => r.sink), ...(options.fallback ? [options.fallback] : [])]),
    ];
    this.description = `route(${
      routes.map((r) => `${r.when.source} → ${r.sink.description}`).join("; ")
    }${options.fallback ? `; else → ${options.fallback.description}` : ""})`;
  }

  send(event: Envelope): Promise<void> {
    let targets: Sink[];
    try {
      targets = this.#targets(event);
    } catch (err) {
      return Promise.reject(err);
    }
    if (targets.length === 1) return targets[0].send(event);
    return Promise.all(targets.map((sink) => sink.send(event))).then(() => {});
  }

  async flush(): Promise<void> {
    await settleAll(this.#sinks.map((sink) => sink.flush()));
  }

  async close(): Promise<void> {
    await settleAll(this.#sinks.map((sink) => sink.close()));
  }

  #targets(event: Envelope): Sink[] {
    const targets: Sink[] = [];
    for (const route of this.#routes) {
      const verdict = route.when.evaluate(event);
      if (typeof verdict !== "boolean") {
        throw new InputError(
          `route condition '${route.when.source}' gave ${
            JSON.stringify(verdict)
          }, not true or false`,
        );
      }
      if (!verdict) continue;
      if (!targets.includes(route.sink)) targets.push(route.sink);
      if (!this.#fanOut) break;
    }
    if (targets.length > 0) return targets;
    if (this.#fallback) return [this.#fallback];
    throw new NoRouteError(
      `no route matched event${
        typeof event.id === "string" ? ` ${event.id}` : ""
      } and there is no --default`,
    );
  }
}

/** Waits for all; throws the first failure after every promise has settled. */
async function settleAll(promises: Promise<void>[]): Promise<void> {
  const results = await Promise.allSettled(promises);
  const failed = results.find((r) => r.status === "rejected");
  if (failed) throw (failed as PromiseRejectedResult).reason;
}
