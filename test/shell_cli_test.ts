/**
 * The shell commands' manners without a broker: help with examples, usage errors with exit 2.
 */
import assert from "node:assert/strict";
import { runEdgepipe } from "./harness/edgepipe.ts";

async function edgepipe(...args: string[]) {
  const run = await runEdgepipe(args, { env: { PULSAR_SERVICE_URL: "pulsar://127.0.0.1:1" } });
  return { ...run, stderr: run.stderr.trim() };
}

Deno.test("consume, produce and replay print help with examples and exit codes", async () => {
  for (const command of ["consume", "produce", "replay"]) {
    const help = await edgepipe(command, "--help");
    assert.equal(help.code, 0);
    assert.match(help.stdout, new RegExp(`^edgepipe ${command} — `));
    assert.match(help.stdout, /\nExamples:\n {2}edgepipe /);
    assert.match(help.stdout, /Exit codes: 0 /);
  }
});

Deno.test("usage mistakes are one line and exit 2, before any connection is tried", async () => {
  const cases: [string[], RegExp][] = [
    [["consume"], /^edgepipe consume: consume: name a topic, or --pattern/],
    [["consume", "a", "b"], /several topics or --pattern need a subscription \(-s\)/],
    [["consume", "t", "-s", "x", "-f", "%k", "--ack", "downstream"], /-f writes lines for people/],
    [["consume", "t", "--ack", "downstream"], /--ack downstream needs a subscription/],
    [["consume", "t", "-f", "%q"], /-f: unknown token '%q'/],
    [
      ["consume", "t", "--type", "fanout"],
      /--type must be exclusive, shared, failover or key_shared/,
    ],
    [
      ["consume", "t", "--service-url", "http://x"],
      /'http:\/\/x' is not a pulsar:\/\/ or pulsar\+ssl:\/\/ URL/,
    ],
    [
      ["consume", "t", "--service-url", "pulsar://h1:6650,,h2:6650"],
      /service URL 'pulsar:\/\/h1:6650,,h2:6650': empty host at position 2/,
    ],
    [
      ["produce", "t", "--service-url", "pulsar+ssl://h1:66x,h2"],
      /'h1:66x' is not host\[:port\]/,
    ],
    [
      ["produce", "t", "--encrypt-key", "keys/a.pem"],
      /--encrypt-key: expected <key name>=<public key file>, got 'keys\/a.pem'/,
    ],
    [["consume", "t", "--decrypt-key", "/no/such.pem"], /--decrypt-key \/no\/such.pem: /],
    [
      ["consume", "t", "-f", "%k", "--announce-partitions"],
      /--announce-partitions writes a control record: not with --pattern or -f/,
    ],
    [["produce"], /produce: name exactly one topic/],
    [["produce", "t", "--compression", "brotli"], /--compression must be one of none, lz4/],
    [["produce", "t", "--routing", "random"], /--routing must be one of java-hash, murmur3/],
    [["produce", "t", "--property", "novalue"], /--property: expected key=value, got 'novalue'/],
    [["produce", "t", "--on-error", "drop"], /--on-error must be fail, skip or dead-letter/],
    [["produce", "t", "--bogus"], /Unknown option '--bogus'/],
    [["produce", "t", "--batch-delay", "soon"], /--batch-delay: 'soon' is not a duration/],
    [
      ["produce", "t", "--chunking", "--batch-max-messages", "10"],
      /--chunking turns batching off: drop --batch-max-messages/,
    ],
    [
      ["produce", "t", "--batching", "keys"],
      /--batching must be key, key-grouped, default or off, not "keys"/,
    ],
    [
      ["produce", "t", "--chunking", "--batching", "key"],
      /--chunking turns batching off: drop --batching or say --batching off/,
    ],
    [["replay"], /replay: name at least one file/],
    [["replay", "a.csv", "--rate", "fast"], /--rate: expected events per second/],
  ];
  for (const [args, message] of cases) {
    const result = await edgepipe(...args);
    assert.equal(result.code, 2, `${args.join(" ")}: ${result.stderr}`);
    assert.match(result.stderr, message, args.join(" "));
    assert.equal(result.stderr.split("\n").length, 1, args.join(" "));
    assert.equal(result.stdout, "");
  }
});

Deno.test("an unreadable TLS file is named before connecting", async () => {
  const result = await edgepipe("produce", "t", "--tls-ca", "/nonexistent/ca.pem");
  assert.equal(result.code, 1);
  assert.equal(
    result.stderr,
    "edgepipe produce: --tls-ca: cannot read /nonexistent/ca.pem: no such file",
  );
});
