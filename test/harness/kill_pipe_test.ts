/**
 * The kill-test helper on its own, with no broker: `replay` (paced) and `replay | map` processes,
 * the output appended to a file. A kill while events flow is recognised as mid-stream; a pipe
 * that ends before its kill is not, and the helper says so rather than counting it.
 */
import assert from "node:assert/strict";
import { killPipe, seededRandom } from "./kill_pipe.ts";
import { tally } from "./output_audit.ts";

const integration = { sanitizeOps: false, sanitizeResources: false };

async function fixture(events: number) {
  const dir = await Deno.makeTempDir({ prefix: "edgepipe-kill-pipe-" });
  const input = `${dir}/in.ndjson`;
  const lines = Array.from({ length: events }, (_, n) => JSON.stringify({ n }) + "\n");
  await Deno.writeTextFile(input, lines.join(""));
  const output = `${dir}/out.ndjson`;
  await Deno.writeTextFile(output, "");
  const numbers = async () =>
    // Events only: replay also writes its end record when it finishes.
    (await Deno.readTextFile(output)).split("\n").filter((l) => l !== "").map((l) => JSON.parse(l))
      .filter((item) => item.$edgepipe === undefined).map((item) => item.value.n as number);
  return { dir, input, output, numbers, expected: Array.from({ length: events }, (_, n) => n) };
}

Deno.test("seededRandom replays the same sequence in [0, 1)", () => {
  const a = seededRandom(42);
  const b = seededRandom(42);
  const first = Array.from({ length: 1000 }, a);
  assert.deepEqual(Array.from({ length: 1000 }, b), first);
  assert.ok(first.every((x) => x >= 0 && x < 1));
  assert.notDeepEqual(Array.from({ length: 1000 }, seededRandom(43)), first);
});

Deno.test({
  name: "killPipe: a kill of a paced replay lands mid-stream; the last run drains",
  ...integration,
  async fn() {
    const events = 1500;
    const { dir, input, output, numbers, expected } = await fixture(events);
    const lines: string[] = [];
    const result = await killPipe({
      stages: [["replay", input, "--rate", "500/s"]],
      stdout: output,
      victim: 0,
      kills: 1,
      spareRounds: 0,
      seed: 7,
      progress: async () => (await numbers()).length,
      accounted: async () => tally(expected, await numbers()).distinct,
      total: events,
      log: (line) => lines.push(line),
    });
    assert.equal(result.rounds.length, 1);
    const [round] = result.rounds;
    assert.equal(round.midStream, true, lines.join("\n"));
    assert.equal(round.stage, "replay");
    assert.deepEqual(round.codes, [137]);
    assert.ok(round.accountedAfter > 0 && round.accountedAfter < events);
    assert.deepEqual(result.last.codes, [0]);
    // replay starts again from the top: what the killed run wrote comes twice.
    const seen = tally(expected, await numbers());
    assert.deepEqual(seen.missing, []);
    assert.equal(seen.duplicates, round.accountedAfter);
    assert.match(lines[0], /^KILL_SEED=7$/);
    await Deno.remove(dir, { recursive: true });
  },
});

Deno.test({
  name: "killPipe: a pipe that ends before its kill is not counted as a mid-stream kill",
  ...integration,
  async fn() {
    const { dir, input, output, numbers, expected } = await fixture(20);
    const result = await killPipe({
      stages: [["replay", input], ["map", "event.value"]],
      stdout: output,
      victim: 1,
      kills: 1,
      spareRounds: 1,
      // The output never reaches the step: every run ends by itself.
      progress: () => Promise.resolve(0),
      accounted: () => Promise.resolve(0),
      total: 20,
      log: () => {},
    });
    assert.equal(result.midStreamKills, 0);
    assert.equal(result.rounds.length, 2, "the round is tried once more, then given up");
    for (const round of result.rounds) {
      assert.equal(round.midStream, false);
      assert.equal(round.progressAtKill, undefined);
      assert.deepEqual(round.codes, [0, 0]);
    }
    assert.equal(tally(expected, await numbers()).duplicates, 40);
    await Deno.remove(dir, { recursive: true });
  },
});

Deno.test({
  name: "killPipe: after a kill inside the re-emitted tail, the retry waits past that tail",
  ...integration,
  async fn() {
    // Stands in for a checkpointed stage: every run first re-emits TAIL records that were already
    // delivered (they count in `progress`, not in `accounted`), then emits new ones.
    const TAIL = 150;
    const total = 2000;
    const { dir, input, output } = await fixture(4000);
    const count = async () => (await Deno.readTextFile(output)).split("\n").length - 1;
    let seen = 0;
    let accounted = 0;
    const lines: string[] = [];
    const result = await killPipe({
      stages: [["replay", input, "--rate", "2000/s"]],
      stdout: output,
      victim: 0,
      kills: 3,
      spareRounds: 3,
      // Seed 22 draws the first two steps inside the tail (1 and 13 new records).
      seed: 22,
      progress: count,
      accounted: async () => {
        const now = await count();
        accounted = Math.min(total, accounted + Math.max(0, now - seen - TAIL));
        seen = now;
        return accounted;
      },
      total,
      log: (line) => lines.push(line),
    });
    const log = lines.join("\n");
    assert.ok(result.rounds[0].step < TAIL && !result.rounds[0].midStream, log);
    result.rounds.forEach((round, i) => {
      if (round.midStream || i + 1 === result.rounds.length) return;
      const published = round.progressAtEnd - round.progressAtStart;
      assert.ok(result.rounds[i + 1].step > 2 * published, `round ${i + 1}'s step\n${log}`);
    });
    assert.equal(result.midStreamKills, 3, lines.join("\n"));
    await Deno.remove(dir, { recursive: true });
  },
});
