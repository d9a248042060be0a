/** `edgepipe run` as a user meets it: bad pipeline files, --dry-run, stdin pipelines. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { runEdgepipe } from "../harness/edgepipe.ts";

function edgepipe(args: string[], stdin = "") {
  return runEdgepipe(args, { stdin });
}

Deno.test("run: an invalid pipeline file exits 2 with one line naming file, line and problem", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const cases: [string, RegExp][] = [
      [
        "source: { stdin: {} }\nsink: stdout\nstages:\n  - windw: {}\n",
        /p\.yaml:4:5: stages\[0\]: expected one of/,
      ],
      [
        "source: { stdin: {} }\nsink: s3://x/\n",
        /p\.yaml: sink: .*'x' is not a valid S3 bucket name/,
      ],
      ["source: {\n", /p\.yaml:\d+:\d+: invalid YAML/],
      [
        "source: { stdin: {} }\nstages:\n  - filter: 'event.value.('\nsink: stdout\n",
        /stages\[0\]\.filter: invalid expression at column 13/,
      ],
    ];
    for (const [text, pattern] of cases) {
      const file = join(dir, "p.yaml");
      await Deno.writeTextFile(file, text);
      const run = await edgepipe(["run", file]);
      assert.equal(run.code, 2, run.stderr);
      assert.equal(run.stderr.trim().split("\n").length, 1, run.stderr);
      assert.match(run.stderr, pattern);
      assert.equal(run.stdout, "");
    }
    const missing = await edgepipe(["run", join(dir, "nope.yaml")]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /cannot read .*nope\.yaml: no such file/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("run: a stdin pipeline filters and maps NDJSON envelopes, keeping their ids", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = join(dir, "p.yaml");
    await Deno.writeTextFile(
      file,
      `source: { stdin: {} }
stages:
  - filter: 'event.value.n >= 6.0'
  - map: '{"n": event.value.n, "square": event.value.n * event.value.n}'
sink: stdout?payload=envelope
`,
    );
    const input = Array.from({ length: 10 }, (_, n) =>
      JSON.stringify({ id: `e${n}`, value: { n } }))
      .join("\n") + "\n";
    const run = await edgepipe(["run", file], input);
    assert.equal(run.code, 0, run.stderr);
    const out = run.stdout.trim().split("\n").map((l) => JSON.parse(l));
    assert.deepEqual(out.map((e) => e.value), [6, 7, 8, 9].map((n) => ({ n, square: n * n })));
    assert.deepEqual(out.map((e) => e.id), ["e6", "e7", "e8", "e9"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
