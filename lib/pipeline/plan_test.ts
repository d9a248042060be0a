import assert from "node:assert/strict";
import { join } from "node:path";
import { parsePipeline, PipelineFileError } from "./load_pipeline.ts";
import { describePlan, resolvePlan } from "./plan.ts";

function plan(text: string) {
  return resolvePlan(parsePipeline(text, join("/tmp", "p.yaml")), join("/tmp", "p.yaml"));
}

Deno.test("a consume source's serviceUrl is the broker of the pipeline's Pulsar sinks", () => {
  const resolved = plan(
    "source:\n  consume: { topic: in, subscription: s, serviceUrl: 'pulsar://edge:6650' }\n" +
      "sink: persistent://public/default/out\n",
  );
  assert.deepEqual(resolved.pulsar, { serviceUrl: "pulsar://edge:6650", sendTimeoutMs: 0 });
  assert.match(
    describePlan(resolved).join("\n"),
    /pulsar {3}sinks to pulsar:\/\/edge:6650; sends wait/,
  );
});

Deno.test("without a serviceUrl the sinks take the environment's broker", () => {
  const resolved = plan("source: { stdin: {} }\nsink: persistent://public/default/out\n");
  assert.deepEqual(resolved.pulsar, { sendTimeoutMs: 0 });
  assert.match(describePlan(resolved).join("\n"), /sinks to PULSAR_SERVICE_URL/);
  // No Pulsar destination: nothing to say about one.
  const local = plan("source: { stdin: {} }\nsink: stdout\n");
  assert.doesNotMatch(describePlan(local).join("\n"), /pulsar {3}/);
});

Deno.test("sendTimeout: a duration; 0 and absent mean the sends wait for the broker", () => {
  const sink = "sink: persistent://public/default/out\nsource: { stdin: {} }\n";
  assert.equal(plan(`${sink}sendTimeout: 5m\n`).pulsar.sendTimeoutMs, 300_000);
  assert.equal(plan(`${sink}sendTimeout: 2500\n`).pulsar.sendTimeoutMs, 2500);
  assert.equal(plan(`${sink}sendTimeout: 0\n`).pulsar.sendTimeoutMs, 0);
  assert.match(describePlan(plan(`${sink}sendTimeout: 1s\n`)).join("\n"), /send timeout 1000 ms/);
  assert.throws(() => plan(`${sink}sendTimeout: soon\n`), PipelineFileError);
});

Deno.test("a sink's schema: its file taken from the pipeline's directory; only for topics", () => {
  const resolved = plan(
    "source: { stdin: {} }\nsink: { to: 'topic:out', schema: 'avro:schemas/r.avsc' }\n",
  );
  assert.deepEqual(resolved.sink, {
    kind: "single",
    spec: { kind: "pulsar", topic: "out", schema: { kind: "avro", file: "/tmp/schemas/r.avsc" } },
    text: "topic:out avro:schemas/r.avsc",
  });
  assert.match(describePlan(resolved).join("\n"), /sink {5}out \[schema avro\]/);
  assert.throws(
    () => plan("source: { stdin: {} }\nsink: { to: stdout, schema: string }\n"),
    /sink: schema: only a Pulsar topic takes a schema, not stdout/,
  );
});

Deno.test("a route rule's topic may take a schema too", () => {
  const resolved = plan(
    "source: { stdin: {} }\nsink:\n  route:\n    rules:\n" +
      "      - { when: 'true', to: 'topic:a', schema: 'json:r.json' }\n" +
      "      - { when: 'false', to: 'topic:b' }\n",
  );
  assert.ok(resolved.sink.kind === "route");
  assert.deepEqual(resolved.sink.rules.map((r) => r.spec), [
    { kind: "pulsar", topic: "a", schema: { kind: "json", file: "/tmp/r.json" } },
    { kind: "pulsar", topic: "b" },
  ]);
  assert.throws(
    () =>
      plan(
        "source: { stdin: {} }\nsink:\n  route:\n    rules:\n" +
          "      - { when: 'true', to: stdout, schema: string }\n",
      ),
    /only a Pulsar topic takes a schema/,
  );
});
