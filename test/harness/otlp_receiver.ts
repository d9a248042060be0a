/**
 * A small OTLP/HTTP receiver for the tracing tests: it keeps every request body posted to
 * `/v1/traces`, and decodes them with the OpenTelemetry project's own protobuf definitions for
 * Python (`opentelemetry-proto`, pinned in test/requirements.txt), not with edgepipe's code or the
 * JS SDK that wrote them.
 *
 * @module
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";

/** One span as the receiver decoded it (ids in hex, as W3C `traceparent` writes them). */
export interface ReceivedSpan {
  service: string;
  name: string;
  traceId: string;
  spanId: string;
  /** "" for a root span. */
  parentSpanId: string;
  attributes: Record<string, string | number | boolean>;
  links: { traceId: string; spanId: string }[];
  startNs: number;
  endNs: number;
  /** 0 unset, 1 ok, 2 error. */
  status: number;
}

/** A running receiver. */
export interface OtlpReceiver {
  url: string;
  /** Request bodies so far. */
  bodies: Uint8Array[];
  /** Content types of the requests so far. */
  contentTypes: string[];
  /** Every span received so far, decoded. */
  spans(): Promise<ReceivedSpan[]>;
  close(): Promise<void>;
}

const DECODE = `
import base64, json, sys
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
spans = []
for body in json.load(sys.stdin):
    request = ExportTraceServiceRequest.FromString(base64.b64decode(body))
    for rs in request.resource_spans:
        service = next((a.value.string_value for a in rs.resource.attributes
                        if a.key == "service.name"), "")
        for ss in rs.scope_spans:
            for s in ss.spans:
                attrs = {}
                for a in s.attributes:
                    v = a.value
                    kind = v.WhichOneof("value")
                    attrs[a.key] = getattr(v, kind) if kind else None
                spans.append({
                    "service": service,
                    "name": s.name,
                    "traceId": s.trace_id.hex(),
                    "spanId": s.span_id.hex(),
                    "parentSpanId": s.parent_span_id.hex(),
                    "attributes": attrs,
                    "links": [{"traceId": l.trace_id.hex(), "spanId": l.span_id.hex()} for l in s.links],
                    "startNs": s.start_time_unix_nano,
                    "endNs": s.end_time_unix_nano,
                    "status": s.status.code,
                })
print(json.dumps(spans))
`;

/** Starts a receiver on a free loopback port. */
export function startOtlpReceiver(): Promise<OtlpReceiver> {
  const bodies: Uint8Array[] = [];
  const contentTypes: string[] = [];
  return new Promise((resolve) => {
    const server = Deno.serve({
      hostname: "127.0.0.1",
      port: 0,
      onListen: ({ port }) =>
        resolve({
          url: `http://127.0.0.1:${port}/v1/traces`,
          bodies,
          contentTypes,
          spans: () => decode(bodies),
          close: () => server.shutdown(),
        }),
    }, async (request) => {
      if (request.method !== "POST" || new URL(request.url).pathname !== "/v1/traces") {
        return new Response("not found", { status: 404 });
      }
      bodies.push(new Uint8Array(await request.arrayBuffer()));
      contentTypes.push(request.headers.get("content-type") ?? "");
      // An empty ExportTraceServiceResponse: nothing rejected.
      return new Response(new Uint8Array(0), {
        headers: { "content-type": "application/x-protobuf" },
      });
    });
  });
}

async function decode(bodies: Uint8Array[]): Promise<ReceivedSpan[]> {
  const child = new Deno.Command("python3", {
    args: ["-c", DECODE],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(
    new TextEncoder().encode(JSON.stringify(bodies.map((b) => Buffer.from(b).toString("base64")))),
  );
  await writer.close();
  const out = await child.output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  return JSON.parse(new TextDecoder().decode(out.stdout));
}
