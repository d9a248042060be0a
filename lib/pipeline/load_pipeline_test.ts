import assert from "node:assert/strict";
import { loadPipeline, parsePipeline, PipelineFileError } from "./load_pipeline.ts";

const ok = `
source:
  replay: { files: [a.ndjson, b.csv], key: origin, time: date }
stages:
  - filter: 'event.value.delay > 15.0'
  - map: { expr: '{"d": event.value.delay}', set: document }
  - join: { file: airports.ndjson, on: value.origin=iata }
  - score: { model: ../models/flight-delay, batchSize: 64, maxDelay: 5ms }
  - window: { key: value.origin, sliding: { size: 1h, every: 5m }, aggregates: "count()" }
sink:
  route:
    rules:
      - { when: 'event.value.d > 1.0', to: 's3://bucket/x/' }
    default: stdout
onError: dead-letter=bad.ndjson
`;

function problem(text: string, env: Record<string, string> = {}): string {
  try {
    parsePipeline(text, "p.yaml", (name) => env[name]);
  } catch (err) {
    assert.ok(err instanceof PipelineFileError, String(err));
    return err.message;
  }
  assert.fail("expected the pipeline to be rejected");
}

Deno.test("a full pipeline file validates, with defaults filled in", () => {
  const config = parsePipeline(ok, "p.yaml");
  assert.equal(config.stages.length, 5);
  assert.deepEqual(config.stages[1], {
    map: { expr: '{"d": event.value.delay}', set: "document" },
  });
  assert.deepEqual(config.stages[2], {
    join: { file: "airports.ndjson", on: "value.origin=iata", as: "ref" },
  });
  assert.equal(config.onError, "dead-letter=bad.ndjson");
  assert.ok(typeof config.sink === "object" && "route" in config.sink && !config.sink.route.fanOut);
});

Deno.test("problems name the file, line, column, path and what is wrong", () => {
  const cases: [string, string][] = [
    [
      "source: { stdin: {} }\nsink: stdout\nstages:\n  - filtr: x\n",
      "p.yaml:4:5: stages[0]: expected one of: filter, map, join, score, window, pattern, process",
    ],
    [
      "source:\n  replay: { files: a.ndjson, tme: date }\nsink: stdout\n",
      "p.yaml:2:11: source.replay: unknown field 'tme'",
    ],
    [
      "source: { stdin: {} }\nstages:\n  - window: { key: k, aggregates: 'count()' }\nsink: stdout\n",
      "p.yaml:3:13: stages[0].window: give exactly one of tumbling, sliding, session or count",
    ],
    [
      "source: { stdin: {} }\nstages:\n  - window: { key: k, tumbling: 5 minutes, aggregates: 'count()' }\nsink: stdout\n",
      "p.yaml:3:33: stages[0].window.tumbling: expected a duration such as 500ms, 5s, 5m, 1h",
    ],
    [
      "source: { stdin: {} }\nsink: stdout\nonError: drop\n",
      "p.yaml:3:10: onError: expected fail, skip or dead-letter=<file|s3://…|file:dir|topic>",
    ],
    ["sink: stdout\n", "p.yaml:1:1: source: expected one of: replay, consume, mqtt, stdin"],
    [
      "source: { stdin: {} }\n",
      "p.yaml:1:1: sink: expected a destination string, { to: …, schema: … } or { route: … }",
    ],
  ];
  for (const [text, message] of cases) assert.equal(problem(text), message);
});

Deno.test("a consume source's own problems are named, not 'unknown field consume'", () => {
  // Before, the stdin branch's default made every consume problem an unknown field.
  assert.equal(
    problem(
      "source:\n  consume: { topic: a, subscription: s, initialPosition: sideways }\nsink: stdout\n",
    ),
    "p.yaml:2:58: source.consume.initialPosition: " +
      'Invalid option: expected one of "earliest"|"latest"',
  );
});

Deno.test("schema: consume auto|none, a topic sink's producer schema, precise errors", () => {
  const config = parsePipeline(
    "source:\n  consume: { topic: a, subscription: s }\n" +
      "sink: { to: 'topic:out', schema: 'avro:reading.avsc' }\n",
    "p.yaml",
  );
  assert.ok("consume" in config.source && config.source.consume.schema === "auto");
  assert.deepEqual(config.sink, { to: "topic:out", schema: "avro:reading.avsc" });
  assert.equal(
    problem("source:\n  consume: { topic: a, subscription: s, schema: avro }\nsink: stdout\n"),
    "p.yaml:2:49: source.consume.schema: expected auto or none",
  );
  assert.equal(
    problem("source: { stdin: {} }\nsink: { to: 'topic:out', schema: 'xml:a' }\n"),
    "p.yaml:2:34: sink.schema: expected avro:<file.avsc>, json:<file>, " +
      "protobuf-native:<descriptor set>:<message>, string or auto",
  );
  assert.match(
    problem("source: { stdin: {} }\nsink: { to: 'topic:out', schema: 'avro:a', extra: 1 }\n"),
    /sink: unknown field 'extra'/,
  );
});

Deno.test("invalid YAML is reported with its position", () => {
  assert.match(problem("source: [\n"), /^p\.yaml:2:1: invalid YAML: /);
  assert.match(problem("a: 1\na: 2\n"), /^p\.yaml:2:1: invalid YAML: Map keys must be unique/);
});

Deno.test("several problems are all reported on one line", () => {
  const message = problem("source: { stdin: {}, extra: 1 }\nsink: stdout\nbogus: true\n");
  assert.match(message, /\(and 1 more: /);
});

Deno.test("environment variables are substituted, with defaults, and unset ones are errors", () => {
  const text = "source: { stdin: {} }\nsink: s3://${BUCKET}/${PREFIX:-events}/\n";
  assert.equal(
    parsePipeline(text, "p.yaml", (name) => ({ BUCKET: "lake" } as Record<string, string>)[name])
      .sink,
    "s3://lake/events/",
  );
  assert.equal(
    problem(text),
    "p.yaml:2:7: ${BUCKET} is not set (give a default with ${BUCKET:-…})",
  );
});

Deno.test("a missing pipeline file is a PipelineFileError naming it", async () => {
  await assert.rejects(
    loadPipeline("/nonexistent/pipeline.yaml"),
    (err: unknown) =>
      err instanceof PipelineFileError &&
      err.message === "cannot read /nonexistent/pipeline.yaml: no such file",
  );
});

Deno.test("metrics: and stats: validate as a port and a flag, from ${VAR}s too", () => {
  const base = "source: { stdin: {} }\nsink: stdout\n";
  const config = parsePipeline(
    `${base}metrics: \${PORT}\nstats: "true"\n`,
    "p.yaml",
    (name) => name === "PORT" ? "9464" : undefined,
  );
  assert.equal(config.metrics, 9464);
  assert.equal(config.stats, true);
  assert.match(problem(`${base}metrics: 70000\n`), /^p\.yaml:3:\d+: metrics: expected a port/);
  assert.match(problem(`${base}metrics: http\n`), /^p\.yaml:3:\d+: metrics: expected a port/);
  assert.match(problem(`${base}stats: maybe\n`), /^p\.yaml:3:\d+: stats: expected true or false/);
});
