/**
 * Crash test: `edgepipe window` with checkpoints is killed with SIGKILL at random moments during a
 * replay and restarted on the same input and checkpoint directory until it finishes; its output
 * file must equal, byte for byte, the output of a run that was never interrupted.
 *
 * Size: EDGEPIPE_CRASH_EVENTS (default 100000; the contract was proven once at 1000000), kills:
 * EDGEPIPE_CRASH_KILLS (default 4), seed: EDGEPIPE_CRASH_SEED.
 */
import assert from "node:assert/strict";
import { join } from "node:path";

const MAIN = new URL("../cli/main.ts", import.meta.url).pathname;
const EVENTS = Number(Deno.env.get("EDGEPIPE_CRASH_EVENTS") ?? 100_000);
const KILLS = Number(Deno.env.get("EDGEPIPE_CRASH_KILLS") ?? 4);
const SEED = Number(Deno.env.get("EDGEPIPE_CRASH_SEED") ?? 20261124);

/** A small deterministic PRNG (mulberry32). */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Events over 5,000 keys, 20 per second of event time, disordered by up to 36 s (some late). */
async function writeInput(path: string, count: number, seed: number): Promise<void> {
  const next = random(seed);
  const file = await Deno.open(path, { write: true, create: true, truncate: true });
  const encoder = new TextEncoder();
  let chunk: string[] = [];
  for (let i = 0; i < count; i++) {
    const t = 1_700_000_000_000 + i * 50 - Math.floor(next() * 36_000);
    chunk.push(JSON.stringify({
      eventTime: t,
      value: { k: `key-${Math.floor(next() * 5000)}`, x: Math.round(next() * 1e6) / 100 },
    }));
    if (chunk.length === 10_000 || i === count - 1) {
      await file.write(encoder.encode(chunk.join("\n") + "\n"));
      chunk = [];
    }
  }
  file.close();
}

function windowArgs(output: string, checkpointDir?: string): string[] {
  return [
    "run",
    "-A",
    MAIN,
    "window",
    "--key",
    "k",
    "--tumbling",
    "1m",
    "--out-of-orderness",
    "30s",
    "--allowed-lateness",
    "5s",
    "--agg",
    "count(), sum(value.x), avg(value.x), p95(value.x), max(value.x), first(value.x)",
    "--output",
    output,
    ...(checkpointDir ? ["--checkpoint-dir", checkpointDir, "--checkpoint-interval", "150ms"] : []),
  ];
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

Deno.test({
  name: `window survives kill -9 during a ${EVENTS}-event replay with identical output`,
  sanitizeResources: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "edgepipe-crash-" });
    const input = join(dir, "input.ndjson");
    await writeInput(input, EVENTS, SEED);

    const t0 = performance.now();
    const clean = await start(windowArgs(join(dir, "clean.ndjson")), input).output();
    assert.equal(clean.code, 0, new TextDecoder().decode(clean.stderr));
    const cleanMs = performance.now() - t0;

    const cleanBytes = (await Deno.stat(join(dir, "clean.ndjson"))).size;
    const next = random(SEED ^ 0x5eed);
    // Kill points: random fractions of the way through the output, in increasing order, so every
    // kill lands mid-stream whatever the machine's speed.
    const killAt = Array.from({ length: KILLS }, () => 0.05 + next() * 0.9).sort((x, y) => x - y);
    const output = join(dir, "crashed.ndjson");
    const checkpoints = join(dir, "checkpoints");
    let kills = 0;
    while (true) {
      const child = start(windowArgs(output, checkpoints), input);
      const status = child.output();
      let done = false;
      status.finally(() => done = true);
      if (kills < killAt.length) {
        const target = killAt[kills] * cleanBytes;
        while (!done) {
          const size = await Deno.stat(output).then((s) => s.size, () => 0);
          if (size >= target) {
            child.kill("SIGKILL");
            break;
          }
          await new Promise((r) => setTimeout(r, 2 + next() * 10));
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
    assert.equal(kills, killAt.length, "every planned kill happened mid-run");
    const [a, b] = await Promise.all([
      Deno.readFile(join(dir, "clean.ndjson")),
      Deno.readFile(output),
    ]);
    console.log(
      `${EVENTS} events, ${a.length} output bytes, killed and restarted ${kills}×; ` +
        `uninterrupted run ${Math.round(cleanMs)} ms`,
    );
    assert.ok(a.length > 0);
    assert.equal(b.length, a.length, "output length");
    assert.ok(a.every((byte, i) => byte === b[i]), "output bytes");
    await Deno.remove(dir, { recursive: true });
  },
});
