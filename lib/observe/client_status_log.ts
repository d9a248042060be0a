/**
 * What a command says about its Pulsar clients' retries: each status event (reconnecting,
 * reconnected, gave-up) is one stderr line and a count in `edgepipe_client_status_total{event}`.
 * Every client a command builds from its connection flags (`clientOptions`) reports here, so no
 * retry loop stays silent: consume's and produce's own, dead-letter producers, topic targets of
 * sink and route, live join tables.
 *
 * @module
 */
import { describeError } from "../errors.ts";
import type { ClientStatus } from "../pulsar/client_status.ts";
import type { Counter, Metrics } from "./metrics.ts";

const EVENTS = ["reconnecting", "reconnected", "gave-up"] as const;

interface Reporter {
  log: (line: string) => void;
  counters?: Record<ClientStatus["type"], Counter>;
}

const reporter: Reporter = { log: (line) => console.error(`edgepipe: ${line}`) };

/**
 * Names the command in the status lines (`edgepipe <command>: …`, on stderr) and, with `metrics`,
 * counts the events there. Called once a command knows its name and metrics.
 */
export function reportClientStatus(
  command: string,
  metrics?: Metrics,
  log: (line: string) => void = (line) => console.error(`edgepipe ${command}: ${line}`),
): void {
  reporter.log = log;
  if (!metrics) return;
  const help = "Status events of the command's Pulsar clients (reconnecting, reconnected, gave-up)";
  reporter.counters = Object.fromEntries(
    EVENTS.map((event) => [event, metrics.counter("client_status_total", help, { event })]),
  ) as Record<ClientStatus["type"], Counter>;
}

/** The listener `clientOptions` gives every client: logs and counts each event. */
export function onClientStatus(status: ClientStatus): void {
  reporter.counters?.[status.type].inc();
  reporter.log(describeStatus(status));
}

/**
 * One line for a status event.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { describeStatus } from "./client_status_log.ts";
 * assert.equal(
 *   describeStatus({
 *     type: "reconnecting",
 *     topic: "persistent://public/default/orders",
 *     attempt: 2,
 *     delayMs: 400,
 *     error: new Error("connection refused"),
 *   }),
 *   "reconnecting to persistent://public/default/orders (attempt 2, in 0.4 s): connection refused",
 * );
 * ```
 */
export function describeStatus(status: ClientStatus): string {
  switch (status.type) {
    case "reconnecting":
      return `reconnecting to ${status.topic} (attempt ${status.attempt}, in ${
        seconds(status.delayMs)
      } s): ${describeError(status.error)}`;
    case "reconnected":
      return `reconnected to ${status.topic} after ${seconds(status.afterMs)} s (${
        status.attempts === 1 ? "1 attempt" : `${status.attempts} attempts`
      })`;
    case "gave-up":
      return `gave up reconnecting to ${status.topic}: ${describeError(status.error)}`;
  }
}

function seconds(ms: number): string {
  return String(Math.round(ms / 100) / 10);
}
