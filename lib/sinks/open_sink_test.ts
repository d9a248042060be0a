import assert from "node:assert/strict";
import { join } from "node:path";
import { describeSinkSpec, openSink, parseBytes, parseSinkSpec } from "./open_sink.ts";
import { openDeadLetterSink } from "./dead_letter_sinks.ts";
import { deadLetterOf } from "../dead_letter.ts";
import { UsageError } from "../errors.ts";

Deno.test("destination specs parse into sinks with their batching options", () => {
  assert.deepEqual(parseSinkSpec("stdout"), { kind: "stdout" });
  assert.deepEqual(parseSinkSpec("-"), { kind: "stdout" });
  assert.deepEqual(parseSinkSpec("persistent://public/default/alerts"), {
    kind: "pulsar",
    topic: "persistent://public/default/alerts",
  });
  const s3 = parseSinkSpec(
    "s3://lake/d=%Y/o={value.origin}/?format=parquet&max-events=5&max-age=2s&max-bytes=1KiB",
  );
  assert.ok(s3.kind === "s3");
  assert.equal(s3.bucket, "lake");
  assert.equal(s3.batching.prefix.source, "d=%Y/o={value.origin}/");
  assert.equal(s3.batching.encoding, "parquet");
  assert.equal(s3.batching.maxEvents, 5);
  assert.equal(s3.batching.maxAgeMs, 2000);
  assert.equal(s3.batching.maxBytes, 1024);
  const file = parseSinkSpec("file:/data/out/date=%Y-%m-%d/");
  assert.ok(file.kind === "file");
  assert.equal(file.dir, "/data/out/");
  assert.equal(file.batching.prefix.source, "date=%Y-%m-%d/");
  assert.equal(describeSinkSpec(file), "file:/data/out/date=%Y-%m-%d/ (ndjson.gz)");
});

Deno.test("bad destination specs are usage errors that say what is wrong", () => {
  const cases: [string, RegExp][] = [
    ["s3://UPPER/x", /not a valid S3 bucket name/],
    ["s3://", /not a valid S3 bucket name/],
    ["file:", /needs a directory/],
    ["http://x", /is not a destination/],
    ["s3://lake/x/?format=csv", /format must be one of/],
    ["s3://lake/x/?max-events=0", /expected a positive integer/],
    ["s3://lake/x/?color=red", /unknown option/],
    ["s3://lake/x/{value.}/", /must name a field/],
  ];
  for (const [text, pattern] of cases) {
    assert.throws(() => parseSinkSpec(text), (err: unknown) => {
      assert.ok(err instanceof UsageError, text);
      assert.match(err.message, pattern, text);
      return true;
    });
  }
});

Deno.test("sizes parse with binary units", () => {
  assert.equal(parseBytes("512", "x"), 512);
  assert.equal(parseBytes("16MiB", "x"), 16 * 1024 * 1024);
  assert.equal(parseBytes("1.5KB", "x"), 1536);
  assert.throws(() => parseBytes("lots", "x"), UsageError);
  assert.throws(() => parseBytes("0", "x"), UsageError);
});

Deno.test("dead letters go to files and file: directories the same way", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const record = deadLetterOf("score", new Error("model input missing"), { id: "e1", value: 1 });
    const plain = await openDeadLetterSink(join(dir, "dead.ndjson"));
    await plain.write(record);
    await plain.close();
    assert.deepEqual(JSON.parse(await Deno.readTextFile(join(dir, "dead.ndjson"))), record);

    const rolling = await openDeadLetterSink(`file:${dir}/rolling/?format=ndjson`);
    await rolling.write(record);
    // write() resolves once the dead letter is stored, not when the batch closes.
    assert.equal([...Deno.readDirSync(join(dir, "rolling"))].length, 1, "stored before close");
    await rolling.close();
    const [entry] = [...Deno.readDirSync(join(dir, "rolling"))];
    const stored = JSON.parse(await Deno.readTextFile(join(dir, "rolling", entry.name)));
    assert.equal(stored.deadLetter.stage, "score");
    assert.equal(stored.deadLetter.error, "model input missing");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("openSink opens files and stdout without any server", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const sink = await openSink(parseSinkSpec(`file:${dir}/?format=ndjson`));
    const sent = sink.send({ id: "a", value: 1 });
    await sink.close();
    await sent;
    assert.equal([...Deno.readDirSync(dir)].length, 1);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("every destination spec takes ?payload=, checked like --payload", () => {
  assert.deepEqual(parseSinkSpec("stdout?payload=envelope"), {
    kind: "stdout",
    payload: { kind: "envelope" },
  });
  assert.deepEqual(parseSinkSpec("topic:scored?payload=field:score"), {
    kind: "pulsar",
    topic: "scored",
    payload: { kind: "field", path: "score" },
  });
  const file = parseSinkSpec("file:out/o={value.origin}/?format=ndjson&payload=value");
  assert.ok(file.kind === "file");
  assert.deepEqual(file.payload, { kind: "value" });
  assert.equal(file.batching.encoding, "ndjson");
  assert.equal(describeSinkSpec(file), "file:out/o={value.origin}/ (ndjson) [payload value]");
  assert.equal(parseSinkSpec("s3://lake/x/").payload, undefined);
  assert.throws(() => parseSinkSpec("stdout?payload=all"), /payload must be record, value/);
  assert.throws(() => parseSinkSpec("topic:x?format=ndjson"), /takes only \?payload=/);
});

Deno.test("a file destination with ?payload=envelope stores whole envelopes", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const sink = await openSink(parseSinkSpec(`file:${dir}/?format=ndjson&payload=envelope`));
    const event = { id: "a", key: "k", value: { x: 1 }, score: { p: 0.5 } };
    await Promise.all([sink.send(event), sink.close()]);
    const [entry] = [...Deno.readDirSync(dir)];
    assert.deepEqual(JSON.parse(await Deno.readTextFile(join(dir, entry.name))), event);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
