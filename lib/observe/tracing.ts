/**
 * `--otlp <url>`: OpenTelemetry traces of `score` and the terminal stages, exported over OTLP/HTTP
 * (protobuf) with the official OpenTelemetry JS SDK. A span per scored batch and per delivered
 * batch; the W3C trace context travels in each event's `properties` (`traceparent`, `tracestate`),
 * so it crosses a shell pipe, and a Pulsar topic as message properties: the next process's spans
 * are children of this one's. Loaded only when the flag is given (the SDK costs start-up time).
 *
 * @module
 */
import {
  type Context,
  context,
  type Link,
  ROOT_CONTEXT,
  type Span,
  SpanStatusCode,
  trace,
  type Tracer,
} from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { BatchSpanProcessor, TracerProvider } from "@opentelemetry/sdk-trace";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import { type Envelope, isControl, type Item } from "../envelope.ts";
import { describeError } from "../errors.ts";
import type { Sink } from "../sinks/types.ts";

/** Links per span to further parents (a batch of events from many traces). */
const MAX_LINKS = 32;
/** Events per delivery span at most. */
const MAX_SINK_BATCH = 1000;

const propagator = new W3CTraceContextPropagator();
const getter = {
  keys: (carrier: Record<string, unknown>) => Object.keys(carrier),
  get: (carrier: Record<string, unknown>, key: string) => {
    const value = carrier[key];
    return typeof value === "string" ? value : undefined;
  },
};
const setter = {
  set: (carrier: Record<string, string>, key: string, value: string) => {
    carrier[key] = value;
  },
};

/** What a scored batch was: its model rows, when the model run started, the model. */
export interface ScoredRun {
  rows: number;
  /** Epoch milliseconds. */
  startedMs: number;
  modelName: string;
  modelVersion: string;
}

/** The tracer of one command, and how to flush it. */
export interface Tracing {
  tracer: Tracer;
  /** For `score`: a span per scored batch, its context put into each event it scored. */
  scored(stage: string): (out: Item[], run: ScoredRun) => void;
  /** A sink that makes a span per delivered batch and passes its context on in each event. */
  traceSink(sink: Sink, stage: string): Sink;
  /** Exports what is left; at the end of the command. */
  shutdown(): Promise<void>;
}

/**
 * Starts exporting spans of `command` (the service name `edgepipe <command>`) to `url`.
 *
 * @example
 * ```ts ignore
 * const tracing = startTracing("http://127.0.0.1:4318/v1/traces", "score");
 * // … scoreBatches(items, { onScored: tracing.scored("score") }) …
 * await tracing.shutdown();
 * ```
 */
export function startTracing(url: string, command: string, log = console.error): Tracing {
  let failed = false;
  const exporter = new OTLPTraceExporter({ url });
  const export_ = exporter.export.bind(exporter);
  // One line on stderr the first time the collector cannot be reached; the events flow on.
  exporter.export = (spans, done) =>
    export_(spans, (result) => {
      if (result.error && !failed) {
        failed = true;
        log(`edgepipe ${command}: --otlp: cannot export spans to ${url}: ${result.error.message}`);
      }
      done(result);
    });
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ "service.name": `edgepipe ${command}` }),
    spanProcessors: [
      new BatchSpanProcessor({ exporter, scheduledDelayMillis: 1000, maxQueueSize: 8192 }),
    ],
  });
  const tracer = provider.getTracer("edgepipe");
  return {
    tracer,
    scored: (stage) => (out, run) => traceScored(tracer, stage, out, run),
    traceSink: (sink, stage) => new TracedSink(sink, tracer, stage),
    async shutdown() {
      // Traces are best effort: a collector that is away costs one line, not the command.
      try {
        await provider.shutdown();
      } catch (cause) {
        if (!failed) {
          failed = true;
          log(
            `edgepipe ${command}: --otlp: cannot export spans to ${url}: ${describeError(cause)}`,
          );
        }
      }
    },
  };
}

/** The trace context an event carries in its properties, if any. */
export function contextOf(event: Envelope): Context | undefined {
  const properties = event.properties;
  if (!properties || typeof properties.traceparent !== "string") return undefined;
  const extracted = propagator.extract(ROOT_CONTEXT, properties, getter);
  return trace.getSpanContext(extracted) ? extracted : undefined;
}

/** `event` with `span`'s context in its properties (a copy: the input is not changed). */
export function withContext(event: Envelope, span: Span): Envelope {
  const carrier: Record<string, string> = {};
  propagator.inject(trace.setSpan(context.active(), span), carrier, setter);
  return { ...event, properties: { ...event.properties, ...carrier } };
}

/** The first event's context as the parent, the other distinct ones as links. */
function parentsOf(events: Envelope[]): { parent: Context; links: Link[] } {
  let parent: Context | undefined;
  const links: Link[] = [];
  const seen = new Set<string>();
  for (const event of events) {
    const ctx = contextOf(event);
    const spanContext = ctx && trace.getSpanContext(ctx);
    if (!spanContext || seen.has(spanContext.spanId)) continue;
    seen.add(spanContext.spanId);
    if (parent === undefined) parent = ctx;
    else if (links.length < MAX_LINKS) links.push({ context: spanContext });
  }
  return { parent: parent ?? ROOT_CONTEXT, links };
}

function traceScored(tracer: Tracer, stage: string, out: Item[], run: ScoredRun): void {
  const events = out.filter((item) => !isControl(item)) as Envelope[];
  const { parent, links } = parentsOf(events);
  const span = tracer.startSpan(stage, {
    startTime: run.startedMs,
    links,
    attributes: {
      "edgepipe.events": run.rows,
      "edgepipe.model.name": run.modelName,
      "edgepipe.model.version": run.modelVersion,
    },
  }, parent);
  span.end();
  for (let i = 0; i < out.length; i++) {
    const item = out[i];
    if (!isControl(item)) out[i] = withContext(item, span);
  }
}

/** The span of the batch a sink is filling, and how many of its events are unsettled. */
interface SinkBatch {
  span: Span;
  /** Span ids of the parent and the links, so each upstream span is named once. */
  upstream: Set<string>;
  events: number;
  errors: number;
  pending: number;
  /** No more events join it (one of them settled: the sink delivered a batch). */
  closed: boolean;
}

/**
 * A span per batch of deliveries: a batch takes events until one of them settles (the sink
 * delivered what it had) or it holds 1,000, and ends when the last of them settles.
 */
class TracedSink implements Sink {
  readonly description: string;
  readonly joinTransaction?: (txn: string) => Promise<void>;
  readonly #sink: Sink;
  readonly #tracer: Tracer;
  readonly #stage: string;
  #open?: SinkBatch;

  constructor(sink: Sink, tracer: Tracer, stage: string) {
    this.#sink = sink;
    this.#tracer = tracer;
    this.#stage = stage;
    this.description = sink.description;
    if (sink.joinTransaction) this.joinTransaction = (txn) => sink.joinTransaction!(txn);
  }

  send(event: Envelope): Promise<void> {
    let batch = this.#open;
    const upstream = contextOf(event);
    const upstreamSpan = upstream && trace.getSpanContext(upstream);
    if (!batch || batch.closed || batch.events >= MAX_SINK_BATCH) {
      const span = this.#tracer.startSpan(this.#stage, {
        attributes: { "edgepipe.destination": this.description },
      }, upstream ?? ROOT_CONTEXT);
      batch = this.#open = {
        span,
        upstream: new Set(upstreamSpan ? [upstreamSpan.spanId] : []),
        events: 0,
        errors: 0,
        pending: 0,
        closed: false,
      };
    } else if (
      upstreamSpan && !batch.upstream.has(upstreamSpan.spanId) && batch.upstream.size <= MAX_LINKS
    ) {
      // Events of other upstream batches in this one: linked, as a batch has one parent.
      batch.upstream.add(upstreamSpan.spanId);
      batch.span.addLink({ context: upstreamSpan });
    }
    const own = batch;
    own.events++;
    own.pending++;
    const sent = this.#sink.send(withContext(event, own.span));
    return sent.then(() => this.#settle(own), (error) => {
      own.errors++;
      this.#settle(own);
      throw error;
    });
  }

  #settle(batch: SinkBatch): void {
    batch.closed = true;
    if (--batch.pending > 0) return;
    batch.span.setAttribute("edgepipe.events", batch.events);
    if (batch.errors > 0) {
      batch.span.setAttribute("edgepipe.errors", batch.errors);
      batch.span.setStatus({ code: SpanStatusCode.ERROR, message: `${batch.errors} rejected` });
    }
    batch.span.end();
  }

  flush(): Promise<void> {
    if (this.#open) this.#open.closed = true;
    return this.#sink.flush();
  }

  close(): Promise<void> {
    if (this.#open) this.#open.closed = true;
    return this.#sink.close();
  }
}
