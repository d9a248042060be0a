/**
 * Serves a command's metrics at `http://127.0.0.1:<port>/metrics` for Prometheus to scrape.
 *
 * @module
 */
import { EdgepipeError, UsageError } from "../errors.ts";

/** The metrics port could not be opened. */
export class MetricsServerError extends EdgepipeError {}

/** `--metrics <port>` and `--stats`, as every observer takes them. */
export interface ServeOptions {
  /** Serve Prometheus metrics on 127.0.0.1:<port>/metrics (0: any free port). */
  metricsPort?: number;
  /** Print a one-line summary on stderr every 5 s and at the end. */
  stats?: boolean;
  /** Called with the port the metrics server listens on. */
  onListen?: (port: number) => void;
}

/**
 * Starts the endpoint on the loopback interface; returns a function that stops it.
 * Port 0 picks a free port, reported through `onListen`. `beforeScrape` refreshes values that are
 * read only when asked for (at most 1 s is waited for it; the last values are served otherwise).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Metrics } from "./metrics.ts";
 * import { serveMetrics } from "./serve_metrics.ts";
 * const metrics = new Metrics("replay");
 * metrics.counter("events_out_total", "Events written").inc();
 * let port = 0;
 * const stop = serveMetrics(metrics, 0, (p) => (port = p));
 * const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
 * await stop();
 * assert.ok(text.includes("edgepipe_events_out_total"));
 * ```
 */
export function serveMetrics(
  metrics: { render(): string },
  port: number,
  onListen: (port: number) => void = () => {},
  beforeScrape?: () => Promise<void>,
): () => Promise<void> {
  let server: Deno.HttpServer;
  try {
    server = Deno.serve({
      hostname: "127.0.0.1",
      port,
      onListen: ({ port }) => onListen(port),
    }, async (request) => {
      const path = new URL(request.url).pathname;
      if (path !== "/metrics" && path !== "/") return new Response("not found\n", { status: 404 });
      if (beforeScrape) await refreshed(beforeScrape);
      return new Response(metrics.render(), {
        headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" },
      });
    });
  } catch (cause) {
    throw new MetricsServerError(`--metrics: cannot listen on 127.0.0.1:${port}`, { cause });
  }
  // A scrape endpoint must not keep a finished command alive.
  server.unref();
  return () => server.shutdown();
}

/** Runs `refresh`, waiting at most 1 s for it. */
async function refreshed(refresh: () => Promise<void>): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    refresh().catch(() => {}),
    new Promise((resolve) => (timer = setTimeout(resolve, 1000))),
  ]);
  clearTimeout(timer);
}

/** Parses the `--metrics <port>` value. */
export function parseMetricsPort(text: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65535) {
    throw new UsageError(`--metrics: expected a port number, got '${text}'`);
  }
  return port;
}
