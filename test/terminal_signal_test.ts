/**
 * `sink` and `route` stop on signals as docs/delivery.md says (the shared shutdown): the first
 * SIGTERM stops reading, delivers and reports everything read, and exits 143; a second signal
 * exits at once.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { AckServer } from "../lib/delivery/ack_server.ts";

const MAIN = new URL("../cli/main.ts", import.meta.url).pathname;

function start(args: string[], stdout: "piped" | "null" = "null") {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--no-check", MAIN, ...args],
    stdin: "piped",
    stdout,
    stderr: "piped",
  }).spawn();
}

/** Waits for `child` to exit, or fails after `ms`: a bound against hanging, not a speed goal. */
async function exited(child: Deno.ChildProcess, ms: number): Promise<Deno.CommandStatus> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`still running after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([child.status, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function untilAcked(acked: string[], count: number): Promise<void> {
  while (acked.length < count) await new Promise((resolve) => setTimeout(resolve, 20));
}

for (const command of ["sink", "route"] as const) {
  Deno.test(`${command}: SIGTERM delivers everything read, reports it, exits 143`, async () => {
    const dir = await Deno.makeTempDir();
    const acked: string[] = [];
    const acks = await AckServer.listen({ source: "test", onAck: (id) => void acked.push(id) });
    const args = command === "sink"
      ? [
        "sink",
        "file",
        dir,
        "--format",
        "ndjson",
        "--payload",
        "envelope",
        "--max-events",
        "50",
        "--max-age",
        "1h",
      ]
      : [
        "route",
        "--to",
        `true=file:${dir}/?format=ndjson&payload=envelope&max-events=50&max-age=1h`,
      ];
    const child = start(args);
    const stderrText = new Response(child.stderr).text();
    const writer = child.stdin.getWriter();
    try {
      const events = Array.from(
        { length: 120 },
        (_, i) => JSON.stringify({ id: `e${i}`, value: i }),
      );
      // One write: the stage reads all 120 at once; the first two files of 50 are written at once.
      await writer.write(
        new TextEncoder().encode([JSON.stringify(acks.hello()), ...events].join("\n") + "\n"),
      );
      await untilAcked(acked, 100);
      // 20 events wait in an open batch (max age 1 h), stdin stays open: only the signal ends it.
      child.kill("SIGTERM");
      const status = await exited(child, 30_000);
      assert.equal(status.code, 143, await stderrText);
      await acks.waitForTerminal(5_000);
      const stored: string[] = [];
      const walk = async (path: string) => {
        for await (const entry of Deno.readDir(path)) {
          const full = join(path, entry.name);
          if (entry.isDirectory) await walk(full);
          else {
            for (const line of (await Deno.readTextFile(full)).split("\n")) {
              if (line !== "") stored.push(JSON.parse(line).id);
            }
          }
        }
      };
      await walk(dir);
      const want = Array.from({ length: 120 }, (_, i) => `e${i}`);
      assert.deepEqual(stored.sort(), [...want].sort());
      assert.deepEqual([...acked].sort(), [...want].sort());
    } finally {
      await writer.close().catch(() => {});
      await acks.close();
      await Deno.remove(dir, { recursive: true });
    }
  });
}

Deno.test("sink: a second signal exits at once, without waiting for a stuck delivery", async () => {
  // Nobody reads its stdout: once the pipe is full, the sink's write never completes.
  const child = start(["sink", "stdout"], "piped");
  const writer = child.stdin.getWriter();
  const line = JSON.stringify({ value: "x".repeat(1000) }) + "\n";
  const chunk = new TextEncoder().encode(line.repeat(1000));
  // ~4 MB: far more than a pipe holds. The writes stall once the sink stops reading.
  const feeding = (async () => {
    for (let i = 0; i < 4; i++) await writer.write(chunk);
  })().catch(() => {});
  await new Promise((resolve) => setTimeout(resolve, 3000));
  child.kill("SIGTERM");
  await new Promise((resolve) => setTimeout(resolve, 500));
  child.kill("SIGTERM");
  try {
    const status = await exited(child, 20_000);
    assert.equal(status.code, 143);
  } finally {
    try {
      child.kill("SIGKILL");
    } catch { /* it has exited */ }
    await feeding;
    await child.stdout.cancel();
    await child.stderr.cancel();
  }
});
