/**
 * `edgepipe top`: a live view of a running pipe, read from its stages' `--metrics` endpoints —
 * each stage's rates in and out, acknowledgements, errors, event-time lag and backlog.
 *
 * @module
 */

/** One sample of an endpoint: metric name (without `edgepipe_`) → value, and the command. */
export interface Sample {
  command: string;
  values: Map<string, number>;
  at: number;
}

/**
 * Parses the Prometheus text format as edgepipe writes it (one line per value, no timestamps).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseMetricsText } from "./top.ts";
 * const s = parseMetricsText('# TYPE edgepipe_events_in_total counter\nedgepipe_events_in_total{command="map"} 3\n');
 * assert.equal(s.command, "map");
 * assert.equal(s.values.get("events_in_total"), 3);
 * ```
 */
export function parseMetricsText(text: string, at = Date.now()): Sample {
  const values = new Map<string, number>();
  let command = "?";
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const m = /^edgepipe_([a-zA-Z_:][\w:]*)(\{([^}]*)\})?\s+(\S+)$/.exec(line);
    if (!m) continue;
    const labels = m[3] ?? "";
    const c = /command="([^"]*)"/.exec(labels);
    if (c) command = c[1];
    // Extra labels (a topic, a partition): summed per name.
    values.set(m[1], (values.get(m[1]) ?? 0) + Number(m[4]));
  }
  return { command, values, at };
}

/** What one row of the view shows. */
export interface Row {
  url: string;
  command: string;
  inRate?: number;
  outRate?: number;
  ackRate?: number;
  inTotal?: number;
  outTotal?: number;
  errors?: number;
  lagSeconds?: number;
  backlog?: number;
  down?: string;
}

/** A row from two samples of one endpoint (rates per second between them). */
export function rowOf(url: string, before: Sample | undefined, now: Sample): Row {
  const rate = (name: string) => {
    const a = before?.values.get(name);
    const b = now.values.get(name);
    if (a === undefined || b === undefined || now.at <= before!.at) return undefined;
    return Math.max(0, (b - a) / ((now.at - before!.at) / 1000));
  };
  const v = (name: string) => now.values.get(name);
  return {
    url,
    command: now.command,
    inRate: rate("events_in_total"),
    outRate: rate("events_out_total"),
    ackRate: rate("acks_total"),
    inTotal: v("events_in_total"),
    outTotal: v("events_out_total"),
    errors: v("errors_total"),
    lagSeconds: v("event_time_lag_seconds"),
    backlog: v("consumer_backlog_messages") ?? v("subscription_backlog"),
  };
}

function num(n: number | undefined, digits = 0): string {
  if (n === undefined || !Number.isFinite(n)) return "-";
  if (Math.abs(n) >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (Math.abs(n) >= 1e4) return `${(n / 1e3).toFixed(1)}k`;
  return n.toFixed(digits);
}

/** The screen: a header and one line per stage, in pipe order. */
export function renderTop(rows: Row[], intervalMs: number): string {
  const header = [
    "STAGE",
    "ENDPOINT",
    "IN/s",
    "OUT/s",
    "ACKS/s",
    "IN",
    "OUT",
    "ERRORS",
    "LAG s",
    "BACKLOG",
  ];
  const widths = [10, 22, 8, 8, 8, 9, 9, 7, 8, 8];
  const cell = (text: string, i: number) =>
    i < 2 ? text.padEnd(widths[i]) : text.padStart(widths[i]);
  const lines = [
    `edgepipe top — ${rows.length} stages, every ${intervalMs / 1000}s (Ctrl-C quits)`,
    "",
    header.map(cell).join(" "),
  ];
  for (const r of rows) {
    const endpoint = r.url.replace(/^https?:\/\//, "").replace(/\/metrics$/, "");
    if (r.down !== undefined) {
      lines.push([cell(r.command, 0), cell(endpoint, 1), `  down: ${r.down}`].join(" "));
      continue;
    }
    lines.push(
      [
        r.command,
        endpoint,
        num(r.inRate),
        num(r.outRate),
        num(r.ackRate),
        num(r.inTotal),
        num(r.outTotal),
        num(r.errors),
        num(r.lagSeconds, 1),
        num(r.backlog),
      ].map(cell).join(" "),
    );
  }
  return lines.join("\n") + "\n";
}

/** Reads every endpoint once; a failing one becomes a `down` row. */
export async function sampleAll(urls: string[]): Promise<(Sample | Error)[]> {
  return await Promise.all(urls.map(async (url) => {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
      if (!response.ok) return new Error(`HTTP ${response.status}`);
      return parseMetricsText(await response.text());
    } catch (error) {
      return error instanceof Error ? error : new Error(String(error));
    }
  }));
}

/** `9101` or `host:9101` or a URL → the metrics URL. */
export function metricsUrl(text: string): string {
  if (/^\d+$/.test(text)) return `http://127.0.0.1:${text}/metrics`;
  const url = /^https?:\/\//.test(text) ? text : `http://${text}`;
  return new URL(url).pathname === "/" ? `${url.replace(/\/$/, "")}/metrics` : url;
}
