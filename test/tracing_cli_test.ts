/**
 * `--otlp <url>`: spans of `score` and the terminal stages, received by a small OTLP/HTTP listener
 * and decoded with the OpenTelemetry project's protobuf definitions for Python. Two processes of a
 * shell pipe make one trace: each delivery span's parent is the score span of the batch its events
 * came from, found through the `traceparent` the events carried across the pipe. The model version
 * is computed here from model.onnx; the counts from the input.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { type ReceivedSpan, startOtlpReceiver } from "./harness/otlp_receiver.ts";

const MAIN = new URL("../cli/main.ts", import.meta.url).pathname;
const ROOT = new URL("..", import.meta.url).pathname;
const MODEL = join(ROOT, "models/flight-delay");
const FLIGHTS = join(ROOT, "examples/data/flights-2001-03-12-morning.ndjson");

/** `sha256:` and the first 16 hex digits of the SHA-256 of model.onnx. */
async function modelVersion(): Promise<string> {
  const digest = await crypto.subtle.digest(
    "SHA-256",
    await Deno.readFile(join(MODEL, "model.onnx")),
  );
  return "sha256:" + [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0"))
    .join("").slice(0, 16);
}

const sum = (spans: ReceivedSpan[], attribute: string) =>
  spans.reduce((a, s) => a + Number(s.attributes[attribute]), 0);

Deno.test("score | sink --otlp: a span per batch, and the sink's spans are children across the pipe", async () => {
  const receiver = await startOtlpReceiver();
  try {
    const n = 100;
    const ep = `'${Deno.execPath()}' run -A '${MAIN}'`;
    const pipe = [
      `head -${n} '${FLIGHTS}'`,
      `${ep} score --model '${MODEL}' --batch 32 --otlp ${receiver.url}`,
      `${ep} sink stdout --payload envelope --otlp ${receiver.url}`,
    ].join(" | ");
    const out = await new Deno.Command("sh", {
      args: ["-c", pipe],
      stdout: "piped",
      stderr: "piped",
    })
      .output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 0, stderr);
    assert.equal(stderr, "", "nothing on stderr: every export was accepted");
    const delivered = new TextDecoder().decode(out.stdout).trim().split("\n").map((l) =>
      JSON.parse(l)
    );
    assert.equal(delivered.length, n);
    assert.ok(
      receiver.contentTypes.every((t) => t === "application/x-protobuf"),
      `${receiver.contentTypes}`,
    );

    const spans = await receiver.spans();
    const scored = spans.filter((s) => s.service === "edgepipe score");
    const sunk = spans.filter((s) => s.service === "edgepipe sink stdout");
    assert.equal(scored.length + sunk.length, spans.length, JSON.stringify(spans));
    // score: one span per model run, every event in one of them, at most --batch each.
    assert.ok(scored.every((s) => s.name === "score"));
    assert.equal(sum(scored, "edgepipe.events"), n);
    assert.ok(scored.every((s) => Number(s.attributes["edgepipe.events"]) <= 32));
    assert.ok(scored.length >= Math.ceil(n / 32));
    const version = await modelVersion();
    const spec = JSON.parse(await Deno.readTextFile(join(MODEL, "spec.json")));
    for (const s of scored) {
      assert.equal(s.attributes["edgepipe.model.version"], version);
      assert.equal(s.attributes["edgepipe.model.name"], spec.name);
      assert.equal(s.parentSpanId, "", "the input carried no trace: each batch starts one");
      assert.ok(s.startNs > 0 && s.startNs <= s.endNs);
    }
    // sink: its spans hold every event; each is the child of a score span, in that span's trace.
    assert.ok(sunk.every((s) => s.name === "sink stdout"));
    assert.equal(sum(sunk, "edgepipe.events"), n);
    assert.ok(sunk.every((s) => s.attributes["edgepipe.destination"] === "stdout"));
    const byId = new Map(scored.map((s) => [s.spanId, s]));
    const upstream = new Set<string>();
    for (const s of sunk) {
      const parent = byId.get(s.parentSpanId);
      assert.ok(parent, `sink span ${s.spanId}: parent ${s.parentSpanId} is no score span`);
      assert.equal(s.traceId, parent.traceId);
      upstream.add(s.parentSpanId);
      for (const link of s.links) {
        assert.equal(byId.get(link.spanId)?.traceId, link.traceId, JSON.stringify(link));
        upstream.add(link.spanId);
      }
    }
    assert.deepEqual(
      [...upstream].sort(),
      [...byId.keys()].sort(),
      "every scored batch is delivered",
    );
    // Each delivered event names its delivery span in its properties, as W3C traceparent.
    const perSpan = new Map<string, number>();
    for (const event of delivered) {
      const m = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/.exec(event.properties?.traceparent ?? "");
      assert.ok(m, JSON.stringify(event.properties));
      const span = sunk.find((s) => s.spanId === m[2]);
      assert.equal(span?.traceId, m[1]);
      perSpan.set(m[2], (perSpan.get(m[2]) ?? 0) + 1);
    }
    for (const s of sunk) assert.equal(perSpan.get(s.spanId), s.attributes["edgepipe.events"]);
  } finally {
    await receiver.close();
  }
});

Deno.test("--otlp takes an http(s) URL: anything else is a usage error (exit 2), one line", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, "sink", "stdout", "--otlp", "collector:4318"],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr).trim();
  assert.equal(out.code, 2, stderr);
  assert.equal(stderr.split("\n").length, 1, stderr);
  assert.match(stderr, /--otlp: expected an http\(s\) URL, got 'collector:4318'/);
});

Deno.test("without --otlp, no command loads OpenTelemetry (the static module graph has none)", async () => {
  for (
    const entry of [
      "cli/main.ts",
      "cli/score.ts",
      "cli/sink.ts",
      "cli/route.ts",
      "cli/produce.ts",
      "cli/run.ts",
    ]
  ) {
    const info = await new Deno.Command(Deno.execPath(), {
      args: ["info", "--json", join(ROOT, entry)],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(info.code, 0, new TextDecoder().decode(info.stderr));
    const graph = JSON.parse(new TextDecoder().decode(info.stdout));
    const modules = new Map<string, { dependencies?: Dependency[] }>(
      graph.modules.map((m: { specifier: string }) => [m.specifier, m]),
    );
    // Follow static imports only (dynamic ones load when their code runs).
    const seen = new Set<string>(graph.roots);
    const queue = [...graph.roots];
    while (queue.length > 0) {
      const module = modules.get(graph.redirects?.[queue[0]] ?? queue[0]);
      queue.shift();
      for (const dep of module?.dependencies ?? []) {
        const target = dep.code?.specifier;
        if (!target || dep.isDynamic || seen.has(target)) continue;
        seen.add(target);
        queue.push(target);
      }
    }
    const reached = [...seen].map((s) => graph.redirects?.[s] ?? s);
    assert.ok(reached.length > 5, `${entry}: a graph (${reached.length} modules)`);
    const otel = reached.filter((s) => s.includes("opentelemetry"));
    assert.deepEqual(otel, [], `${entry} imports OpenTelemetry statically`);
    // …and with the flag the SDK is reached (through the dynamic import), so the check can fail.
    if (entry === "cli/sink.ts") {
      assert.ok(
        graph.modules.some((m: { specifier: string }) => m.specifier.includes("opentelemetry")),
      );
    }
  }
});

interface Dependency {
  code?: { specifier: string };
  isDynamic?: boolean;
}

Deno.test("run --otlp: the score stage's spans are the parents of the sink's, in one process", async () => {
  const receiver = await startOtlpReceiver();
  const dir = await Deno.makeTempDir({ prefix: "edgepipe-run-otlp-" });
  try {
    const n = 50;
    const lines = (await Deno.readTextFile(FLIGHTS)).trim().split("\n").slice(0, n);
    await Deno.writeTextFile(join(dir, "in.ndjson"), lines.join("\n") + "\n");
    await Deno.writeTextFile(
      join(dir, "p.yaml"),
      `source: { replay: { files: in.ndjson } }\nstages:\n  - score: { model: '${MODEL}', batchSize: 16 }\nsink: stdout\n`,
    );
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", MAIN, "run", join(dir, "p.yaml"), "--otlp", receiver.url],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    const spans = await receiver.spans();
    assert.ok(spans.every((s) => s.service === "edgepipe run"));
    const scored = spans.filter((s) => s.name === "run 1:score");
    const sunk = spans.filter((s) => s.name === "run 2:sink");
    assert.equal(scored.length + sunk.length, spans.length, JSON.stringify(spans));
    assert.deepEqual([sum(scored, "edgepipe.events"), sum(sunk, "edgepipe.events")], [n, n]);
    const ids = new Set(scored.map((s) => s.spanId));
    assert.ok(sunk.every((s) => ids.has(s.parentSpanId)), JSON.stringify(sunk));
  } finally {
    await receiver.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("--otlp with no collector listening: every event is still delivered, exit 0, one line", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  const ep = `'${Deno.execPath()}' run -A '${MAIN}'`;
  const pipe = `head -20 '${FLIGHTS}' | ${ep} sink stdout --otlp http://127.0.0.1:${port}`;
  const out = await new Deno.Command("sh", { args: ["-c", pipe], stdout: "piped", stderr: "piped" })
    .output();
  const stderr = new TextDecoder().decode(out.stderr).trim();
  assert.equal(out.code, 0, stderr);
  assert.equal(new TextDecoder().decode(out.stdout).trim().split("\n").length, 20);
  assert.equal(stderr.split("\n").length, 1, stderr);
  assert.match(
    stderr,
    /^edgepipe sink stdout: --otlp: cannot export spans to http:\/\/127\.0\.0\.1:\d+\/v1\/traces/,
  );
});
