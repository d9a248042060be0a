import assert from "node:assert/strict";
import { parsePipeline, PipelineFileError } from "./load_pipeline.ts";
import { resolvePlan } from "./plan.ts";

function problem(text: string): string {
  try {
    parsePipeline(text, "p.yaml");
  } catch (err) {
    assert.ok(err instanceof PipelineFileError, String(err));
    return err.message;
  }
  assert.fail("expected the pipeline to be rejected");
}

const consume =
  "source:\n  consume: { topic: in, subscription: s }\nsink: persistent://public/default/out\n";

Deno.test("encryption: keys resolved from the pipeline file's directory", () => {
  const config = parsePipeline(
    consume +
      "encryption:\n  decryptKeys: keys/app.pem\n  encryptKeys: { audit: /etc/k/audit.pub.pem, b: b.pem }\n",
    "/srv/pipes/p.yaml",
  );
  const plan = resolvePlan(config, "/srv/pipes/p.yaml");
  assert.ok(plan.source.kind === "consume");
  assert.deepEqual(plan.source.decryptKeys, ["/srv/pipes/keys/app.pem"]);
  assert.deepEqual(plan.pulsar.encryptKeys, [
    { name: "audit", file: "/etc/k/audit.pub.pem" },
    { name: "b", file: "/srv/pipes/b.pem" },
  ]);
  const list = parsePipeline(consume + "encryption: { decryptKeys: [a.pem, b.pem] }\n", "p.yaml");
  const listPlan = resolvePlan(list, "/x/p.yaml");
  assert.ok(listPlan.source.kind === "consume");
  assert.deepEqual(listPlan.source.decryptKeys, ["/x/a.pem", "/x/b.pem"]);
});

Deno.test("encryption and service URLs: precise errors with position and path", () => {
  const cases: [string, string][] = [
    [
      "source: { stdin: {} }\nsink: stdout\nencryption: { decryptKeys: k.pem }\n",
      "p.yaml:3:28: encryption.decryptKeys: decrypts Pulsar messages: it needs a consume source",
    ],
    [
      consume + "encryption: {}\n",
      "p.yaml:4:13: encryption: expected decryptKeys, encryptKeys or both",
    ],
    [
      consume + "encryption: { encryptKeys: {} }\n",
      "p.yaml:4:28: encryption.encryptKeys: expected at least one key name: file",
    ],
    [
      consume + "encryption: { encryptKeys: { audit: '' } }\n",
      "p.yaml:4:37: encryption.encryptKeys.audit: expected a PEM key file",
    ],
    [
      consume + "encryption: { decryptKey: k.pem }\n",
      "p.yaml:4:13: encryption: unknown field 'decryptKey' (and 1 more: p.yaml:4:13: " +
      "encryption: expected decryptKeys, encryptKeys or both)",
    ],
    [
      "source:\n  consume: { topic: in, subscription: s, serviceUrl: 'pulsar://h1:6650,,h2' }\nsink: stdout\n",
      "p.yaml:2:54: source.consume.serviceUrl: service URL 'pulsar://h1:6650,,h2': empty host at position 2",
    ],
  ];
  for (const [text, message] of cases) assert.equal(problem(text), message);
});

Deno.test("a multi-host service URL is accepted", () => {
  const config = parsePipeline(
    "source:\n  consume: { topic: in, subscription: s, serviceUrl: 'pulsar://h1:6650,h2:6650' }\nsink: stdout\n",
    "p.yaml",
  );
  assert.ok("consume" in config.source);
  assert.equal(config.source.consume.serviceUrl, "pulsar://h1:6650,h2:6650");
});
