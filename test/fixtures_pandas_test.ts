/**
 * The expected results of the join, pattern and keyed-function tests are computed by pandas
 * scripts beside them (test/fixtures/{joins,patterns,functions}/make_*.py) from the real flights
 * fixture. This runs each script again, in a copy of the fixtures, and checks that it writes
 * exactly the files the tests read: the references are the scripts' output, not edited by hand
 * and not written by edgepipe.
 */
import assert from "node:assert/strict";
import { join } from "node:path";

const FIXTURES = new URL("./fixtures/", import.meta.url).pathname;

const SCRIPTS: [string, string[]][] = [
  ["joins/make_joins.py", [
    "joins/movements.ndjson",
    "joins/expected_pairs.ndjson",
    "joins/expected_unmatched.ndjson",
  ]],
  ["patterns/make_patterns.py", ["patterns/expected_matches.ndjson"]],
  ["functions/make_quiet_hour.py", ["functions/quiet_hour_expected.ndjson"]],
];

Deno.test("the pandas scripts write exactly the join, pattern and process references", async () => {
  const copy = await Deno.makeTempDir({ prefix: "edgepipe-fixtures-" });
  try {
    await Deno.mkdir(join(copy, "windows"));
    await Deno.copyFile(
      join(FIXTURES, "windows/flights_events.ndjson"),
      join(copy, "windows/flights_events.ndjson"),
    );
    for (const [script, outputs] of SCRIPTS) {
      await Deno.mkdir(join(copy, script, ".."), { recursive: true });
      await Deno.copyFile(join(FIXTURES, script), join(copy, script));
      const out = await new Deno.Command("python3", {
        args: [join(copy, script)],
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.equal(out.code, 0, `${script}: ${new TextDecoder().decode(out.stderr)}`);
      for (const file of outputs) {
        const [written, committed] = await Promise.all([
          Deno.readTextFile(join(copy, file)),
          Deno.readTextFile(join(FIXTURES, file)),
        ]);
        assert.ok(written.length > 0, file);
        assert.ok(written === committed, `${file}: the script writes something else`);
      }
    }
  } finally {
    await Deno.remove(copy, { recursive: true });
  }
});
