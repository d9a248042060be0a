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
  assert.deepEqual(resolved.pulsar, {
    serviceUrl: "pulsar://edge:6650",
    sendTimeoutMs: 0,
    connection: { "service-url": "pulsar://edge:6650" },
  });
  assert.match(
    describePlan(resolved).join("\n"),
    /pulsar {3}sinks to pulsar:\/\/edge:6650; sends wait/,
  );
});

Deno.test("without a serviceUrl the sinks take the environment's broker", () => {
  const resolved = plan("source: { stdin: {} }\nsink: persistent://public/default/out\n");
  assert.deepEqual(resolved.pulsar, { sendTimeoutMs: 0, connection: {} });
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

Deno.test("pulsar: block: auth, client.conf and TLS as the commands' flags, paths from the file", () => {
  const sink = "source: { stdin: {} }\nsink: persistent://public/default/out\n";
  const oauth = plan(
    `${sink}pulsar:\n  serviceUrl: pulsar+ssl://b:6651\n  tls: { ca: certs/ca.pem }\n` +
      "  auth:\n    oauth2: { issuerUrl: 'https://auth.example', privateKey: 'file:///c.json', " +
      "audience: 'urn:p' }\n",
  );
  assert.deepEqual(oauth.pulsar.connection, {
    "service-url": "pulsar+ssl://b:6651",
    "auth-plugin": "oauth2",
    "auth-params":
      '{"issuerUrl":"https://auth.example","privateKey":"file:///c.json","audience":"urn:p"}',
    "tls-ca": "/tmp/certs/ca.pem",
  });
  const described = describePlan(oauth).join("\n");
  assert.match(described, /OAuth2 client credentials from https:\/\/auth\.example/);
  const token = plan(`${sink}pulsar:\n  clientConf: client.conf\n  auth: { token: 'file:tok' }\n`);
  assert.deepEqual(token.pulsar.connection, {
    "client-conf": "/tmp/client.conf",
    token: "file:/tmp/tok",
  });
  const literal = plan(`${sink}pulsar:\n  auth: { token: 'eyJ.secret.sig' }\n`);
  assert.doesNotMatch(describePlan(literal).join("\n"), /secret/, "never the token itself");
});

Deno.test("pulsar: and s3: blocks: precise errors", () => {
  const sink = "source: { stdin: {} }\nsink: stdout\n";
  const problem = (text: string) => {
    try {
      plan(sink + text);
    } catch (err) {
      assert.ok(err instanceof PipelineFileError, String(err));
      return err.message;
    }
    assert.fail("expected a PipelineFileError");
  };
  assert.match(
    problem("pulsar:\n  auth: { token: t, oauth2: { issuerUrl: 'https://i', privateKey: p } }\n"),
    /pulsar\.auth: give exactly one of token, oauth2 or plugin/,
  );
  assert.match(
    problem("pulsar:\n  auth: { oauth2: { issuerUrl: 'ftp://i', privateKey: p } }\n"),
    /pulsar\.auth\.oauth2\.issuerUrl: expected the issuer's http\(s\):\/\/ URL/,
  );
  assert.match(
    problem("pulsar:\n  auth: { oauth2: { issuerUrl: 'https://i' } }\n"),
    /pulsar\.auth\.oauth2: give privateKey/,
  );
  assert.match(problem("pulsar:\n  auth: { params: x, token: t }\n"), /params belong to a plugin/);
  assert.match(
    problem("pulsar:\n  serviceUrl: http://b:8080\n"),
    /pulsar\.serviceUrl: expected pulsar:/,
  );
  assert.match(
    problem("pulsar:\n  tls: { cert: c.pem }\n"),
    /pulsar\.tls: cert and key go together/,
  );
  assert.match(problem("s3:\n  profil: team\n"), /s3/);
  assert.deepEqual(plan(sink + "s3: { profile: team, region: eu-west-1 }\n").s3, {
    profile: "team",
    region: "eu-west-1",
  });
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

Deno.test("consume in a pipeline: subscription type, topic list or pattern, start, partitions", () => {
  const resolved = plan(
    "source:\n  consume:\n    topic: [a, b]\n    subscription: s\n    type: failover\n" +
      "    start: s@984355200000\n    announcePartitions: true\nsink: stdout\n",
  );
  const source = resolved.source as Extract<typeof resolved.source, { kind: "consume" }>;
  assert.equal(source.type, "Failover");
  assert.deepEqual(source.topics, ["a", "b"]);
  assert.deepEqual(source.start, { kind: "time", ms: 984355200000 });
  assert.equal(source.announcePartitions, true);
  assert.match(
    describePlan(resolved).join("\n"),
    /consume a, b as 's' \(Failover\) .*from 2001-03-12T00:00:00.000Z, partitions announced/,
  );
  const byPattern = plan(
    "source:\n  consume: { pattern: 'persistent://public/default/s-.*', subscription: s }\n" +
      "sink: stdout\n",
  ).source as Extract<typeof resolved.source, { kind: "consume" }>;
  assert.equal(byPattern.pattern, "persistent://public/default/s-.*");
  assert.deepEqual(byPattern.topics, []);
  assert.equal(byPattern.type, "Exclusive");
});

Deno.test("consume in a pipeline: precise errors", () => {
  const cases: [string, RegExp][] = [
    ["consume: { subscription: s }", /source\.consume: give exactly one of topic or pattern/],
    ["consume: { topic: t, pattern: 'x.*', subscription: s }", /exactly one of topic or pattern/],
    [
      "consume: { topic: t, subscription: s, type: fanout }",
      /source: type: expected exclusive, shared, failover or key_shared, got 'fanout'/,
    ],
    [
      "consume: { topic: t, subscription: s, start: yesterday }",
      /source: start: expected earliest, latest, a message id or s@<epoch ms>, got 'yesterday'/,
    ],
    [
      "consume: { pattern: 'x.*', subscription: s, announcePartitions: true }",
      /announcePartitions needs topics, not a pattern/,
    ],
  ];
  for (const [source, message] of cases) {
    assert.throws(() => plan(`source:\n  ${source}\nsink: stdout\n`), message);
  }
});

Deno.test("window in a pipeline: count windows, late, early, idle and watermark options", () => {
  const resolved = plan(
    "source: { stdin: {} }\nstages:\n  - window:\n      key: k\n      count: 5\n" +
      "      aggregates: 'count()'\n      late: emit\n      earlyEvery: 2\n      idleKeyTtl: 1m\n" +
      "      idleTimeout: 30s\n      idleAdvance: 5m\nsink: stdout\n",
  );
  const stage = resolved.stages[0] as Extract<typeof resolved.stages[0], { kind: "window" }>;
  assert.deepEqual(stage.options.shape, { kind: "count", size: 5 });
  assert.deepEqual(stage.options.late, { kind: "emit" });
  assert.equal(stage.options.earlyEvery, 2);
  assert.equal(stage.options.idleKeyTtl, 60_000);
  assert.equal(stage.options.idleTimeoutMs, 30_000);
  assert.equal(stage.options.idleAdvanceMs, 300_000);
  assert.match(describePlan(resolved).join("\n"), /window by k, every 5 events/);
  const cases: [string, RegExp][] = [
    ["late: dead-letter=x", /stages\[0\]\.window\.late: expected drop or emit/],
    ["watermark: local", /stages\[0\]\.window\.watermark: expected partition or global/],
    [
      "watermark: global\n      idleTimeout: 1m",
      /idleTimeout and idleAdvance need watermark: partition/,
    ],
  ];
  for (const [extra, message] of cases) {
    assert.throws(
      () =>
        plan(
          "source: { stdin: {} }\nstages:\n  - window:\n      key: k\n      tumbling: 1h\n" +
            `      aggregates: 'count()'\n      ${extra}\nsink: stdout\n`,
        ),
      message,
    );
  }
});

Deno.test("metrics: and stats: reach the plan and the dry run; without them, nothing is observed", () => {
  const observed = plan("source: { stdin: {} }\nsink: stdout\nmetrics: 9464\nstats: true\n");
  assert.deepEqual(observed.observe, { metricsPort: 9464, stats: true });
  assert.ok(
    describePlan(observed).includes(
      "  observe  metrics on 127.0.0.1:9464/metrics, stats per stage on stderr",
    ),
    describePlan(observed).join("\n"),
  );
  const plain = plan("source: { stdin: {} }\nsink: stdout\n");
  assert.deepEqual(plain.observe, { stats: false });
  assert.ok(!describePlan(plain).some((l) => l.includes("observe")));
});

Deno.test("a join's reference file is watched every second unless watchInterval says otherwise", () => {
  const join = (extra: string) =>
    plan(
      `source: { stdin: {} }\nsink: stdout\nstages:\n  - join: { file: ref.ndjson, on: value.k=id${extra} }\n`,
    )
      .stages[0];
  assert.deepEqual(join(""), {
    kind: "join",
    file: "/tmp/ref.ndjson",
    eventPath: "value.k",
    refPath: "id",
    as: "ref",
    watchIntervalMs: 1000,
  });
  assert.equal(
    (join(", watchInterval: 250ms") as { watchIntervalMs?: number }).watchIntervalMs,
    250,
  );
  assert.equal(
    (join(", watchInterval: 5000") as { watchIntervalMs?: number }).watchIntervalMs,
    5000,
  );
  assert.equal(
    (join(", watchInterval: off") as { watchIntervalMs?: number }).watchIntervalMs,
    undefined,
  );
  assert.throws(() => join(", watchInterval: soon"), /watchInterval/);
  const described = describePlan(plan(
    "source: { stdin: {} }\nsink: stdout\nstages:\n  - join: { file: ref.ndjson, on: value.k=id, watchInterval: 2s }\n",
  )).join("\n");
  assert.match(
    described,
    /join \/tmp\/ref\.ndjson on value\.k=id as ref, reloaded when it changes \(looked at every 2000 ms\)/,
  );
  const topic = plan(
    "source: { stdin: {} }\nsink: stdout\nstages:\n  - join: { file: 'topic:airports', on: k }\n",
  );
  assert.equal((topic.stages[0] as { watchIntervalMs?: number }).watchIntervalMs, undefined);
});
