/**
 * The hot-swap run behind `test/score_watch_cli_test.ts` (20k events) and
 * `bench/score_watch_bench.ts` (100k): `edgepipe score --watch` on a model directory while
 * events flow, the model replaced twice — by a good new one, then by a broken one — at points the
 * run waits for (so each replacement lands mid-stream), and every output checked: each event
 * scored exactly once, in order, by the model version in force, with the value that version's
 * formula gives (the two graphs of lib/score/testdata/swap-a and swap-b: y = a + b, y = 2a + 3b).
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";

const ROOT = new URL("../", import.meta.url).pathname;
const MAIN = join(ROOT, "cli/main.ts");
const A = join(ROOT, "lib/score/testdata/swap-a");
const B = join(ROOT, "lib/score/testdata/swap-b");

/** What a run saw. */
export interface SwapRunResult {
  events: number;
  /** Outputs scored by each version, in output order: [a, b]. */
  byVersion: [number, number];
  /** Events fed when B was installed, when B took over, when the broken one was installed. */
  fedAt: { installB: number; servingB: number; installBroken: number; refused: number };
  stderr: string;
  seconds: number;
}

async function sha(path: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", await Deno.readFile(path)));
  return "sha256:" + Array.from(digest.subarray(0, 8), (b) => b.toString(16).padStart(2, "0"))
    .join("");
}

/** Copies `from`'s two files into `dir` the way a deployment should: temp name, then rename. */
async function install(from: string, dir: string, modelBytes?: Uint8Array): Promise<void> {
  await Deno.writeFile(
    join(dir, ".model.tmp"),
    modelBytes ?? await Deno.readFile(join(from, "model.onnx")),
  );
  await Deno.rename(join(dir, ".model.tmp"), join(dir, "model.onnx"));
  await Deno.copyFile(join(from, "spec.json"), join(dir, ".spec.tmp"));
  await Deno.rename(join(dir, ".spec.tmp"), join(dir, "spec.json"));
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs the swap scenario over `total` events; throws on any wrong output. */
export async function runSwap(total: number): Promise<SwapRunResult> {
  const dir = await Deno.makeTempDir({ prefix: "edgepipe-watch-" });
  const started = performance.now();
  try {
    await install(A, dir);
    const versionA = await sha(join(A, "model.onnx"));
    const versionB = await sha(join(B, "model.onnx"));
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        MAIN,
        "score",
        "--model",
        dir,
        "--watch",
        "--watch-interval",
        "50ms",
        "--batch",
        "64",
      ],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const outputs: {
      id: string;
      value: { a: number; b: number };
      score: Record<string, unknown>;
    }[] = [];
    const errLines: string[] = [];
    const readLines = async (stream: ReadableStream<Uint8Array>, each: (line: string) => void) => {
      let rest = "";
      for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
        const parts = (rest + chunk).split("\n");
        rest = parts.pop()!;
        for (const p of parts) if (p) each(p);
      }
      if (rest) each(rest);
    };
    const reading = Promise.all([
      readLines(child.stdout, (l) => outputs.push(JSON.parse(l))),
      readLines(child.stderr, (l) => errLines.push(l)),
    ]);
    const writer = child.stdin.getWriter();
    const encoder = new TextEncoder();
    let fed = 0;
    const feed = async (n: number) => {
      const lines: string[] = [];
      for (let i = 0; i < n && fed < total; i++, fed++) {
        lines.push(JSON.stringify({ id: `e${fed}`, value: { a: fed % 97, b: (fed * 7) % 89 } }));
      }
      if (lines.length > 0) await writer.write(encoder.encode(lines.join("\n") + "\n"));
    };
    /** Feeds in small steps (at most 2,000 ahead of the output) until `done()`; false if out of events. */
    const feedUntil = async (done: () => boolean) => {
      while (!done()) {
        if (fed >= total) return false;
        if (fed - outputs.length < 2000) await feed(100);
        await sleep(2);
      }
      return true;
    };
    const quarter = Math.floor(total / 4);
    await feedUntil(() => fed >= quarter);
    await feedUntil(() => outputs.length >= quarter);
    const installB = fed;
    await install(B, dir);
    const sawB = await feedUntil(() => errLines.some((l) => l.includes(`now serving ${versionB}`)));
    assert.ok(sawB, `B never took over:\n${errLines.join("\n")}`);
    const servingB = fed;
    const installBroken = fed;
    const good = await Deno.readFile(join(B, "model.onnx"));
    await install(B, dir, good.subarray(0, Math.floor(good.length / 2)));
    const sawRefusal = await feedUntil(() => errLines.some((l) => l.includes("refused")));
    assert.ok(sawRefusal, `the broken model was never refused:\n${errLines.join("\n")}`);
    const refused = fed;
    await feed(total);
    await writer.close();
    const status = await child.status;
    await reading;
    const stderr = errLines.join("\n");
    assert.equal(status.code, 0, stderr);

    // Every event exactly once, in input order.
    assert.equal(outputs.length, total, "one output per event");
    const byVersion: [number, number] = [0, 0];
    let swapAt = -1;
    for (const [i, out] of outputs.entries()) {
      assert.equal(out.id, `e${i}`, `output ${i} is event ${i}`);
      const { a, b } = out.value;
      if (out.score.model === versionA) {
        assert.equal(swapAt, -1, `event ${i} scored by A after B took over`);
        assert.equal(out.score.y, a + b, `event ${i}: A's y`);
        byVersion[0]++;
      } else {
        assert.equal(
          out.score.model,
          versionB,
          `event ${i}: an unknown version ${out.score.model}`,
        );
        if (swapAt === -1) swapAt = i;
        assert.equal(out.score.y, 2 * a + 3 * b, `event ${i}: B's y`);
        byVersion[1]++;
      }
    }
    // The swap landed mid-stream, after B was installed and before it was announced fed.
    assert.ok(swapAt >= installB && swapAt <= servingB, `swap at ${swapAt}`);
    // Events fed after the broken model was refused are still scored (by B).
    assert.ok(refused < total, "events flowed after the refusal");
    const refusals = errLines.filter((l) => l.includes("refused"));
    assert.equal(refusals.length, 1, stderr);
    assert.match(refusals[0], /refused the new model in .*: .*model\.onnx: not an ONNX model/);
    assert.equal(errLines.filter((l) => l.includes("now serving")).length, 1, stderr);
    return {
      events: total,
      byVersion,
      fedAt: { installB, servingB, installBroken, refused },
      stderr,
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
