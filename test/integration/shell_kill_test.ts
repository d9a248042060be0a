/**
 * kill -9 at random moments: while 100,000 events flow through `consume | produce` (separate
 * processes, a real pipe), one of the two is killed, the pair is started again, and again; at
 * the end every input event is in the output topic. Duplicates are counted, none may be missing.
 */
import assert from "node:assert/strict";
import { pulsarUrls } from "../harness/pulsar.ts";

const MAIN = new URL("../../cli/main.ts", import.meta.url).pathname;
const EVENTS = 100_000;
const KILLS = 6;

function start(args: string[], env: Record<string, string>, stdin: "piped" | "null") {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args],
    env,
    stdin,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  return { child, stderr: new Response(child.stderr).text() };
}

async function run(args: string[], env: Record<string, string>, input?: string) {
  const { child, stderr } = start(args, env, input === undefined ? "null" : "piped");
  if (input !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(input));
    await writer.close();
  }
  const stdout = new Response(child.stdout).text();
  const status = await child.status;
  return { code: status.code, stdout: await stdout, stderr: await stderr };
}

Deno.test({
  name: "kill -9 of consume or produce at random moments loses no event",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const { serviceUrl } = await pulsarUrls();
    const env = { PULSAR_SERVICE_URL: serviceUrl, NO_COLOR: "1" };
    const id = crypto.randomUUID().slice(0, 8);
    const source = `persistent://public/default/shell-kill-in-${id}`;
    const target = `persistent://public/default/shell-kill-out-${id}`;
    const input = Array.from({ length: EVENTS }, (_, n) => JSON.stringify({ n, k: `k${n % 31}` }))
      .join("\n") + "\n";
    const seeded = await run(
      ["produce", source, "--input", "json", "--key-field", "k"],
      env,
      input,
    );
    assert.equal(seeded.code, 0, seeded.stderr);

    // A seeded random sequence of victims and moments, printed so that a failure can be replayed.
    let seed = Number(Deno.env.get("KILL_SEED") ?? Date.now() % 100_000);
    console.log(`    KILL_SEED=${seed}`);
    const random = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);

    const runPair = async (killAfterMs?: number, victim?: "consume" | "produce") => {
      const consume = start(
        ["consume", source, "-s", "copy", "-e", "--ack-timeout", "10s"],
        env,
        "null",
      );
      // Unbatched sends with a small window: the flow lasts long enough to be cut many times.
      const produce = start(
        ["produce", target, "--max-in-flight", "50", "--batch-max-messages", "1"],
        env,
        "piped",
      );
      const piping = consume.child.stdout.pipeTo(produce.child.stdin).catch(() => {});
      if (killAfterMs !== undefined) {
        await new Promise((r) => setTimeout(r, killAfterMs));
        try {
          (victim === "consume" ? consume : produce).child.kill("SIGKILL");
        } catch (error) {
          if (!(error instanceof TypeError)) throw error; // the pair had already finished
        }
      }
      const codes = [(await consume.child.status).code, (await produce.child.status).code];
      await piping;
      return { codes, stderr: [await consume.stderr, await produce.stderr] };
    };

    for (let round = 0; round < KILLS; round++) {
      const victim = random() < 0.5 ? "consume" : "produce";
      const after = 300 + Math.floor(random() * 2200);
      const { codes } = await runPair(after, victim);
      console.log(`    round ${round}: killed ${victim} after ${after} ms, exit codes ${codes}`);
    }
    const last = await runPair();
    assert.deepEqual(last.codes, [0, 0], last.stderr.join("\n"));

    const read = await run(["consume", target, "-e", "-f", "%s\n"], env);
    assert.equal(read.code, 0, read.stderr);
    const counts = new Map<number, number>();
    for (const line of read.stdout.trimEnd().split("\n")) {
      const n = JSON.parse(line).n as number;
      counts.set(n, (counts.get(n) ?? 0) + 1);
    }
    const missing = Array.from({ length: EVENTS }, (_, n) => n).filter((n) => !counts.has(n));
    const duplicates = [...counts.values()].reduce((sum, c) => sum + c - 1, 0);
    console.log(
      `    ${counts.size} distinct events, ${duplicates} duplicates, ${missing.length} missing`,
    );
    assert.deepEqual(missing.slice(0, 10), [], `${missing.length} events missing`);
    assert.equal(counts.size, EVENTS);
  },
});
