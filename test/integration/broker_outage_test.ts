/**
 * Terminal stages ride out a broker outage: a private broker is killed with SIGKILL in the middle
 * of `replay | produce S` and `consume S | produce T` running side by side, stays down for 25 s
 * and is started again on the same ports and data. Sends wait for it (backpressure, one stderr
 * line while waiting and one when it is back) instead of failing after a send timeout; every event
 * arrives, checked on T with the Java client, and nothing is given up. `replay | run` with a
 * Pulsar sink rides out the same outage. The relay's consume and produce say each retry on stderr
 * (the client status stream) and count it in `edgepipe_client_status_total`, scraped with
 * prometheus_client.
 */
import assert from "node:assert/strict";
import { type RunningEdgepipe, startEdgepipe } from "../harness/edgepipe.ts";
import { ensureDistribution, startBroker } from "../harness/pulsar.ts";
import { consumedContents } from "../harness/java_client.ts";
import { freePort, scrape } from "../harness/prometheus.ts";

const MAIN = new URL("../../cli/main.ts", import.meta.url).pathname;
const EVENTS = 10_000;
const OUTAGE_MS = 25_000;

/** `a | b` as two processes; b's stdout is discarded. */
function pipe(a: string[], b: string[], env: Record<string, string>) {
  const first = startEdgepipe(a, env, "null");
  const second = startEdgepipe(b, env, "piped");
  const piping = first.child.stdout.pipeTo(second.child.stdin).catch(() => {});
  void second.child.stdout.cancel();
  return { first, second, piping };
}

async function stats(adminUrl: string, topic: string) {
  const response = await fetch(`${adminUrl}/admin/v2/${topic.replace("://", "/")}/stats`);
  if (!response.ok) throw new Error(`stats ${topic}: ${response.status} ${await response.text()}`);
  return await response.json();
}

async function waitUntil(what: string, timeoutMs: number, ready: () => Promise<boolean>) {
  const deadline = Date.now() + timeoutMs;
  while (!(await ready().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** `bin/pulsar-client consume` of `count` messages from the start, killed if it takes 2 min. */
async function javaConsume(serviceUrl: string, topic: string, count: number): Promise<string> {
  const home = await ensureDistribution();
  const out = await new Deno.Command(`${home}/bin/pulsar-client`, {
    args: [
      `--url=${serviceUrl}`,
      "consume",
      topic,
      "-s",
      "verify",
      "-p",
      "Earliest",
      "-n",
      `${count}`,
    ],
    env: { PULSAR_MEM: "-Xmx256m", PULSAR_LOG_LEVEL: "warn" },
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(120_000),
  }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, text.slice(-3000));
  return text;
}

/**
 * The status lines of `command` on `topic`: a loss, retries every few seconds through the outage,
 * one success and no give-up; and the scraped counters equal the lines of each kind.
 */
function checkStatusLines(
  command: string,
  topic: string,
  stderr: string,
  scraped: Record<string, number>,
) {
  const lines = stderr.split("\n");
  const prefix = `edgepipe ${command}: `;
  const retries = lines.filter((l) => l.startsWith(`${prefix}reconnecting to ${topic} (attempt `));
  const back = lines.filter((l) => l.startsWith(`${prefix}reconnected to ${topic} after `));
  const gaveUp = lines.filter((l) => l.startsWith(`${prefix}gave up`));
  assert.match(retries[0] ?? "", /\(attempt 1, in 0 s\): /, stderr);
  assert.match(retries[1] ?? "", /\(attempt 2, in 0\.\d s\): \S/, stderr);
  // 25 s down with delays up to 5 s: many attempts, each said.
  assert.ok(retries.length >= 8, `${command}: ${retries.length} reconnecting lines\n${stderr}`);
  // Attached again at the end (a broker that moves the topic after its start may drop us once more).
  assert.ok(back.length >= 1, stderr);
  const status = lines.filter((l) => /^edgepipe \w+: (reconnecting|reconnected|gave up) /.test(l));
  assert.ok(status.at(-1)!.startsWith(`${prefix}reconnected`), stderr);
  const seconds = Number(/after (\d+(?:\.\d)?) s/.exec(back[0])![1]);
  assert.ok(seconds >= OUTAGE_MS / 1000, `${command} back after ${seconds} s`);
  assert.deepEqual(gaveUp, [], stderr);
  const count = (event: string) => scraped[`edgepipe_client_status_total{event=${event}}`];
  assert.equal(count("reconnecting"), retries.length, `${command} counted every retry`);
  assert.equal(count("reconnected"), back.length);
  assert.equal(count("gave-up"), 0);
  console.log(`    ${command}: ${retries.length} retries said and counted, then "${back.at(-1)}"`);
}

const alive = async (r: RunningEdgepipe) =>
  await Promise.race([r.exited.then(() => false), Promise.resolve(true)]);

Deno.test({
  name: "a 25 s broker outage during replay | produce and consume | produce: every event arrives",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const began = Date.now();
    const at = () => `${((Date.now() - began) / 1000).toFixed(0)} s`;
    const broker = await startBroker({ heapMiB: 512 });
    console.log(`    broker up at ${at()}`);
    const dir = await Deno.makeTempDir();
    try {
      const id = crypto.randomUUID().slice(0, 8);
      const source = `persistent://public/default/outage-${id}-s`;
      const target = `persistent://public/default/outage-${id}-t`;
      const env = { PULSAR_SERVICE_URL: broker.serviceUrl, NO_COLOR: "1" };
      const file = `${dir}/events.ndjson`;
      const lines = Array.from(
        { length: EVENTS },
        (_, n) => JSON.stringify({ n, pad: "x".repeat(64) }),
      );
      await Deno.writeTextFile(file, lines.join("\n") + "\n");

      // The relay subscribes first, so that it sees every event the replay publishes.
      const ports = { consume: freePort(), produce: freePort() };
      const relay = pipe(
        ["consume", source, "-s", "relay", "--metrics", `${ports.consume}`],
        ["produce", target, "--metrics", `${ports.produce}`],
        env,
      );
      await waitUntil(
        "the relay's subscription",
        60_000,
        async () => (await stats(broker.adminUrl, source)).subscriptions?.relay !== undefined,
      );
      const feed = pipe(["replay", file, "--rate", "400/s"], ["produce", source], env);
      // The same in one process: a pipeline file reading stdin, its sink a Pulsar topic.
      const inRun = `${source}-run`;
      const pipeline = `${dir}/to-pulsar.yaml`;
      await Deno.writeTextFile(pipeline, `source: { stdin: {} }\nsink: ${inRun}\n`);
      const runFeed = pipe(["replay", file, "--rate", "400/s"], ["run", pipeline], env);
      // Who asks for a limit gets it: this one gives up 5 s into the outage.
      const limited = pipe(
        ["replay", file, "--rate", "400/s"],
        ["produce", `${source}-limited`, "--send-timeout", "5s"],
        env,
      );

      // Kill while both pipes are mid-stream: some, not all, events in S and in T.
      let atKill = { source: 0, target: 0, run: 0 };
      await waitUntil("every pipe to be flowing", 60_000, async () => {
        atKill = {
          source: (await stats(broker.adminUrl, source)).msgInCounter,
          target: (await stats(broker.adminUrl, target)).msgInCounter,
          run: (await stats(broker.adminUrl, inRun)).msgInCounter,
        };
        // The limited produce too: one that had not connected yet would fail at its lookup.
        const limitedIn = (await stats(broker.adminUrl, `${source}-limited`)).msgInCounter;
        return atKill.target >= 500 && atKill.run > 0 && limitedIn > 0;
      });
      await broker.kill();
      assert.ok(atKill.source > 0 && atKill.source < EVENTS, `S mid-stream: ${atKill.source}`);
      assert.ok(atKill.target > 0 && atKill.target < EVENTS, `T mid-stream: ${atKill.target}`);
      assert.ok(atKill.run > 0 && atKill.run < EVENTS, `run mid-stream: ${atKill.run}`);
      console.log(
        `    ${at()}: killed the broker with ${atKill.source} events in S, ${atKill.target} in T, ` +
          `${atKill.run} from run`,
      );

      await new Promise((resolve) => setTimeout(resolve, OUTAGE_MS));
      const limitedCode = await limited.second.exited;
      const limitedErr = await limited.second.stderr;
      try {
        limited.first.child.kill("SIGTERM"); // its reader is gone: it may have stopped already
      } catch { /* already exited */ }
      await Promise.all([limited.first.exited, limited.piping]);
      assert.equal(limitedCode, 1, limitedErr);
      assert.match(limitedErr, /not acknowledged within 5000 ms/);
      assert.match(limitedErr, /giving up on a message after 5 s/);
      for (const r of [feed.first, feed.second, relay.first, relay.second, runFeed.second]) {
        assert.ok(await alive(r), "every process rode out the outage");
      }
      const restarted = Date.now();
      await broker.restart();
      console.log(`    ${at()}: broker back, its start took ${(Date.now() - restarted) / 1000} s`);

      const feedCodes = await Promise.all([feed.first.exited, feed.second.exited]);
      await feed.piping;
      const feedErr = await Promise.all([feed.first.stderr, feed.second.stderr]);
      assert.deepEqual(feedCodes, [0, 0], feedErr.join("\n"));
      const runCodes = await Promise.all([runFeed.first.exited, runFeed.second.exited]);
      await runFeed.piping;
      const runErr = await Promise.all([runFeed.first.stderr, runFeed.second.stderr]);
      assert.deepEqual(runCodes, [0, 0], runErr.join("\n"));
      console.log(`    ${at()}: replay | produce done`);

      // Everything the relay consumed reached T once its subscription has no backlog left.
      await waitUntil("the relay to drain S", 90_000, async () => {
        const s = (await stats(broker.adminUrl, source)).subscriptions.relay;
        return s.msgBacklog === 0 && s.unackedMessages === 0;
      });
      const relayStatus = {
        consume: await scrape(ports.consume, ["event"]),
        produce: await scrape(ports.produce, ["event"]),
      };
      relay.first.child.kill("SIGTERM");
      const relayCodes = await Promise.all([relay.first.exited, relay.second.exited]);
      await relay.piping;
      const relayErr = await Promise.all([relay.first.stderr, relay.second.stderr]);
      assert.deepEqual(relayCodes, [143, 0], relayErr.join("\n"));
      console.log(`    ${at()}: consume | produce done`);
      checkStatusLines("consume", source, relayErr[0], relayStatus.consume);
      checkStatusLines("produce", target, relayErr[1], relayStatus.produce);

      // Each produce said once that it waits, and once that the broker is back; no give-up.
      for (const stderr of [feedErr[1], relayErr[1], runErr[1]]) {
        const notes = stderr.trim().split("\n");
        assert.equal(notes.filter((l) => /waiting for the broker/.test(l)).length, 1, stderr);
        assert.equal(notes.filter((l) => /broker is back/.test(l)).length, 1, stderr);
        assert.doesNotMatch(stderr, /could not deliver|not acknowledged|giving up/i);
      }

      // How many messages T holds (duplicates included), by edgepipe's reader; then the Java
      // client, an independent reader, reads that many from the start and must see every event.
      const read = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", MAIN, "consume", target, "-e", "-f", "%s\n"],
        env,
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.equal(read.code, 0, new TextDecoder().decode(read.stderr));
      const total = new TextDecoder().decode(read.stdout).trimEnd().split("\n").length;
      const output = await javaConsume(broker.serviceUrl, target, total);
      // What `run` published, read back with edgepipe's reader.
      const runRead = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", MAIN, "consume", inRun, "-e", "-f", "%s\n"],
        env,
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.equal(runRead.code, 0, new TextDecoder().decode(runRead.stderr));
      const runSeen = new Set(
        new TextDecoder().decode(runRead.stdout).trimEnd().split("\n").map((l) => JSON.parse(l).n),
      );
      assert.equal(runSeen.size, EVENTS, "every event run published arrived");
      const seen = new Map<number, number>();
      for (const content of consumedContents(output)) {
        const n = JSON.parse(content).n as number;
        seen.set(n, (seen.get(n) ?? 0) + 1);
      }
      const missing = Array.from({ length: EVENTS }, (_, n) => n).filter((n) => !seen.has(n));
      const duplicates = [...seen.values()].reduce((sum, c) => sum + c - 1, 0);
      console.log(
        `    T holds ${seen.size} distinct of ${EVENTS}, ${duplicates} duplicate(s), ` +
          `${missing.length} missing`,
      );
      assert.deepEqual(missing, [], "every event arrived in T");
    } finally {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
      await broker.stop();
    }
  },
});
