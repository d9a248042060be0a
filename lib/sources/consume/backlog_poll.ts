/**
 * The subscription backlog for `consume --stats` / `--metrics`, polled from the broker's admin API.
 *
 * @module
 */
import { describeError } from "../../errors.ts";
import type { PulsarAdmin } from "../../pulsar/admin.ts";

/**
 * Polls the subscription's backlog (summed over topics) every `intervalMs` (default 5 s) and
 * hands it to `set`; the first failure is logged once. Returns a stop function that lets a poll
 * under way answer first (at most 5 s), so that a last stats line has the value.
 */
export function pollBacklog(
  admin: PulsarAdmin,
  topics: string[],
  subscription: string,
  set: (backlog: number) => void,
  log: (message: string) => void,
  intervalMs = 5000,
): () => Promise<void> {
  let warned = false;
  let running: Promise<void> | undefined;
  const poll = async () => {
    try {
      let total = 0;
      for (const topic of topics) {
        total += (await admin.topicStats(topic)).subscriptions[subscription]?.backlog ?? 0;
      }
      set(total);
    } catch (err) {
      if (!warned) log(`backlog from --admin-url: ${describeError(err)}`);
      warned = true;
    }
  };
  const start = () => {
    running ??= poll().finally(() => (running = undefined));
  };
  start();
  const timer = setInterval(start, intervalMs);
  Deno.unrefTimer(timer as unknown as number);
  return async () => {
    clearInterval(timer);
    if (!running) return;
    let wait: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([running, new Promise((resolve) => (wait = setTimeout(resolve, 5000)))]);
    clearTimeout(wait);
  };
}
