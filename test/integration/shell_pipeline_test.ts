/**
 * The shell pipeline against a real broker, every command a separate process joined by real
 * pipes: `consume | produce` moves 100,000 events exactly, keeps per-key order and acknowledges
 * everything; `| head` acknowledges nothing; a filter's dropped events are acknowledged in-band;
 * SIGINT drains; bad input, a bad topic and an unreachable broker fail with one clear line.
 */
import assert from "node:assert/strict";
import { startEdgepipe } from "../harness/edgepipe.ts";
import { pulsarUrls } from "../harness/pulsar.ts";
import { parseMetrics } from "../harness/prometheus.ts";

const MAIN = new URL("../../cli/main.ts", import.meta.url).pathname;
const integration = { sanitizeOps: false, sanitizeResources: false };
const decoder = new TextDecoder();

/** Runs one command to the end with `input` on stdin; returns exit code, stdout and stderr. */
async function run(args: string[], env: Record<string, string>, input?: string | Uint8Array) {
  const { child, stderr } = startEdgepipe(args, env, input === undefined ? "null" : "piped");
  if (input !== undefined) {
    const writer = child.stdin.getWriter();
    const bytes = typeof input === "string" ? new TextEncoder().encode(input) : input;
    await writer.write(bytes).catch(() => {});
    await writer.close().catch(() => {});
  }
  const stdout = new Response(child.stdout).text();
  const status = await child.status;
  return { code: status.code, stdout: await stdout, stderr: (await stderr).trim() };
}

/** Runs `a | b | …` as separate processes; returns each exit code and stderr, and b's stdout. */
async function pipeline(stages: string[][], env: Record<string, string>) {
  const running = stages.map((args, i) => startEdgepipe(args, env, i === 0 ? "null" : "piped"));
  const pipes = running.slice(1).map((next, i) =>
    running[i].child.stdout.pipeTo(next.child.stdin).catch(() => {})
  );
  const stdout = new Response(running.at(-1)!.child.stdout).text();
  const codes = await Promise.all(running.map(async (r) => (await r.child.status).code));
  await Promise.all(pipes);
  return { codes, stderr: await Promise.all(running.map((r) => r.stderr)), stdout: await stdout };
}

function names() {
  const id = crypto.randomUUID().slice(0, 8);
  return (name: string) => `persistent://public/default/shell-${name}-${id}`;
}

async function admin(adminUrl: string, path: string, init?: RequestInit) {
  const response = await fetch(`${adminUrl}/admin/v2/${path}`, init);
  const text = await response.text();
  if (!response.ok) throw new Error(`admin ${path}: ${response.status} ${text}`);
  return text === "" ? undefined : JSON.parse(text);
}

function topicPath(topic: string): string {
  return topic.replace("://", "/");
}

async function backlog(adminUrl: string, topic: string, subscription: string): Promise<number> {
  const stats = await admin(adminUrl, `${topicPath(topic)}/stats`);
  return stats.subscriptions[subscription].msgBacklog;
}

async function createPartitioned(adminUrl: string, topic: string, partitions: number) {
  await admin(adminUrl, `${topicPath(topic)}/partitions`, {
    method: "PUT",
    headers: { "content-type": "application/json" },
    body: String(partitions),
  });
}

/** Everything in a (non-partitioned) topic, read by a reader: the envelopes in topic order. */
async function readTopic(topic: string, env: Record<string, string>) {
  const { code, stdout, stderr } = await run(["consume", topic, "-e"], env);
  assert.equal(code, 0, stderr);
  // Without the end record that consume -e writes last (docs/envelope.md).
  return stdout.trimEnd().split("\n").filter((l) => l !== "").map((l) => JSON.parse(l))
    .filter((item) => item.$edgepipe === undefined);
}

/** `count` events: keys k0…k96, a per-key sequence number and a global one. */
function events(count: number): string {
  const lines: string[] = [];
  const perKey = new Map<string, number>();
  for (let n = 0; n < count; n++) {
    const k = `k${n % 97}`;
    const seq = perKey.get(k) ?? 0;
    perKey.set(k, seq + 1);
    lines.push(JSON.stringify({ n, k, seq, note: n % 5 === 0 ? `ünïcode ${n}` : "" }));
  }
  return lines.join("\n") + "\n";
}

async function env() {
  const { serviceUrl, adminUrl } = await pulsarUrls();
  return { env: { PULSAR_SERVICE_URL: serviceUrl, NO_COLOR: "1" }, adminUrl };
}

Deno.test({
  name: "consume | produce moves 100,000 events exactly, per-key order kept, all acknowledged",
  ...integration,
  async fn() {
    const { env: e, adminUrl } = await env();
    const topic = names();
    const source = topic("in");
    const target = topic("out");
    await createPartitioned(adminUrl, target, 4);
    const seeded = await run(
      ["produce", source, "--input", "json", "--key-field", "k"],
      e,
      events(100_000),
    );
    assert.equal(seeded.code, 0, seeded.stderr);

    const started = performance.now();
    const piped = await pipeline([
      ["consume", source, "-s", "copy", "-e"],
      ["produce", target, "--compression", "lz4"],
    ], e);
    const seconds = (performance.now() - started) / 1000;
    assert.deepEqual(piped.codes, [0, 0], piped.stderr.join("\n"));
    assert.deepEqual(piped.stderr, ["", ""]);
    console.log(`    consume | produce: 100,000 events in ${seconds.toFixed(1)} s`);

    const byN = new Map<number, { k: string; seq: number; note: string }>();
    const partitionOfKey = new Map<string, number>();
    for (let p = 0; p < 4; p++) {
      const lastSeq = new Map<string, number>();
      for (const envelope of await readTopic(`${target}-partition-${p}`, e)) {
        const value = envelope.value;
        assert.equal(envelope.key, value.k, "the key travels with the message");
        assert.ok(!byN.has(value.n), `event ${value.n} arrived twice`);
        byN.set(value.n, value);
        // A key lives in one partition, and in it its events keep their order.
        assert.equal(partitionOfKey.get(value.k) ?? p, p, `key ${value.k} in two partitions`);
        partitionOfKey.set(value.k, p);
        assert.ok(value.seq > (lastSeq.get(value.k) ?? -1), `key ${value.k} out of order`);
        lastSeq.set(value.k, value.seq);
      }
    }
    assert.equal(byN.size, 100_000);
    const expected = events(100_000).trimEnd().split("\n").map((l) => JSON.parse(l));
    for (const event of expected) assert.deepEqual(byN.get(event.n), event);
    assert.ok(new Set(partitionOfKey.values()).size > 1, "keys spread over partitions");
    assert.equal(await backlog(adminUrl, source, "copy"), 0);
  },
});

Deno.test({
  name: "consume -e | head -n 5 exits cleanly and acknowledges nothing",
  ...integration,
  async fn() {
    const { env: e, adminUrl } = await env();
    const source = names()("head");
    // Unbatched, so that the broker's backlog counts messages rather than batches.
    const seeded = await run(
      ["produce", source, "--input", "json", "--batch-max-messages", "1"],
      e,
      events(2000),
    );
    assert.equal(seeded.code, 0, seeded.stderr);
    const shell = await new Deno.Command("bash", {
      args: [
        "-c",
        `set -o pipefail; "${Deno.execPath()}" run -A "${MAIN}" consume "${source}" -s peek -e | head -n 5`,
      ],
      env: e,
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(decoder.decode(shell.stderr), "");
    assert.equal(shell.code, 0, "broken pipe is a clean end");
    const lines = decoder.decode(shell.stdout).trimEnd().split("\n").map((l) => JSON.parse(l));
    assert.equal(lines.length, 5);
    assert.equal(lines[0].$edgepipe, "hello");
    assert.deepEqual(lines.slice(1).map((l) => l.value.n), [0, 1, 2, 3]);
    // head never connected to the ack socket: every message is still there for the subscription.
    assert.equal(await backlog(adminUrl, source, "peek"), 2000);
    const again = await run(
      ["consume", source, "-s", "peek", "-e", "--ack", "none", "-f", "%s\n"],
      e,
    );
    assert.equal(again.stdout.trimEnd().split("\n").length, 2000, "all redelivered");
  },
});

Deno.test({
  name: "a filter's dropped events are acknowledged in-band, after what came before them",
  ...integration,
  async fn() {
    const { env: e, adminUrl } = await env();
    const topic = names();
    const source = topic("filter-in");
    const target = topic("filter-out");
    const seeded = await run(["produce", source, "--input", "json"], e, events(3000));
    assert.equal(seeded.code, 0, seeded.stderr);
    const piped = await pipeline([
      ["consume", source, "-s", "odd", "-e", "--stats"],
      ["filter", "int(event.value.n) % 3 == 0"],
      ["produce", target],
    ], e);
    assert.deepEqual(piped.codes, [0, 0, 0], piped.stderr.join("\n"));
    const kept = (await readTopic(target, e)).map((env) => env.value.n);
    assert.deepEqual(kept, Array.from({ length: 1000 }, (_, i) => i * 3));
    // Two thirds were dropped by the filter; their acks came in-band: nothing is left.
    assert.equal(await backlog(adminUrl, source, "odd"), 0);
    assert.match(piped.stderr[0], /edgepipe consume: in=3000 .*out=3000 .*acked=3000 .*errors=0/);
  },
});

Deno.test({
  name: "SIGINT drains the pipeline: what was produced is exactly what was acknowledged",
  ...integration,
  async fn() {
    const { env: e, adminUrl } = await env();
    const topic = names();
    const source = topic("sigint-in");
    const target = topic("sigint-out");
    const seeded = await run(
      ["produce", source, "--input", "json", "--batch-max-messages", "1"],
      e,
      events(20_000),
    );
    assert.equal(seeded.code, 0, seeded.stderr);
    // Without -e the pipeline runs until stopped; a slow terminal keeps events in flight.
    const consume = startEdgepipe(["consume", source, "-s", "drain"], e);
    const produce = startEdgepipe(
      ["produce", target, "--max-in-flight", "10", "--batch-max-messages", "1"],
      e,
      "piped",
    );
    const piping = consume.child.stdout.pipeTo(produce.child.stdin).catch(() => {});
    while (true) {
      await new Promise((r) => setTimeout(r, 200));
      const stats = await admin(adminUrl, `${topicPath(target)}/stats`).catch(() => undefined);
      if (stats && stats.msgInCounter > 2000) break;
    }
    // Ctrl-C in a shell reaches every process of the pipeline.
    consume.child.kill("SIGINT");
    produce.child.kill("SIGINT");
    const codes = [(await consume.child.status).code, (await produce.child.status).code];
    await piping;
    const stderr = [await consume.stderr, await produce.stderr];
    assert.deepEqual(codes, [130, 130], stderr.join("\n"));
    const produced = (await readTopic(target, e)).map((env) => env.value.n);
    console.log(`    SIGINT after ${produced.length} of 20,000 events`);
    assert.ok(produced.length < 20_000, "stopped before the end");
    assert.deepEqual(produced, Array.from({ length: produced.length }, (_, i) => i));
    assert.equal(await backlog(adminUrl, source, "drain"), 20_000 - produced.length);
  },
});

Deno.test({
  name: "produce: bad input is one line with its number, per --on-error, nothing lost",
  ...integration,
  async fn() {
    const { env: e } = await env();
    const topic = names();
    const target = topic("bad");
    const input = '{"value":1}\n{"value":2}\n{"value":\n{"value":4}\n';
    const failed = await run(["produce", target], e, input);
    assert.equal(failed.code, 1);
    assert.match(failed.stderr, /^edgepipe produce: line 3: not valid JSON/);
    assert.equal(failed.stderr.split("\n").length, 1);
    assert.deepEqual((await readTopic(target, e)).map((x) => x.value), [1, 2], "the lines before");

    const skipTarget = topic("bad-skip");
    const skipped = await run(["produce", skipTarget, "--on-error", "skip"], e, input + "[1]\n");
    assert.equal(skipped.code, 1, "skipped events make the exit non-zero");
    assert.match(skipped.stderr, /skipped: line 3: not valid JSON/);
    assert.match(
      skipped.stderr,
      /skipped: line 5: expected a JSON object \(an envelope\), got an array/,
    );
    assert.match(skipped.stderr, /2 event\(s\) skipped, not produced/);
    assert.deepEqual((await readTopic(skipTarget, e)).map((x) => x.value), [1, 2, 4]);

    const dir = await Deno.makeTempDir();
    try {
      const deadTarget = topic("bad-dead");
      const dead = await run(
        [
          "produce",
          deadTarget,
          "--time-field",
          "t",
          "--on-error",
          `dead-letter=${dir}/dead.ndjson`,
        ],
        e,
        new Uint8Array([
          ...new TextEncoder().encode('{"value":{"t":5}}\n{"value":{"t":"noon"}}\n'),
          0xff,
          0x0a,
        ]),
      );
      // A line that is not UTF-8 is a bad line like any other: dead-lettered with its bytes.
      assert.equal(dead.code, 0, dead.stderr);
      const letters = (await Deno.readTextFile(`${dir}/dead.ndjson`)).trim().split("\n");
      assert.equal(letters.length, 2);
      assert.match(JSON.parse(letters[0]).deadLetter.error, /line 2: event time "noon"/);
      const binary = JSON.parse(letters[1]).deadLetter;
      assert.match(binary.error, /line 3: not valid UTF-8/);
      assert.equal(binary.rawBase64, "/w==");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }

    const long = await run(
      ["produce", topic("bad-long"), "--max-line-bytes", "100"],
      e,
      `{"value":"${"x".repeat(200)}"}\n`,
    );
    assert.equal(long.code, 1);
    assert.match(long.stderr, /^edgepipe produce: line 1: line longer than 100 bytes/);
  },
});

Deno.test({
  name: "an unknown namespace and an unreachable broker fail fast with one clear line",
  ...integration,
  async fn() {
    const { env: e } = await env();
    const unknown = await run(["consume", "persistent://public/no-such-ns/t", "-s", "x", "-e"], e);
    assert.equal(unknown.code, 1);
    assert.equal(unknown.stderr.split("\n").length, 1, unknown.stderr);
    assert.match(unknown.stderr, /^edgepipe consume: .*no-such-ns/);

    const unreachable = await run(
      ["produce", "t", "--service-url", "pulsar://127.0.0.1:1", "--connect-timeout", "2s"],
      e,
      '{"value":1}\n',
    );
    assert.equal(unreachable.code, 1);
    assert.equal(unreachable.stderr.split("\n").length, 1, unreachable.stderr);
    assert.match(unreachable.stderr, /^edgepipe produce: .*127\.0\.0\.1:1/);

    const usage = await run(["consume", "t", "-o", "yesterday"], e);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /-o: expected earliest, latest, a message id or s@<epoch ms>/);
  },
});

Deno.test({
  name: "consume serves Prometheus metrics and honours -c, -o <id> and -f",
  ...integration,
  async fn() {
    const { env: e, adminUrl } = await env();
    const source = names()("metrics");
    const seeded = await run(
      ["produce", source, "--input", "json", "--key-field", "k"],
      e,
      events(50),
    );
    assert.equal(seeded.code, 0, seeded.stderr);
    const all = await readTopic(source, e);
    const from = await run(["consume", source, "-o", all[10].id, "-c", "3", "-f", "%k:%s\n"], e);
    assert.equal(from.code, 0, from.stderr);
    assert.deepEqual(
      from.stdout.trimEnd().split("\n").map((l) => JSON.parse(l.split(":").slice(1).join(":")).n),
      [10, 11, 12],
    );

    const port = 20_000 + Math.floor(Math.random() * 20_000);
    const live = startEdgepipe([
      "consume",
      source,
      "-s",
      "m",
      "--ack",
      "on-write",
      "--metrics",
      String(port),
      "--admin-url",
      adminUrl,
    ], e);
    let text = "";
    const done = (t: string) =>
      /events_out_total\{command="consume"\} 50/.test(t) &&
      /subscription_backlog\{[^}]*\} 0/.test(t);
    for (let i = 0; i < 100 && !done(text); i++) {
      await new Promise((r) => setTimeout(r, 100));
      text = await fetch(`http://127.0.0.1:${port}/metrics`).then((r) => r.text()).catch(() => "");
    }
    live.child.kill("SIGTERM");
    assert.equal((await live.child.status).code, 143);
    await live.child.stdout.cancel();
    assert.match(text, /edgepipe_events_out_total\{command="consume"\} 50/);
    assert.match(text, /edgepipe_acks_total\{command="consume"\} 50/);
    assert.match(text, /edgepipe_subscription_backlog\{command="consume"\} 0/);
    assert.match(text, /edgepipe_unacknowledged\{command="consume"\} 0/);
    // The Prometheus project's own parser reads the same values.
    const parsed = await parseMetrics(text);
    assert.equal(parsed.edgepipe_events_out_total, 50);
    assert.equal(parsed.edgepipe_acks_total, 50);
  },
});

Deno.test({
  name: "message fields round-trip: key, event time, properties, payload kinds, -o s@<ms>",
  ...integration,
  async fn() {
    const { env: e } = await env();
    const topic = names();
    const fields = topic("fields");
    const lines = [
      JSON.stringify({
        key: "a",
        eventTime: 1700000000000,
        properties: { p: "1" },
        value: { x: 1 },
      }),
      JSON.stringify({ value: { x: 2, who: "b", at: "2024-02-03T04:05:06Z" } }),
      JSON.stringify({ value: "plain text" }),
    ].join("\n");
    const sent = await run(["produce", fields, "--property", "via=test"], e, lines + "\n");
    assert.equal(sent.code, 0, sent.stderr);
    const byField = await run(
      ["produce", fields, "--key-field", "who", "--time-field", "at"],
      e,
      lines.split("\n")[1] + "\n",
    );
    assert.equal(byField.code, 0, byField.stderr);
    const got = await readTopic(fields, e);
    assert.deepEqual(
      got.map((x) => [x.key, x.eventTime, x.properties, x.value]),
      [
        ["a", 1700000000000, { p: "1", via: "test" }, { x: 1 }],
        [null, undefined, { via: "test" }, { x: 2, who: "b", at: "2024-02-03T04:05:06Z" }],
        [null, undefined, { via: "test" }, "plain text"],
        ["b", Date.UTC(2024, 1, 3, 4, 5, 6), undefined, {
          x: 2,
          who: "b",
          at: "2024-02-03T04:05:06Z",
        }],
      ],
    );
    // s@<ms>: from the first message published at or after that time.
    const since = await run([
      "consume",
      fields,
      "-o",
      `s@${got[3].publishTime}`,
      "-e",
      "-f",
      "%k\n",
    ], e);
    assert.equal(since.stdout, "b\n");

    // Lines and bytes: --input lines sends text as it is; base64 carries any bytes.
    const raw = topic("raw");
    const linesIn = await run(
      ["produce", raw, "--input", "lines", "--key", "L"],
      e,
      'one\n{"two":2}\n',
    );
    assert.equal(linesIn.code, 0, linesIn.stderr);
    const bytesIn = await run(["produce", raw, "--payload", "base64"], e, '{"value":"/wD+"}\n');
    assert.equal(bytesIn.code, 0, bytesIn.stderr);
    const asText = await run(["consume", raw, "-e", "-c", "2", "-f", "%k|%s|%S\n"], e);
    assert.equal(asText.stdout, 'L|one|3\nL|{"two":2}|9\n');
    const asBase64 = await run(["consume", raw, "-e", "--payload", "base64", "-f", "%s\n"], e);
    assert.deepEqual(asBase64.stdout.trimEnd().split("\n"), ["b25l", "eyJ0d28iOjJ9", "/wD+"]);

    // A payload that is not UTF-8: one clear line under fail; acknowledged and said under skip.
    const failed = await run(["consume", raw, "-s", "strict", "-e"], e);
    assert.equal(failed.code, 1);
    assert.match(
      failed.stderr,
      /edgepipe consume: message \S+ on \S+raw\S*: payload is not valid UTF-8/,
    );
    const skipped = await run([
      "consume",
      raw,
      "-s",
      "lenient",
      "-e",
      "--on-error",
      "skip",
      "--ack",
      "on-write",
    ], e);
    assert.equal(skipped.code, 0, skipped.stderr);
    // Two messages; --ack on-write writes no control records (no hello, no end record).
    assert.equal(skipped.stdout.trimEnd().split("\n").length, 2);
    assert.match(skipped.stderr, /skipped: message .*payload is not valid UTF-8/);
  },
});

Deno.test({
  name: "produce routing: java-hash keeps a key on one partition, round-robin spreads it",
  ...integration,
  async fn() {
    const { env: e, adminUrl } = await env();
    const topic = names();
    const input = Array.from({ length: 3000 }, (_, n) => JSON.stringify({ key: "same", value: n }))
      .join("\n") + "\n";
    const perPartition = async (target: string) => {
      const counts: number[] = [];
      for (let p = 0; p < 3; p++) {
        counts.push((await readTopic(`${target}-partition-${p}`, e)).length);
      }
      return counts;
    };
    for (const routing of ["java-hash", "murmur3", "round-robin"]) {
      const target = topic(`route-${routing}`);
      await createPartitioned(adminUrl, target, 3);
      const sent = await run(["produce", target, "--routing", routing], e, input);
      assert.equal(sent.code, 0, sent.stderr);
      const counts = await perPartition(target);
      assert.equal(counts.reduce((a, b) => a + b), 3000, routing);
      if (routing === "round-robin") {
        assert.ok(counts.every((c) => c >= 1000), `${routing}: ${counts}`);
      } else assert.equal(counts.filter((c) => c > 0).length, 1, `${routing}: ${counts}`);
    }

    // A dead-letter topic takes what cannot be produced, with the reason.
    const dlq = topic("dlq");
    const target = topic("dl-target");
    const dead = await run(
      ["produce", target, "--time-field", "t", "--on-error", `dead-letter=topic:${dlq}`],
      e,
      '{"value":{"t":1}}\n{"value":{"t":"later"}}\n{"value":{"t":3}}\n',
    );
    assert.equal(dead.code, 0, dead.stderr);
    assert.deepEqual((await readTopic(target, e)).map((x) => x.value.t), [1, 3]);
    const letters = await readTopic(dlq, e);
    assert.equal(letters.length, 1);
    assert.deepEqual(letters[0].value.value, { t: "later" });
    assert.match(letters[0].value.deadLetter.error, /line 2: event time "later"/);
  },
});

Deno.test({
  name: "several topics, partitions and a pattern: consume -e reads every one to its end",
  ...integration,
  async fn() {
    const { env: e, adminUrl } = await env();
    const id = crypto.randomUUID().slice(0, 8);
    const a = `persistent://public/default/shell-multi-a-${id}`;
    const b = `persistent://public/default/shell-multi-b-${id}`;
    const parted = `persistent://public/default/shell-multi-p-${id}`;
    await createPartitioned(adminUrl, parted, 3);
    for (const [topic, count] of [[a, 3000], [b, 2000], [parted, 6000]] as const) {
      const seeded = await run(
        ["produce", topic, "--input", "json", "--key-field", "k"],
        e,
        events(count),
      );
      assert.equal(seeded.code, 0, seeded.stderr);
    }
    const both = await run(
      ["consume", a, b, "-s", "two", "-e", "--ack", "on-write", "-f", "%t\n"],
      e,
    );
    assert.equal(both.code, 0, both.stderr);
    const perTopic = (text: string) =>
      text.trimEnd().split("\n").reduce(
        (m, t) => m.set(t, (m.get(t) ?? 0) + 1),
        new Map<string, number>(),
      );
    assert.deepEqual(perTopic(both.stdout), new Map([[a, 3000], [b, 2000]]));

    // --pattern goes through the client's pattern subscription (new topics join as they appear).
    const small = `persistent://public/default/shell-pat-${id}`;
    for (const [topic, count] of [[`${small}-x`, 300], [`${small}-y`, 200]] as const) {
      const seeded = await run(["produce", topic, "--input", "json"], e, events(count));
      assert.equal(seeded.code, 0, seeded.stderr);
    }
    const pattern = await run(
      ["consume", "--pattern", `${small}-.*`, "-s", "pat", "-e", "-f", "%t\n", "--ack", "on-write"],
      e,
    );
    assert.equal(pattern.code, 0, pattern.stderr);
    assert.deepEqual(perTopic(pattern.stdout), new Map([[`${small}-x`, 300], [`${small}-y`, 200]]));

    // A partitioned source through the pipe: everything copied, everything acknowledged.
    const piped = await pipeline([["consume", parted, "-s", "copy", "-e"], [
      "produce",
      `${parted}-copy`,
    ]], e);
    assert.deepEqual(piped.codes, [0, 0], piped.stderr.join("\n"));
    const copied = (await readTopic(`${parted}-copy`, e)).map((x) => x.value.n).sort((x, y) =>
      x - y
    );
    assert.deepEqual(copied, Array.from({ length: 6000 }, (_, i) => i));
    for (let p = 0; p < 3; p++) {
      assert.equal(await backlog(adminUrl, `${parted}-partition-${p}`, "copy"), 0);
    }
  },
});

Deno.test({
  name: "replay dead-letters bad records to a topic named with topic:",
  ...integration,
  async fn() {
    const { env: e } = await env();
    const dlq = names()("replay-dlq");
    const dir = await Deno.makeTempDir();
    try {
      await Deno.writeTextFile(`${dir}/r.csv`, "n,t\n1,2024-01-01\n2,whenever\n");
      const replayed = await run(
        ["replay", `${dir}/r.csv`, "--time", "t", "--on-error", `dead-letter=topic:${dlq}`],
        e,
      );
      assert.equal(replayed.code, 0, replayed.stderr);
      // The good record and replay's end record.
      assert.equal(replayed.stdout.trimEnd().split("\n").length, 2);
      const letters = await readTopic(dlq, e);
      assert.equal(letters.length, 1);
      assert.equal(letters[0].value.deadLetter.line, 3);
      assert.match(letters[0].value.deadLetter.error, /event time field 't' is "whenever"/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "produce serves metrics: events in and out, in flight, broker batches",
  ...integration,
  async fn() {
    const { env: e } = await env();
    const target = names()("produce-metrics");
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    const producing = startEdgepipe(["produce", target, "--metrics", String(port)], e, "piped");
    const writer = producing.child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(events(5000)));
    let text = "";
    for (let i = 0; i < 100 && !/events_out_total\{command="produce"\} 5000/.test(text); i++) {
      await new Promise((r) => setTimeout(r, 100));
      text = await fetch(`http://127.0.0.1:${port}/metrics`).then((r) => r.text()).catch(() => "");
    }
    await writer.close();
    assert.equal((await producing.child.status).code, 0, await producing.stderr);
    await producing.child.stdout.cancel();
    assert.match(text, /edgepipe_events_in_total\{command="produce"\} 5000/);
    assert.match(text, /edgepipe_events_out_total\{command="produce"\} 5000/);
    assert.match(text, /edgepipe_in_flight\{command="produce"\} 0/);
    const batches = Number(/edgepipe_batches_total\{command="produce"\} (\d+)/.exec(text)?.[1]);
    assert.ok(batches >= 5 && batches < 5000, `${batches} batches for 5000 events`);
    const parsed = await parseMetrics(text);
    assert.equal(parsed.edgepipe_events_out_total, 5000);
    assert.equal(parsed.edgepipe_batches_total, batches);
  },
});
