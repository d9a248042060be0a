/** `edgepipe sink file|stdout` as a user runs them: acknowledgements, rolling, usage mistakes. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { AckServer } from "../lib/delivery/ack_server.ts";
import { runEdgepipe } from "./harness/edgepipe.ts";

function edgepipe(args: string[], stdin = "") {
  return runEdgepipe(args, { stdin });
}

Deno.test("sink file: rolls by count, every event acknowledged once its file is on disk", async () => {
  const dir = await Deno.makeTempDir();
  const acked: string[] = [];
  const acks = await AckServer.listen({ source: "test", onAck: (id) => void acked.push(id) });
  try {
    const events = Array.from(
      { length: 250 },
      (_, i) => ({ id: `f${i}`, key: `k${i % 3}`, value: i }),
    );
    const input = [JSON.stringify(acks.hello()), ...events.map((e) => JSON.stringify(e))].join(
      "\n",
    );
    const run = await edgepipe(
      // Whole envelopes in the files, so each stored event shows its id and key.
      [
        "sink",
        "file",
        dir,
        "--prefix",
        "key={key}/",
        "--format",
        "ndjson",
        "--max-events",
        "40",
        "--payload",
        "envelope",
      ],
      input + "\n",
    );
    await acks.waitForTerminal(5_000);
    assert.equal(run.code, 0, run.stderr);
    const stored: string[] = [];
    let files = 0;
    for (const key of ["k0", "k1", "k2"]) {
      for (const entry of Deno.readDirSync(join(dir, `key=${key}`))) {
        files++;
        const lines = Deno.readTextFileSync(join(dir, `key=${key}`, entry.name)).trim().split("\n");
        assert.ok(lines.length <= 40);
        for (const line of lines) {
          const event = JSON.parse(line);
          assert.equal(event.key, key);
          stored.push(event.id);
        }
      }
    }
    assert.ok(files >= 7, `${files} files`);
    assert.deepEqual(stored.sort(), events.map((e) => e.id).sort());
    assert.deepEqual([...acked].sort(), events.map((e) => e.id).sort());
  } finally {
    await acks.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sink: usage mistakes exit 2 with one line", async () => {
  const cases: [string[], RegExp][] = [
    [["sink", "s3"], /--bucket is required/],
    [["sink", "file"], /expected one directory/],
    [["sink", "file", "/tmp/x", "--format", "csv"], /--format must be one of/],
    [["sink", "file", "/tmp/x", "--max-bytes", "lots"], /--max-bytes: 'lots' is not a size/],
    [["sink", "file", "/tmp/x", "--max-age", "soon"], /--max-age: 'soon' is not a duration/],
    [["sink", "file", "/tmp/x", "--prefix", "%Q/"], /unknown time field '%Q'/],
    [["sink", "ftp"], /unknown target 'ftp'/],
    [["sink", "stdout", "--on-error", "drop"], /--on-error must be/],
  ];
  for (const [args, pattern] of cases) {
    const run = await edgepipe(args);
    assert.equal(run.code, 2, `${args.join(" ")}: ${run.stderr}`);
    assert.equal(run.stderr.trim().split("\n").length, 1, run.stderr);
    assert.match(run.stderr, pattern);
  }
});

Deno.test("sink stdout: events out, bad lines dead-lettered with their line number", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const dead = join(dir, "dead.ndjson");
    const run = await edgepipe(
      ["sink", "stdout", "--on-error", `dead-letter=${dead}`],
      '{"id":"a","value":1}\n{broken\n{"id":"b","value":2}\n',
    );
    assert.equal(run.code, 0, run.stderr);
    // The delivered records: each event's value, nothing having been added to it.
    assert.deepEqual(run.stdout.trim().split("\n").map((l) => JSON.parse(l)), [1, 2]);
    const record = JSON.parse(await Deno.readTextFile(dead));
    assert.equal(record.deadLetter.line, 2);
    assert.equal(record.deadLetter.raw, "{broken");
    assert.equal(record.deadLetter.stage, "sink stdout");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
