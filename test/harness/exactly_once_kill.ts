/**
 * The exactly-once kill test of `consume --guarantee exactly-once | filter | produce` on the real
 * broker: seeds the input topic (batched, so that transactions meet batch entries), kills a
 * process of the pipe with {@linkcode killPipe} (each kill checked to land mid-stream, the pipe
 * started again after each), and accounts for every expected result in the output topic: counted
 * by edgepipe's reader, and read back by the Java client. Used by the suite (20,000 events, 5
 * kills) and by `bench/exactly_once_kill.ts` (100,000 events, 20 kills).
 *
 * @module
 */
import { runEdgepipe } from "./edgepipe.ts";
import { eachProcessFirst, killPipe, type KillPipeResult } from "./kill_pipe.ts";
import { javaReadPayloads, readPayloads, type Tally, tally } from "./output_audit.ts";
import { pulsarUrls } from "./pulsar.ts";
import { PulsarClient } from "../../lib/pulsar/mod.ts";
import { backlogOf, publishedCount } from "./topic_stats.ts";

/** What to run. */
export interface ExactlyOnceKillOptions {
  /** Input events (numbered 0…events-1). */
  events: number;
  /** Mid-stream kills. */
  kills: number;
  /** Transaction interval and timeout of the source (defaults 200ms, 5s). */
  txnInterval?: string;
  txnTimeout?: string;
  /** Extra rounds for kills that did not land mid-stream (default `kills`). */
  spareRounds?: number;
  /** Longest one run may take (default 120 s). */
  runTimeoutMs?: number;
}

/** What the run produced, for the caller's assertions. */
export interface ExactlyOnceKillReport {
  kill: KillPipeResult;
  /** The numbers of the events the filter keeps (every result must be there once). */
  expected: number[];
  /** What edgepipe's reader of the output topic saw (every committed message). */
  visible: Tally<number>;
  /** Messages edgepipe's reader saw in the output topic. */
  visibleCount: number;
  /** The first `expected.length` output messages as the Java client read them. */
  java: Tally<number>;
  /** The source subscription's backlog after the last run. */
  backlog: number | undefined;
  /** Messages the broker stored in the output topic, aborted ones included. */
  stored: number;
}

const SUBSCRIPTION = "eo";

/** Runs the whole test; the caller asserts on the report. */
export async function exactlyOnceKill(
  options: ExactlyOnceKillOptions,
): Promise<ExactlyOnceKillReport> {
  const { serviceUrl, adminUrl } = await pulsarUrls();
  const env = { PULSAR_SERVICE_URL: serviceUrl, NO_COLOR: "1" };
  const id = crypto.randomUUID().slice(0, 8);
  const source = `persistent://public/default/eo-kill-in-${id}`;
  const target = `persistent://public/default/eo-kill-out-${id}`;
  const values = Array.from({ length: options.events }, (_, n) => ({ n, k: `k${n % 31}` }));
  // The filter keeps two events in three; the rest are acknowledged in-band.
  const expected = values.filter(({ n }) => n % 3 !== 0).map(({ n }) => n);
  // The subscription exists before the input, so that its backlog counts every input entry.
  const client = new PulsarClient({ serviceUrl });
  try {
    await (await client.subscribe({ topic: source, subscription: SUBSCRIPTION })).close();
  } finally {
    await client.close();
  }
  const seeded = await runEdgepipe(
    ["produce", source, "--input", "json", "--key-field", "k", "--batch-max-messages", "20"],
    { env, stdin: values.map((v) => JSON.stringify(v)).join("\n") + "\n" },
  );
  if (seeded.code !== 0) throw new Error(`seeding ${source} failed: ${seeded.stderr}`);
  const entries = (await backlogOf(adminUrl, source, SUBSCRIPTION))!;
  const perEntry = options.events / entries;

  const numbers = (payloads: string[]) => payloads.map((p) => (JSON.parse(p) as { n: number }).n);
  const kill = await killPipe({
    stages: [
      [
        "consume",
        source,
        "-s",
        SUBSCRIPTION,
        "-e",
        "--ack-timeout",
        "10s",
        "--guarantee",
        "exactly-once",
        "--txn-interval",
        options.txnInterval ?? "200ms",
        "--txn-timeout",
        options.txnTimeout ?? "5s",
      ],
      ["filter", "int(event.value.n) % 3 != 0"],
      // Small windows: the flow lasts long enough to be cut many times.
      [
        "produce",
        target,
        "--guarantee",
        "exactly-once",
        "--max-in-flight",
        "100",
        "--batch-max-messages",
        "10",
      ],
    ],
    env,
    // Each process until it has had a mid-stream kill, then at random.
    victim: eachProcessFirst(3),
    kills: options.kills,
    spareRounds: options.spareRounds ?? options.kills,
    // Input acknowledged for good, in (estimated) messages: it grows only when a transaction
    // commits, so a kill after some progress falls after a commit, i.e. mid-stream.
    progress: async () =>
      Math.round(
        (entries - ((await backlogOf(adminUrl, source, SUBSCRIPTION)) ?? entries)) *
          perEntry,
      ),
    // edgepipe's reader (-e) of a topic written in transactions can stop short of the newest
    // commit: read again until two reads agree.
    accounted: async () => {
      let count = tally(expected, numbers(await readPayloads(target, env))).distinct;
      for (let tries = 0; tries < 4; tries++) {
        await new Promise((r) => setTimeout(r, 500));
        const again = tally(expected, numbers(await readPayloads(target, env))).distinct;
        if (again === count) break;
        count = Math.max(count, again);
      }
      return count;
    },
    total: expected.length,
    runTimeoutMs: options.runTimeoutMs ?? 120_000,
  });

  // A stage that failed by itself (not the one killed, not one that saw its upstream die) says
  // why on stderr: show it.
  for (const round of kill.rounds) {
    round.codes.forEach((code, i) => {
      if (
        code !== 0 && code !== 137 &&
        !(code === 1 && i > round.victim && round.codes[round.victim] === 137)
      ) {
        console.log(`    round ${round.round}, ${round.stage} killed; stage ${i} exited ${code}:`);
        console.log(`      ${round.stderr[i].slice(-800).replaceAll("\n", "\n      ")}`);
      }
    });
  }
  let backlog = await backlogOf(adminUrl, source, SUBSCRIPTION);
  for (let tries = 0; backlog !== 0 && tries < 20; tries++) {
    await new Promise((r) => setTimeout(r, 250));
    backlog = await backlogOf(adminUrl, source, SUBSCRIPTION);
  }
  // A commit's messages can reach readers a moment after the commit returned: read until the
  // count stops changing (or everything is there).
  let seen = numbers(await readPayloads(target, env));
  for (let tries = 0; tries < 10 && seen.length < expected.length; tries++) {
    await new Promise((r) => setTimeout(r, 1000));
    const again = numbers(await readPayloads(target, env));
    const stable = again.length === seen.length;
    seen = again;
    if (stable && tries >= 2) break;
  }
  const visible = tally(expected, seen);
  const java = tally(
    expected,
    numbers(await javaReadPayloads(serviceUrl, target, expected.length)),
  );
  const stored = await publishedCount(adminUrl, target);
  console.log(
    `    ${options.events} events in, ${expected.length} expected out; ${stored} stored ` +
      `(aborted included), ${seen.length} visible: ${visible.distinct} distinct, ` +
      `${visible.duplicates} duplicates, ${visible.missing.length} missing; Java read ` +
      `${java.distinct} distinct, ${java.duplicates} duplicates; source backlog ${backlog}`,
  );
  return { kill, expected, visible, visibleCount: seen.length, java, backlog, stored };
}
