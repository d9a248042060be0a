/**
 * `--otlp <url>` of `score`, the terminal commands and `run`: the flag, its help, and the tracer
 * (the OpenTelemetry SDK is imported only when the flag is given).
 *
 * @module
 */
import { parseOtlpUrl } from "../lib/observe/otlp_url.ts";
import type { Tracing } from "../lib/observe/tracing.ts";

/** The flag (for `parseFlags`). */
export const OTLP_FLAGS = { otlp: { type: "string" } } as const;

/** Its help lines, the description starting at `column`. */
export function otlpHelp(column: number): string {
  return [
    "  --otlp <url>".padEnd(column) + "OpenTelemetry traces over OTLP/HTTP to <url> (e.g.",
    " ".repeat(column) + "http://127.0.0.1:4318): a span per batch; the trace context",
    " ".repeat(column) + "travels on in each event's properties (traceparent)",
  ].join("\n");
}

/** The tracer of `command` when `--otlp` was given; undefined (and nothing loaded) when not. */
export async function tracingFor(
  url: string | undefined,
  command: string,
): Promise<Tracing | undefined> {
  if (url === undefined) return undefined;
  const endpoint = parseOtlpUrl(url);
  const { startTracing } = await import("../lib/observe/tracing.ts");
  return startTracing(endpoint, command);
}
