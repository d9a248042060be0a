/**
 * `edgepipe demo` end to end: every bundled flight is counted in exactly one hourly result, and
 * the counts per origin and hour match a count made directly from the data file.
 */
import assert from "node:assert/strict";

const root = new URL("../", import.meta.url).pathname;

async function edgepipe(...args: string[]) {
  const out = await new Deno.Command("deno", {
    args: ["run", "-A", `${root}cli/main.ts`, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, stdout: new TextDecoder().decode(out.stdout) };
}

Deno.test("demo summarises every bundled flight per origin and hour", async () => {
  const { code, stdout } = await edgepipe("demo");
  assert.equal(code, 0);
  const results = stdout.trim().split("\n").map((line) => JSON.parse(line));

  const expected = new Map<string, number>();
  const data = await Deno.readTextFile(`${root}examples/data/flights-2001-03-12-morning.ndjson`);
  for (const line of data.trim().split("\n")) {
    const event = JSON.parse(line);
    const hour = Math.floor(event.eventTime / 3_600_000) * 3_600_000;
    const id = `${event.value.origin}@${hour}`;
    expected.set(id, (expected.get(id) ?? 0) + 1);
  }
  const actual = new Map<string, number>();
  for (const result of results) {
    assert.ok(result.value.avg_score_delayed > 0 && result.value.avg_score_delayed < 1);
    actual.set(`${result.key}@${result.window.start}`, result.value.count);
  }
  assert.deepEqual(actual, expected);
});

Deno.test("demo --scored prints a probability for every flight", async () => {
  const { code, stdout } = await edgepipe("demo", "--scored");
  assert.equal(code, 0);
  const lines = stdout.trim().split("\n");
  assert.equal(lines.length, 3417);
  for (const line of lines) {
    const { score } = JSON.parse(line);
    assert.ok(Math.abs(score.delayed + score.on_time - 1) < 1e-5);
  }
});
