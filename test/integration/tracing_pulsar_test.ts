/**
 * `--otlp` across a Pulsar topic: `score | produce` in one shell pipe, `consume | sink` in
 * another; the trace context rides in the messages' properties, so the consumer side's delivery
 * spans are children of the producer's. Spans are received by a small OTLP/HTTP listener and
 * decoded with the OpenTelemetry project's protobuf definitions for Python.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { pulsarUrls } from "../harness/pulsar.ts";
import { type ReceivedSpan, startOtlpReceiver } from "../harness/otlp_receiver.ts";

const integration = { sanitizeOps: false, sanitizeResources: false };
const { serviceUrl } = await pulsarUrls();
const MAIN = new URL("../../cli/main.ts", import.meta.url).pathname;
const ROOT = new URL("../..", import.meta.url).pathname;
const MODEL = join(ROOT, "models/flight-delay");
const FLIGHTS = join(ROOT, "examples/data/flights-2001-03-12-morning.ndjson");

async function sh(script: string): Promise<string> {
  const out = await new Deno.Command("sh", {
    args: ["-c", script],
    env: { PULSAR_SERVICE_URL: serviceUrl, NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  return new TextDecoder().decode(out.stdout);
}

const events = (spans: ReceivedSpan[]) =>
  spans.reduce((a, s) => a + Number(s.attributes["edgepipe.events"]), 0);

Deno.test({
  name: "--otlp: score | produce, then consume | sink: the trace crosses the topic",
  ...integration,
  async fn() {
    const receiver = await startOtlpReceiver();
    try {
      const n = 60;
      const topic = `persistent://public/default/traces-${crypto.randomUUID().slice(0, 8)}`;
      const ep = `'${Deno.execPath()}' run -A '${MAIN}'`;
      await sh(
        `head -${n} '${FLIGHTS}' | ${ep} score --model '${MODEL}' --batch 16 --otlp ${receiver.url}` +
          ` | ${ep} produce ${topic} --otlp ${receiver.url}`,
      );
      const out = await sh(
        `${ep} consume ${topic} -s traces -c ${n} | ${ep} sink stdout --payload envelope` +
          ` --otlp ${receiver.url}`,
      );
      const delivered = out.trim().split("\n").map((l) => JSON.parse(l));
      assert.equal(delivered.length, n);

      const spans = await receiver.spans();
      const of = (service: string) => spans.filter((s) => s.service === service);
      const scored = of("edgepipe score");
      const produced = of("edgepipe produce");
      const sunk = of("edgepipe sink stdout");
      assert.deepEqual([events(scored), events(produced), events(sunk)], [n, n, n]);
      assert.ok(produced.every((s) => s.name === "produce"));
      assert.ok(
        produced.every((s) => String(s.attributes["edgepipe.destination"]).includes(topic)),
      );
      // produce's spans are children of score's; the consumer's sink spans of produce's.
      const childOf = (children: ReceivedSpan[], parents: ReceivedSpan[]) => {
        const byId = new Map(parents.map((p) => [p.spanId, p]));
        for (const child of children) {
          const parent = byId.get(child.parentSpanId);
          assert.ok(parent, `${child.service} span's parent ${child.parentSpanId} is unknown`);
          assert.equal(child.traceId, parent.traceId);
        }
      };
      childOf(produced, scored);
      childOf(sunk, produced);
      // The delivered events carry the consumer side's delivery span.
      const sinkIds = new Set(sunk.map((s) => s.spanId));
      for (const event of delivered) {
        const spanId = String(event.properties?.traceparent ?? "").split("-")[2];
        assert.ok(sinkIds.has(spanId), JSON.stringify(event.properties));
      }
    } finally {
      await receiver.close();
    }
  },
});
