/**
 * consume's messages written and not yet reported are bounded: `consume | cat > file` (nothing
 * ever reports) stops reading at the bound, says so once on stderr and drops nothing (the broker
 * keeps the rest); with a terminal stage the bound is only backpressure and everything arrives.
 * With EDGEPIPE_RSS_MESSAGES=N (e.g. 1000000) the first test also samples consume's resident
 * memory from /proc while it faces an N-message topic.
 */
import assert from "node:assert/strict";
import { pulsarUrls } from "../harness/pulsar.ts";
import { runEdgepipe, startEdgepipe } from "../harness/edgepipe.ts";

const MAIN = new URL("../../cli/main.ts", import.meta.url).pathname;
const integration = { sanitizeOps: false, sanitizeResources: false };
const { serviceUrl, adminUrl } = await pulsarUrls();
const env = { PULSAR_SERVICE_URL: serviceUrl, NO_COLOR: "1" };
const id = crypto.randomUUID().slice(0, 8);
const PAUSED = /reading waits for its reports/;

async function seed(topic: string, count: number) {
  const chunks = async function* () {
    for (let n = 0; n < count; n += 10_000) {
      const lines = [];
      for (let i = n; i < Math.min(count, n + 10_000); i++) {
        lines.push(JSON.stringify({ n: i, pad: "p".repeat(100) }));
      }
      yield lines.join("\n") + "\n";
    }
  };
  const produced = await runEdgepipe(["produce", topic, "--input", "json"], {
    env,
    stdin: chunks(),
  });
  assert.equal(produced.code, 0, produced.stderr);
}

async function backlog(topic: string, subscription: string): Promise<number> {
  const response = await fetch(`${adminUrl}/admin/v2/${topic.replace("://", "/")}/stats`);
  const stats = await response.json();
  return stats.subscriptions?.[subscription]?.msgBacklog ?? -1;
}

/** Resident memory of a process in KiB, from /proc/<pid>/status. */
async function rssKiB(pid: number): Promise<number> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
}

Deno.test({
  name: "consume | cat > file: reading stops at --max-unreported, said once, nothing dropped",
  ...integration,
  async fn() {
    const total = Number(Deno.env.get("EDGEPIPE_RSS_MESSAGES") ?? 3000);
    const bound = Deno.env.get("EDGEPIPE_RSS_MESSAGES") ? undefined : 1000;
    const topic = `persistent://public/default/bounded-${id}-cat`;
    await seed(topic, total);

    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        MAIN,
        "consume",
        topic,
        "-s",
        "cat",
        "--ack",
        "downstream",
        ...(bound ? ["--max-unreported", String(bound)] : []),
      ],
      env,
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    let stderr = "";
    const stderrDone = child.stderr.pipeThrough(new TextDecoderStream()).pipeTo(
      new WritableStream({ write: (text) => void (stderr += text) }),
    );
    // `cat > file`: read every line and never report anything.
    let lines = 0;
    const stdoutDone = child.stdout.pipeThrough(new TextDecoderStream()).pipeTo(
      new WritableStream({
        write: (text) => {
          for (const c of text) if (c === "\n") lines++;
        },
      }),
    );
    const samples: { lines: number; rss: number }[] = [];
    const deadline = Date.now() + 120_000;
    while (!PAUSED.test(stderr)) {
      assert.ok(Date.now() < deadline, `consume paused at its bound; stderr: ${stderr}`);
      samples.push({ lines, rss: await rssKiB(child.pid) });
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    // Paused: nothing more is written however long it waits.
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const atPause = lines;
    for (let i = 0; i < 8; i++) {
      samples.push({ lines, rss: await rssKiB(child.pid) });
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    assert.equal(lines, atPause, "no message is read past the bound");
    if (bound) assert.equal(atPause, 1 + bound, "the hello and exactly the bound's messages");
    else assert.ok(atPause > 1 && atPause < total + 1, `paused mid-topic at ${atPause}`);

    child.kill("SIGTERM");
    const status = await child.status;
    await Promise.all([stderrDone, stdoutDone]);
    assert.equal(status.code, 143, stderr);
    assert.equal(stderr.split("\n").filter((l) => PAUSED.test(l)).length, 1, stderr);
    // Nothing was acknowledged: the subscription still gets every message.
    const verify = await runEdgepipe(
      ["consume", topic, "-s", "cat", "-e", "--ack", "none", "-f", "%s\n"],
      { env },
    );
    assert.equal(verify.code, 0, verify.stderr);
    assert.equal(verify.stdout.trimEnd().split("\n").length, total, "all still there");
    if (samples.length > 0) {
      const peak = Math.max(...samples.map((s) => s.rss));
      console.log(
        `    ${total} messages, paused after ${atPause - 1}; RSS first ${samples[0].rss} KiB, ` +
          `peak ${peak} KiB, at the end ${samples.at(-1)!.rss} KiB`,
      );
    }
  },
});

Deno.test({
  name: "consume -e --max-unreported 100 | produce: the bound is backpressure, everything arrives",
  ...integration,
  async fn() {
    const source = `persistent://public/default/bounded-${id}-in`;
    const target = `persistent://public/default/bounded-${id}-out`;
    await seed(source, 3000);
    const consume = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", MAIN, "consume", source, "-s", "copy", "-e", "--max-unreported", "100"],
      env,
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const produce = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", MAIN, "produce", target],
      env,
      stdin: "piped",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const piping = consume.stdout.pipeTo(produce.stdin).catch(() => {});
    const errors = [consume, produce].map((child) => new Response(child.stderr).text());
    const codes = await Promise.all(
      [consume.status, produce.status].map(async (s) => (await s).code),
    );
    await piping;
    assert.deepEqual(codes, [0, 0], (await Promise.all(errors)).join("\n"));
    const read = await runEdgepipe(["consume", target, "-e", "-f", "%s\n"], { env });
    const ns = read.stdout.trimEnd().split("\n").map((l) => JSON.parse(l).n).sort((a, b) => a - b);
    assert.deepEqual(ns, Array.from({ length: 3000 }, (_, i) => i));
    assert.equal(await backlog(source, "copy"), 0, "every message acknowledged");
  },
});

Deno.test({
  name: "consume paused at --max-unreported stops when its terminal disconnects without reporting",
  ...integration,
  async fn() {
    const topic = `persistent://public/default/bounded-${id}-gone`;
    await seed(topic, 500);
    const { child, stderr, exited: status } = startEdgepipe(
      ["consume", topic, "-s", "gone", "-e", "--max-unreported", "50"],
      env,
    );
    // Read the hello, connect as a terminal would, read some events, then go away (as a killed
    // terminal does) without reporting anything.
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    while (!text.includes("\n")) text += (await reader.read()).value ?? "";
    const hello = JSON.parse(text.slice(0, text.indexOf("\n")));
    assert.equal(hello.$edgepipe, "hello");
    const conn = await Deno.connect({ transport: "unix", path: hello.ack });
    let lines = 0;
    while (lines < 50) {
      const { value, done } = await reader.read();
      if (done) break;
      lines += value.split("\n").length - 1;
    }
    conn.close();
    const drain = (async () => {
      while (!(await reader.read()).done) { /* what consume still writes */ }
    })();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const exited = await Promise.race([
      status,
      new Promise<"hung">((resolve) => (timer = setTimeout(() => resolve("hung"), 20_000))),
    ]);
    clearTimeout(timer);
    if (exited === "hung") child.kill("SIGKILL");
    await drain;
    const said = await stderr;
    assert.notEqual(exited, "hung", `consume kept waiting for reports that cannot come: ${said}`);
    assert.match(said, /terminal stage disconnected while reading waited/);
    // Nothing was reported, so nothing was acknowledged: the subscription still holds all 500.
    const again = await runEdgepipe(["consume", topic, "-s", "gone", "-e", "--ack", "none"], {
      env,
    });
    assert.equal(again.code, 0, again.stderr);
    const events = again.stdout.split("\n").filter((l) => l !== "").map((l) => JSON.parse(l))
      .filter((item) => item.$edgepipe === undefined);
    assert.equal(events.length, 500);
  },
});
