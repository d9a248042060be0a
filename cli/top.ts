/**
 * `edgepipe top`: a live terminal view of a running pipe from its stages' metrics endpoints.
 *
 * @module
 */
import { UsageError } from "../lib/errors.ts";
import {
  metricsUrl,
  renderTop,
  type Row,
  rowOf,
  type Sample,
  sampleAll,
} from "../lib/observe/top.ts";
import { type Command, EXIT, parseDuration, parseFlags } from "./_command.ts";

const help = `edgepipe top — live view of a running pipe

Usage: edgepipe top <endpoint…> [--interval 1s] [--once]

Reads the metrics endpoint of each stage (started with --metrics <port>), in pipe order, and
shows per stage: events in and out per second, acknowledgements per second, totals, errors,
event-time lag (wall clock minus the newest event time) and the subscription backlog (consume
with --admin-url). An endpoint is a port (9101, on 127.0.0.1), host:port or a URL.

Options:
  --interval D   time between refreshes (default 1s)
  --once         print one screen (rates over one interval) and exit, without clearing

Example:
  edgepipe consume flights -s s --metrics 9101 | edgepipe filter --metrics 9102 "true" \\
    | edgepipe produce scored --metrics 9103 &
  edgepipe top 9101 9102 9103`;

/** The `top` command. */
export const command: Command = {
  name: "top",
  summary: "Live view of a running pipe's stages",
  help,
  async run(args) {
    const { values, positionals } = parseFlags("top", args, {
      interval: { type: "string", default: "1s" },
      once: { type: "boolean", default: false },
    });
    if (positionals.length === 0) {
      throw new UsageError("top: name the stages' metrics endpoints, e.g. edgepipe top 9101 9102");
    }
    const intervalMs = parseDuration(values.interval!, "--interval");
    if (intervalMs <= 0) throw new UsageError("--interval: must be more than 0");
    const urls = positionals.map((p) => {
      try {
        return metricsUrl(p);
      } catch (cause) {
        throw new UsageError(`top: '${p}' is not a port, host:port or URL`, { cause });
      }
    });
    let previous: (Sample | undefined)[] = urls.map(() => undefined);
    let stop = false;
    const quit = () => void (stop = true);
    Deno.addSignalListener("SIGINT", quit);
    try {
      for (let round = 0; !stop; round++) {
        const samples = await sampleAll(urls);
        const rows: Row[] = samples.map((s, i) =>
          s instanceof Error
            ? { url: urls[i], command: previous[i]?.command ?? "?", down: s.message }
            : rowOf(urls[i], previous[i], s)
        );
        previous = samples.map((s, i) => s instanceof Error ? previous[i] : s);
        if (values.once) {
          if (round === 1) {
            await Deno.stdout.write(new TextEncoder().encode(renderTop(rows, intervalMs)));
            return EXIT.ok;
          }
        } else {
          const screen = "\x1b[H\x1b[2J" + renderTop(rows, intervalMs);
          await Deno.stdout.write(new TextEncoder().encode(screen));
        }
        await new Promise((r) => setTimeout(r, intervalMs));
      }
      return EXIT.interrupted;
    } finally {
      Deno.removeSignalListener("SIGINT", quit);
    }
  },
};
