/**
 * A dead upstream is not the end of the stream. `window --checkpoint-dir` behind an edgepipe
 * source (its input starts with a `hello`) whose feeding process is killed with SIGKILL mid-stream
 * must not fire its open windows: after a restart with the rest of the input, the two outputs
 * together are the output of an uninterrupted run, byte for byte. Plain NDJSON (no hello) keeps
 * the old meaning of end of input.
 */
import assert from "node:assert/strict";
import { join } from "node:path";

const MAIN = new URL("../cli/main.ts", import.meta.url).pathname;
const EVENTS = 10_000;
const KEYS = 3;
const STEP_MS = 10;
const WINDOW_MS = 1000;
const T0 = Date.UTC(2026, 0, 1);
const CUT = 5000; // lines of the input the killed upstream gets out (the hello and 4,999 events)
const HELLO = { $edgepipe: "hello", v: 1, ack: "/nonexistent/ack.sock", source: "consume" };
const END = { $edgepipe: "end", source: "consume" };

const quote = (arg: string) => `'${arg.replaceAll("'", "'\\''")}'`;

function windowCommand(checkpoints: string): string {
  return [
    Deno.execPath(),
    "run",
    "-A",
    MAIN,
    "window",
    "--key",
    "k",
    "--tumbling",
    `${WINDOW_MS}ms`,
    "--agg",
    "count(), sum(value.x)",
    "--checkpoint-dir",
    checkpoints,
    // The fake hello names no socket: pass it on instead of relaying acknowledgements.
    "--ack-relay",
    "off",
  ].map(quote).join(" ");
}

async function sh(script: string) {
  const out = await new Deno.Command("bash", { args: ["-c", script], stderr: "piped" }).output();
  const decoder = new TextDecoder();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}

/** Events with no ids (so no ack records, whose timing varies, appear in the output). */
function events(): { lines: string[]; expected: Map<string, { count: number; sum: number }> } {
  const lines: string[] = [];
  const expected = new Map<string, { count: number; sum: number }>();
  for (let n = 0; n < EVENTS; n++) {
    const k = `k${n % KEYS}`;
    const t = T0 + n * STEP_MS;
    lines.push(JSON.stringify({ eventTime: t, value: { k, x: n } }));
    const at = `${k}|${t - (t % WINDOW_MS)}`;
    const window = expected.get(at) ?? { count: 0, sum: 0 };
    window.count++;
    window.sum += n;
    expected.set(at, window);
  }
  return { lines, expected };
}

Deno.test("window behind a hello: a killed upstream fires nothing; killed run + restart = uninterrupted run, byte for byte", async () => {
  const dir = await Deno.makeTempDir({ prefix: "edgepipe-upstream-end-" });
  const { lines, expected } = events();
  const all = [JSON.stringify(HELLO), ...lines, JSON.stringify(END)];
  const input = join(dir, "in.ndjson");
  await Deno.writeTextFile(input, all.join("\n") + "\n");
  // The restart's input: the source's hello again, then what the killed run never got.
  const rest = join(dir, "rest.ndjson");
  await Deno.writeTextFile(rest, [JSON.stringify(HELLO), ...all.slice(CUT)].join("\n") + "\n");

  const clean = await sh(`${windowCommand(join(dir, "clean"))} < ${quote(input)}`);
  assert.equal(clean.code, 0, clean.stderr);
  const cleanLines = clean.stdout.trimEnd().split("\n");
  // The reference, counted here: every window once, with its count and sum.
  const results = cleanLines.map((line) => JSON.parse(line)).filter((r) => r.window);
  assert.equal(results.length, expected.size);
  for (const r of results) {
    assert.deepEqual(
      { count: r.value.count, sum: r.value.sum_value_x },
      expected.get(`${r.key}|${r.window.start}`),
    );
  }
  assert.deepEqual(JSON.parse(cleanLines.at(-1)!), END, "the end record goes on, last");

  const checkpoints = join(dir, "crashed");
  const killed = await sh(
    `(head -n ${CUT} ${quote(input)}; kill -9 $BASHPID) | ${windowCommand(checkpoints)}`,
  );
  assert.notEqual(killed.code, 0, "an input that ends without its end record is a failure");
  const said = killed.stderr.trim().split("\n");
  assert.equal(said.length, 1, killed.stderr);
  assert.match(said[0], /without its source's end record/);
  const killedLines = killed.stdout.trimEnd().split("\n");
  // The kill landed mid-stream: some windows had fired, most had not.
  const firedBeforeKill = killedLines.filter((line) => line.includes('"window"')).length;
  assert.ok(firedBeforeKill > 0 && firedBeforeKill < expected.size / 2, `${firedBeforeKill}`);

  const restarted = await sh(`${windowCommand(checkpoints)} < ${quote(rest)}`);
  assert.equal(restarted.code, 0, restarted.stderr);
  const restartedLines = restarted.stdout.trimEnd().split("\n");
  assert.deepEqual(JSON.parse(restartedLines[0]), HELLO, "the restart passes its hello on");
  assert.equal(
    [...killedLines, ...restartedLines.slice(1)].join("\n"),
    cleanLines.join("\n"),
    "killed run + restart = uninterrupted run",
  );
  await Deno.remove(dir, { recursive: true });
});

Deno.test("window without a hello: end of input is the end, as before (open windows fire)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "edgepipe-upstream-end-" });
  const { lines } = events();
  const input = join(dir, "in.ndjson");
  await Deno.writeTextFile(input, lines.slice(0, 100).join("\n") + "\n");
  const run = await sh(`${windowCommand(join(dir, "ck"))} < ${quote(input)}`);
  assert.equal(run.code, 0, run.stderr);
  const out = run.stdout.trimEnd().split("\n").map((line) => JSON.parse(line));
  // 100 events of 10 ms: the first second, one window per key, all fired at end of input.
  assert.deepEqual(out.map((r) => [r.key, r.value.count]), [["k0", 34], ["k1", 33], ["k2", 33]]);
  await Deno.remove(dir, { recursive: true });
});
