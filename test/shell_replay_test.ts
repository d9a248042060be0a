/**
 * `edgepipe replay` as a real process: formats, fields, limits, bad input and a closed pipe.
 */
import assert from "node:assert/strict";
import { parquetWriteBuffer } from "hyparquet-writer";

const MAIN = new URL("../cli/main.ts", import.meta.url).pathname;

async function replay(args: string[], stdin?: string) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, "replay", ...args],
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(stdin));
    await writer.close();
  }
  const out = await child.output();
  const text = new TextDecoder().decode(out.stdout);
  const lines = text === "" ? [] : text.trimEnd().split("\n").map((l) => JSON.parse(l));
  // A replay that read everything ends with the end record (docs/envelope.md); the tests look
  // at the events before it.
  const last = lines.at(-1);
  const ended = last?.$edgepipe === "end" && last.source === "replay";
  if (ended) lines.pop();
  return { code: out.code, lines, ended, stderr: new TextDecoder().decode(out.stderr).trim() };
}

async function withDir(body: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "edgepipe-replay-test-" });
  try {
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("replay reads NDJSON, JSON arrays, CSV and Parquet into the same envelopes", async () => {
  await withDir(async (dir) => {
    const rows = Array.from({ length: 30 }, (_, i) => ({
      origin: ["SFO", "LAX", "JFK"][i % 3],
      delay: i * 3 - 20,
      date: new Date(Date.UTC(2024, 0, 1, 0, i)).toISOString(),
    }));
    await Deno.writeTextFile(`${dir}/a.ndjson`, rows.map((r) => JSON.stringify(r)).join("\n"));
    await Deno.writeTextFile(`${dir}/a.json`, JSON.stringify(rows, null, 2));
    await Deno.writeTextFile(
      `${dir}/a.csv`,
      ["origin,delay,date", ...rows.map((r) => `${r.origin},${r.delay},${r.date}`)].join("\n"),
    );
    await Deno.writeFile(
      `${dir}/a.parquet`,
      new Uint8Array(parquetWriteBuffer({
        columnData: [
          { name: "origin", data: rows.map((r) => r.origin), type: "STRING" },
          { name: "delay", data: rows.map((r) => BigInt(r.delay)), type: "INT64" },
          { name: "date", data: rows.map((r) => new Date(r.date)), type: "TIMESTAMP" },
        ],
        rowGroupSize: 7,
      })),
    );
    const expected = rows.map((r) => ({ value: r, key: r.origin, eventTime: Date.parse(r.date) }));
    for (const name of ["a.ndjson", "a.json", "a.csv", "a.parquet"]) {
      const { code, lines, stderr } = await replay([
        `${dir}/${name}`,
        "--time",
        "date",
        "--key",
        "origin",
      ]);
      assert.equal(stderr, "", name);
      assert.equal(code, 0, name);
      assert.deepEqual(lines, expected, name);
    }
    const limited = await replay([`${dir}/a.csv`, `${dir}/a.ndjson`, "-c", "35"]);
    assert.equal(limited.lines.length, 35);
    assert.deepEqual(limited.lines[30].value, rows[0]);
  });
});

Deno.test("replay reads stdin with '-' and keeps recorded envelopes as they are", async () => {
  const recorded = [
    '{"$edgepipe":"hello","v":1,"ack":"/tmp/gone/ack.sock","source":"consume"}',
    '{"topic":"t","key":"k1","eventTime":5,"value":{"a":1}}',
    '{"topic":"t","key":"k2","eventTime":6,"value":"text"}',
  ].join("\n");
  const { code, lines, stderr } = await replay(["-", "--format", "ndjson"], recorded);
  assert.equal(code, 0);
  assert.deepEqual(lines, [
    { topic: "t", key: "k1", eventTime: 5, value: { a: 1 } },
    { topic: "t", key: "k2", eventTime: 6, value: "text" },
  ]);
  assert.match(stderr, /-: line 1: left out a control record/);
});

Deno.test("replay bad input: one clear line, non-zero exit, per --on-error", async () => {
  await withDir(async (dir) => {
    const missing = await replay([`${dir}/nope.csv`]);
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr, `edgepipe replay: cannot open ${dir}/nope.csv: no such file`);

    await Deno.writeTextFile(`${dir}/x.bin`, "?");
    const unknown = await replay([`${dir}/x.bin`]);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /^edgepipe replay: .*x.bin: unknown format \(use a .ndjson/);

    await Deno.writeTextFile(`${dir}/bad.ndjson`, '{"n":1}\n{"n":2\n{"n":3}\n');
    const failed = await replay([`${dir}/bad.ndjson`]);
    assert.equal(failed.code, 1);
    assert.deepEqual(failed.lines, [{ value: { n: 1 } }], "records before the bad line are out");
    assert.equal(failed.ended, false, "a replay that failed does not say the stream ended");
    assert.match(failed.stderr, /^edgepipe replay: .*bad.ndjson: line 2: not valid JSON/);
    assert.equal(failed.stderr.split("\n").length, 1);

    const skipped = await replay([`${dir}/bad.ndjson`, "--on-error", "skip"]);
    assert.equal(skipped.code, 0);
    assert.deepEqual(skipped.lines.map((l) => l.value.n), [1, 3]);
    assert.equal(skipped.ended, true, "the end record comes last");
    assert.match(skipped.stderr, /skipped: .*bad.ndjson: line 2: not valid JSON/);

    await Deno.writeTextFile(`${dir}/t.csv`, "n,t\n1,2024-01-01\n2,someday\n3,2024-01-03\n");
    const dead = await replay([
      `${dir}/t.csv`,
      "--time",
      "t",
      "--on-error",
      `dead-letter=${dir}/dead.ndjson`,
    ]);
    assert.equal(dead.code, 0);
    assert.deepEqual(dead.lines.map((l) => l.value.n), [1, 3]);
    const letters = (await Deno.readTextFile(`${dir}/dead.ndjson`)).trim().split("\n");
    assert.equal(letters.length, 1);
    const letter = JSON.parse(letters[0]);
    assert.equal(letter.deadLetter.stage, "replay");
    assert.equal(letter.deadLetter.line, 3);
    assert.match(letter.deadLetter.error, /event time field 't' is "someday"/);
    assert.equal(letter.deadLetter.raw, '{"n":2,"t":"someday"}');

    const usage = await replay([`${dir}/t.csv`, "--speedup", "10"]);
    assert.equal(usage.code, 2);
    assert.equal(usage.stderr, "edgepipe replay: --speedup needs --time <field>");
  });
});

Deno.test("replay into a reader that goes away ends cleanly with exit 0", async () => {
  await withDir(async (dir) => {
    const lines = Array.from({ length: 200_000 }, (_, i) => `{"n":${i}}`).join("\n");
    await Deno.writeTextFile(`${dir}/big.ndjson`, lines);
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", MAIN, "replay", `${dir}/big.ndjson`],
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const reader = child.stdout.getReader();
    const first = await reader.read();
    assert.ok(first.value && first.value.length > 0);
    await reader.cancel(); // like `| head -n 1`
    const status = await child.status;
    const stderr = new TextDecoder().decode(
      new Uint8Array(await new Response(child.stderr).arrayBuffer()),
    );
    assert.equal(stderr, "");
    assert.equal(status.code, 0);
  });
});

Deno.test("replay stops on SIGINT with everything read so far written, exit 130", async () => {
  await withDir(async (dir) => {
    await Deno.writeTextFile(
      `${dir}/slow.ndjson`,
      Array.from({ length: 1000 }, (_, i) => `{"n":${i}}`).join("\n"),
    );
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", MAIN, "replay", `${dir}/slow.ndjson`, "--rate", "50/s"],
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    while (text.split("\n").length < 5) text += (await reader.read()).value ?? "";
    child.kill("SIGINT");
    for (let r = await reader.read(); !r.done; r = await reader.read()) text += r.value;
    const status = await child.status;
    await child.stderr.cancel();
    assert.equal(status.code, 130);
    const got = text.trimEnd().split("\n").map((l) => JSON.parse(l).value.n);
    assert.deepEqual(got, Array.from({ length: got.length }, (_, i) => i), "a gap-free prefix");
    assert.ok(got.length < 1000);
  });
});

const hasScript = (() => {
  try {
    return Deno.statSync("/usr/bin/script").isFile;
  } catch {
    return false;
  }
})();

Deno.test({
  name: "replay draws a progress bar when stderr is a terminal, and only then",
  ignore: !hasScript, // util-linux `script` provides the pseudo-terminal
  async fn() {
    await withDir(async (dir) => {
      const rows = Array.from({ length: 5000 }, (_, i) => `{"n":${i}}`).join("\n");
      await Deno.writeTextFile(`${dir}/p.ndjson`, rows);
      const command =
        `"${Deno.execPath()}" run -A "${MAIN}" replay "${dir}/p.ndjson" > "${dir}/out"`;
      const tty = await new Deno.Command("script", {
        args: ["-qec", command, "/dev/null"],
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.equal(tty.code, 0);
      const screen = new TextDecoder().decode(tty.stdout);
      assert.match(screen, /\r\[#{24}\] 100% {2}5,000 events {2}[\d,]+\/s {2}.*p\.ndjson/);
      // 5,000 events and the end record.
      assert.equal((await Deno.readTextFile(`${dir}/out`)).trimEnd().split("\n").length, 5001);
      const piped = await replay([`${dir}/p.ndjson`]);
      assert.equal(piped.stderr, "", "no bar when stderr is not a terminal");
    });
  },
});

Deno.test("replay reads gzipped text files and TSV", async () => {
  await withDir(async (dir) => {
    const csv = "a,b\n1,x\n2,y\n";
    const gz = new Uint8Array(
      await new Response(
        ReadableStream.from([new TextEncoder().encode(csv)]).pipeThrough(
          new CompressionStream("gzip") as unknown as TransformStream<Uint8Array, Uint8Array>,
        ),
      ).arrayBuffer(),
    );
    await Deno.writeFile(`${dir}/t.csv.gz`, gz);
    await Deno.writeTextFile(`${dir}/t.tsv`, "a\tb\n1\tx,z\n");
    const zipped = await replay([`${dir}/t.csv.gz`, `${dir}/t.tsv`]);
    assert.equal(zipped.code, 0, zipped.stderr);
    assert.deepEqual(zipped.lines.map((l) => l.value), [
      { a: 1, b: "x" },
      { a: 2, b: "y" },
      { a: 1, b: "x,z" },
    ]);
  });
});
