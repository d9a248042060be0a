/**
 * The crash test of a checkpointed stage command over a file: one uninterrupted run, then runs
 * killed with SIGKILL at random points of their output (each checked to land mid-stream) and
 * restarted on the same input and checkpoint directory until one finishes; the output files
 * must be equal byte for byte.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";

/** What to run and how often to kill it. */
export interface CrashReplayOptions {
  /** Deno arguments of the command, writing to `output`, checkpointing in `checkpointDir`. */
  args: (output: string, checkpointDir?: string) => string[];
  /** The input file (stdin of every run). */
  input: string;
  /** A scratch directory for the outputs and checkpoints. */
  dir: string;
  kills: number;
}

function start(args: string[], input: string): Deno.ChildProcess {
  // The shell only redirects stdin and then becomes deno (exec), so SIGKILL hits deno itself.
  const quoted = [Deno.execPath(), ...args].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(" ");
  return new Deno.Command("sh", {
    args: ["-c", `exec ${quoted} < '${input}'`],
    stdout: "null",
    stderr: "piped",
  }).spawn();
}

/** Runs the test; throws on any difference or on a kill that did not land mid-stream. */
export async function crashAndCompare(options: CrashReplayOptions): Promise<void> {
  const { dir, input } = options;
  const cleanFile = join(dir, "clean.ndjson");
  const clean = await start(options.args(cleanFile), input).output();
  assert.equal(clean.code, 0, new TextDecoder().decode(clean.stderr));
  const cleanBytes = (await Deno.stat(cleanFile)).size;
  // Kill points: spread over the output, in increasing order, so each lands mid-stream.
  const killAt = Array.from(
    { length: options.kills },
    (_, i) => (i + 0.2 + Math.random() * 0.6) / options.kills * 0.9 + 0.05,
  );
  const output = join(dir, "crashed.ndjson");
  const checkpoints = join(dir, "checkpoints");
  let kills = 0;
  for (;;) {
    const child = start(options.args(output, checkpoints), input);
    const status = child.output();
    let done = false;
    status.finally(() => done = true);
    if (kills < killAt.length) {
      while (!done) {
        const size = await Deno.stat(output).then((s) => s.size, () => 0);
        if (size >= killAt[kills] * cleanBytes) {
          child.kill("SIGKILL");
          break;
        }
        await new Promise((r) => setTimeout(r, 2 + Math.random() * 8));
      }
    }
    const result = await status;
    if (result.signal === "SIGKILL") {
      kills++;
      continue;
    }
    assert.equal(result.code, 0, new TextDecoder().decode(result.stderr));
    break;
  }
  assert.equal(kills, killAt.length, "every kill landed mid-stream");
  const [a, b] = await Promise.all([Deno.readFile(cleanFile), Deno.readFile(output)]);
  assert.ok(a.length > 0, "the clean run wrote results");
  assert.equal(b.length, a.length, "output length");
  assert.ok(a.every((byte, i) => byte === b[i]), "output bytes");
}
