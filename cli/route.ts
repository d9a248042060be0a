/**
 * `edgepipe route --to '<CEL>=<destination>' … [--default <destination>]`: the terminal stage that
 * sends each event where its attributes say, and acknowledges it once it arrived there.
 *
 * @module
 */
import { type ErrorPolicy, parseErrorPolicy } from "../lib/dead_letter.ts";
import { Shutdown } from "../lib/delivery/shutdown.ts";
import { deliverAll } from "../lib/delivery/terminal.ts";
import { UsageError } from "../lib/errors.ts";
import { parsePayloadShape } from "../lib/delivered_record.ts";
import { compileForCli } from "../lib/expr/cli.ts";
import { openDeadLetterSink } from "../lib/sinks/dead_letter_sinks.ts";
import { openSink, parseSinkSpec } from "../lib/sinks/open_sink.ts";
import type { Sink } from "../lib/sinks/types.ts";
import { type Route, RoutingSink } from "../lib/stages/route.ts";
import { parseRouteRule } from "../lib/stages/route_rule.ts";
import { type Command, EXIT, parseFlags, parsePositiveInt } from "./_command.ts";
import { OBSERVE_FLAGS, observeHelp, stdinItems } from "./_stage_runner.ts";
import { OTLP_FLAGS, otlpHelp, tracingFor } from "./_tracing.ts";
import { observeDelivery } from "../lib/observe/delivery_observer.ts";
import { parseMetricsPort } from "../lib/observe/serve_metrics.ts";

const help = `edgepipe route — send each event to the destination its attributes select

Usage: edgepipe route --to '<CEL condition>=<destination>' [--to …] [--default <destination>]

Rules are tried in order; an event goes to the first whose condition is true (with --fan-out:
to every one), else to --default. The condition sees the envelope as 'event'. An event is
acknowledged at its source once every destination it went to has delivered it.

Destinations:
  stdout | -                       NDJSON on stdout
  s3://bucket/prefix/              batched objects (prefix templates and ?format=… as in 'sink s3';
                                   S3 settings from the AWS_* environment variables)
  file:dir/prefix/                 rolling files (as in 'sink file')
  persistent://tenant/ns/topic     a Pulsar topic (also topic:<name>); connection from
                                   PULSAR_SERVICE_URL and PULSAR_AUTH_TOKEN
  Each destination takes ?payload=<shape> to differ from --payload.

Options:
  --to RULE           '<CEL>=<destination>'; repeatable
  --default DEST      destination for events no rule matches (without it they follow --on-error)
  --fan-out           send to every matching destination, not only the first
  --payload SHAPE     what every destination receives (docs/envelope.md): record (default: the
                      value's fields plus what stages added, e.g. score) | value | envelope |
                      field:<path>
  --on-error P        fail (default) | skip | dead-letter=<file|s3://…|file:dir|topic> for events
                      whose condition fails (missing field), that match nothing, or bad lines
  --max-in-flight N   events accepted but not yet delivered (default 50000)
  --max-line-bytes N  longest accepted input line (default 16 MiB)
${observeHelp(22)}
${otlpHelp(22)}
                      (a span per delivered batch and destination)

Examples:
  edgepipe consume persistent://public/default/payments -s router \\
    | edgepipe route --to 'event.value.amount > 1000.0=s3://audit/big/date=%Y-%m-%d/' \\
                     --to 'event.value.country != "US"=file:out/foreign/' --default stdout
  edgepipe score --model models/flight-delay <flights.ndjson \\
    | edgepipe route --to 'event.score.delayed > 0.5=topic:alerts' \\
                     --default 'file:out/all/?format=ndjson&payload=envelope'`;

/** The `route` command. */
export const command: Command = {
  name: "route",
  summary: "Send events to different sinks by CEL conditions",
  help,
  async run(args) {
    const { values, positionals } = parseFlags("route", args, {
      to: { type: "string", multiple: true, default: [] },
      default: { type: "string" },
      "fan-out": { type: "boolean", default: false },
      payload: { type: "string", default: "record" },
      "on-error": { type: "string", default: "fail" },
      "max-in-flight": { type: "string", default: "50000" },
      "max-line-bytes": { type: "string" },
      ...OBSERVE_FLAGS,
      ...OTLP_FLAGS,
    }, false);
    void positionals;
    if (values.to.length === 0) throw new UsageError("route: give at least one --to rule");
    const onError: ErrorPolicy = parseErrorPolicy(values["on-error"]);
    const maxInFlight = parsePositiveInt(values["max-in-flight"], "--max-in-flight");
    const maxLineBytes = values["max-line-bytes"] === undefined
      ? undefined
      : parsePositiveInt(values["max-line-bytes"], "--max-line-bytes");
    // Check everything before opening any connection.
    const payload = parsePayloadShape(values.payload);
    const destination = (text: string) => {
      const spec = parseSinkSpec(text);
      spec.payload ??= payload;
      return spec;
    };
    const rules = values.to.map(parseRouteRule).map((rule) => ({
      when: compileForCli(rule.condition),
      spec: destination(rule.destination),
      destination: rule.destination,
    }));
    const fallbackSpec = values.default === undefined ? undefined : destination(values.default);
    const observed = values.metrics === undefined && !values.stats
      ? undefined
      : observeDelivery("route", {
        metricsPort: values.metrics === undefined ? undefined : parseMetricsPort(values.metrics),
        stats: values.stats,
      });

    const tracing = await tracingFor(values.otlp, "route");
    const opened = new Map<string, Sink>();
    const open = async (text: string, spec: ReturnType<typeof parseSinkSpec>) => {
      let sink = opened.get(text);
      if (!sink) {
        sink = await openSink(spec);
        if (tracing) sink = tracing.traceSink(sink, "route");
        opened.set(text, sink);
      }
      return sink;
    };
    let router: RoutingSink | undefined;
    let deadLetters;
    let failed = false;
    let closeError: unknown;
    let code: number;
    // The first SIGINT/SIGTERM stops reading and delivers what was read; a second exits at once.
    const shutdown = new Shutdown("route");
    try {
      const routes: Route[] = [];
      for (const rule of rules) {
        routes.push({ when: rule.when, sink: await open(rule.destination, rule.spec) });
      }
      const fallback = fallbackSpec ? await open(values.default!, fallbackSpec) : undefined;
      router = new RoutingSink(routes, { fallback, fanOut: values["fan-out"] });
      observed?.start();
      deadLetters = onError.kind === "dead-letter"
        ? await openDeadLetterSink(onError.target)
        : undefined;
      await deliverAll(
        stdinItems({ name: "route", onError, deadLetters, maxLineBytes }),
        router,
        {
          stage: "route",
          onError,
          deadLetters,
          maxInFlight,
          signal: shutdown.signal,
          ...(observed ? { observer: observed.observer } : {}),
        },
      );
      code = shutdown.exitCode(EXIT.ok);
    } catch (err) {
      failed = true;
      throw err;
    } finally {
      await observed?.stop();
      shutdown.dispose();
      const closing = router ? [router.close()] : [...opened.values()].map((s) => s.close());
      if (deadLetters) closing.push(deadLetters.close());
      const results = await Promise.allSettled(closing);
      if (tracing) results.push(...await Promise.allSettled([tracing.shutdown()]));
      const rejected = results.find((r) => r.status === "rejected");
      // After a failure the first error already said why; closing must not replace it.
      if (rejected && !failed) closeError = (rejected as PromiseRejectedResult).reason;
    }
    if (closeError !== undefined) throw closeError;
    return code;
  },
};
