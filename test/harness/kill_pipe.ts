/**
 * The kill test for any edgepipe shell pipe: start the pipe, `kill -9` one of its processes at a
 * random moment while events flow, check that the kill fell mid-stream, start the whole pipe
 * again (same arguments, so `consume` resumes its subscription), and repeat; then one last run
 * without a kill that drains the rest. The test then reads the output and counts duplicates and
 * missing events separately.
 *
 * A round waits until the test's `progress` count (cheap, polled: e.g. the output topic's
 * `msgInCounter`) has grown by a random step, then kills the victim. After the pipe has ended the
 * test's `accounted` count (distinct expected output records so far) is read. The kill landed
 * mid-stream when the victim was still running (exit 137), output had grown in the round before
 * the kill, and `accounted` grew in the round but stayed below `total`: some but not all events
 * had passed the victim when it died (duplicates never make `accounted` grow, and whatever the
 * victim had passed on before dying is included once the pipe has ended).
 *
 * The random steps are drawn so that every requested kill fits before the input runs out; a round
 * whose kill did not land mid-stream (the pipe ended first) is repeated, up to `spareRounds` times.
 * A checkpointed stage re-emits, after each restart, what it emitted since its last checkpoint:
 * those duplicates move `progress` but not `accounted`. A round killed before it got past them
 * (nothing new accounted) raises the least step of the rounds after it to twice what that round
 * published, so that retries soon wait for output beyond the re-emitted tail; a mid-stream kill
 * brings it back to the duplicates that round saw ({@linkcode nextMinStep}).
 * `KILL_SEED=<n>` in the environment replays a run's moments and victims.
 *
 * @example
 * ```ts ignore
 * const result = await killPipe({
 *   stages: [
 *     ["consume", source, "-s", "sub", "-e"],
 *     ["filter", "event.value.ok"],
 *     ["produce", target],
 *   ],
 *   env,
 *   victim: 1, // filter; or (round, random) => Math.floor(random() * 3)
 *   kills: 3,
 *   progress: () => publishedCount(adminUrl, target),
 *   accounted: async () => tally(expected, (await readPayloads(target, env)).map(idOf)).distinct,
 *   total: expected.length,
 * });
 * assert.equal(result.midStreamKills, 3);
 * assert.deepEqual(result.last.codes, [0, 0, 0]);
 * ```
 *
 * @module
 */
import { type ShellPipe, type ShellPipeExit, startShellPipe } from "./shell_pipe.ts";

/** What {@linkcode killPipe} runs and how. */
export interface KillPipeOptions {
  /** The edgepipe arguments of each process, in pipe order; every round starts this same pipe. */
  stages: string[][];
  /** The environment of every process (added to the inherited one). */
  env?: Record<string, string>;
  /** A file every run appends the last stage's stdout to (default: the last run's is in `last`). */
  stdout?: string;
  /** How many kills must land mid-stream. */
  kills: number;
  /** The stage to kill: its index, or chosen per round (e.g. at random, or round-robin). */
  victim:
    | number
    | ((round: number, random: () => number, earlier: readonly KillRound[]) => number);
  /** A cheap count of output records that only grows (duplicates included); polled. */
  progress: () => Promise<number>;
  /** Distinct expected output records present so far, in the units of `progress`. */
  accounted: () => Promise<number>;
  /** What `accounted` reaches once everything has been delivered. */
  total: number;
  /** Seed of the moments and victims (default `KILL_SEED` from the environment, else the clock). */
  seed?: number;
  /** Fewest new output records a round waits for before its kill (default 1). */
  minStep?: number;
  /** Extra rounds for kills that did not land mid-stream (default twice `kills`). */
  spareRounds?: number;
  /**
   * Ends the last run: once it returns true, stage 0 gets SIGTERM. Without it the last run must
   * end by itself (`consume -e`).
   */
  drained?: () => Promise<boolean>;
  /** Longest one run may take before it is aborted and the helper throws (default 60 s). */
  runTimeoutMs?: number;
  /** How often `progress` is polled before a kill (default 20 ms). */
  pollMs?: number;
  /** Where the per-round lines go (default: indented on stdout). */
  log?: (line: string) => void;
}

/** One killed run. */
export interface KillRound {
  round: number;
  /** The index and the command of the stage killed. */
  victim: number;
  stage: string;
  /** The random number of new output records the kill waited for. */
  step: number;
  progressAtStart: number;
  /** `progress` just before the kill; undefined when the pipe ended first. */
  progressAtKill?: number;
  /** `progress` once the pipe had ended. */
  progressAtEnd: number;
  accountedBefore: number;
  accountedAfter: number;
  /** Exit codes of the stages (137 for the one killed). */
  codes: number[];
  /** The end of what each stage wrote to stderr. */
  stderr: string[];
  /** The kill fell mid-stream, as defined in the module documentation. */
  midStream: boolean;
  /** How long the run took, from start to the end of its last process. */
  ms: number;
}

/** What {@linkcode killPipe} did. */
export interface KillPipeResult {
  seed: number;
  rounds: KillRound[];
  /** Rounds whose kill landed mid-stream. */
  midStreamKills: number;
  /** The last run, without a kill. */
  last: ShellPipeExit;
}

/**
 * A victim rule: the first of `stages` processes that no earlier round killed mid-stream, then
 * any of them at random. A kill that missed (the pipe ended first, or it fell in a re-emitted
 * tail) is tried again on the same process, so every process gets its mid-stream kill however the
 * rounds go.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { eachProcessFirst } from "./kill_pipe.ts";
 * const victim = eachProcessFirst(3);
 * assert.equal(victim(0, () => 0.9, []), 0);
 * assert.equal(victim(1, () => 0.9, [{ victim: 0, midStream: false }]), 0);
 * assert.equal(victim(2, () => 0.9, [{ victim: 0, midStream: true }]), 1);
 * const all = [0, 1, 2].map((victim) => ({ victim, midStream: true }));
 * assert.equal(victim(3, () => 0.9, all), 2);
 * ```
 */
export function eachProcessFirst(
  stages: number,
): (
  round: number,
  random: () => number,
  earlier: readonly Pick<KillRound, "victim" | "midStream">[],
) => number {
  return (_round, random, earlier) => {
    const killed = new Set(earlier.filter((r) => r.midStream).map((r) => r.victim));
    for (let stage = 0; stage < stages; stage++) if (!killed.has(stage)) return stage;
    return Math.floor(random() * stages);
  };
}

/** A seeded Park–Miller generator of numbers in [0, 1). */
export function seededRandom(seed: number): () => number {
  let state = (Math.floor(Math.abs(seed)) % 2147483646) + 1;
  return () => (state = (state * 16807) % 2147483647) / 2147483647;
}

/** Runs the kill rounds and the last run; see the module documentation. */
export async function killPipe(options: KillPipeOptions): Promise<KillPipeResult> {
  const seed = options.seed ?? Number(Deno.env.get("KILL_SEED") ?? Date.now() % 100_000);
  const log = options.log ?? ((line: string) => console.log(`    ${line}`));
  log(`KILL_SEED=${seed}`);
  const random = seededRandom(seed);
  let minStep = Math.max(1, options.minStep ?? 1);
  const maxRounds = options.kills + (options.spareRounds ?? 2 * options.kills);
  const rounds: KillRound[] = [];
  let midStreamKills = 0;
  let accounted = await options.accounted();
  while (midStreamKills < options.kills && rounds.length < maxRounds && accounted < options.total) {
    const round = rounds.length;
    const victim = typeof options.victim === "number"
      ? options.victim
      : options.victim(round, random, rounds);
    // Leave room for the kills still to come (and for what flows after each kill).
    const room = Math.floor((options.total - accounted) / (options.kills - midStreamKills + 1));
    const step = minStep + Math.floor(random() * Math.max(0, room - minStep + 1));
    const result = await killedRun(options, round, victim, step, accounted);
    rounds.push(result);
    accounted = result.accountedAfter;
    if (result.midStream) midStreamKills++;
    minStep = nextMinStep(minStep, Math.max(1, options.minStep ?? 1), result);
    log(describe(result, options));
  }
  const started = Date.now();
  const last = await lastRun(options);
  log(`last run: exit codes ${last.codes.join(",")} in ${Date.now() - started} ms`);
  return { seed, rounds, midStreamKills, last };
}

/**
 * The least step of the next round. A round killed while the pipe was still re-emitting (nothing
 * new accounted) means the next restart re-emits at least as much again: twice what it
 * published. After a mid-stream kill the next tail is about as long as the duplicates this round
 * published (what it published beyond what it accounted): the least step comes back down to
 * that, so that one long tail early on does not push every later kill past the end of the input.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { nextMinStep } from "./kill_pipe.ts";
 * const round = { progressAtStart: 0, progressAtEnd: 700, accountedBefore: 0, accountedAfter: 0 };
 * assert.equal(nextMinStep(1, 1, { ...round, midStream: false, progressAtKill: 690 }), 1401);
 * const mid = { ...round, midStream: true, progressAtKill: 600, accountedAfter: 650 };
 * assert.equal(nextMinStep(1401, 1, mid), 51);
 * ```
 */
export function nextMinStep(
  minStep: number,
  base: number,
  round: Pick<
    KillRound,
    | "midStream"
    | "progressAtKill"
    | "progressAtStart"
    | "progressAtEnd"
    | "accountedBefore"
    | "accountedAfter"
  >,
): number {
  const published = round.progressAtEnd - round.progressAtStart;
  if (round.midStream) {
    const duplicates = Math.max(0, published - (round.accountedAfter - round.accountedBefore));
    return Math.max(base, duplicates + 1);
  }
  if (round.progressAtKill !== undefined && round.accountedAfter === round.accountedBefore) {
    return Math.max(minStep, 2 * published + 1);
  }
  return minStep;
}

async function killedRun(
  options: KillPipeOptions,
  round: number,
  victim: number,
  step: number,
  accountedBefore: number,
): Promise<KillRound> {
  if (!Number.isInteger(victim) || victim < 0 || victim >= options.stages.length) {
    throw new RangeError(`victim ${victim} is not a stage of the pipe`);
  }
  const progressAtStart = await options.progress();
  const started = Date.now();
  const pipe = await startShellPipe(options.stages, { env: options.env, stdout: options.stdout });
  let progressAtKill: number | undefined;
  let killed = false;
  try {
    const deadline = Date.now() + (options.runTimeoutMs ?? 60_000);
    while (!pipe.finished) {
      const now = await options.progress();
      if (now >= progressAtStart + step) {
        progressAtKill = now;
        killed = await pipe.signal(victim, "SIGKILL");
        break;
      }
      if (Date.now() > deadline) throw await timedOut(pipe, options, `round ${round}`);
      await new Promise((r) => setTimeout(r, options.pollMs ?? 20));
    }
    const { codes, stderr } = await within(pipe, options, `round ${round}`);
    const ms = Date.now() - started;
    const progressAtEnd = await options.progress();
    const accountedAfter = await options.accounted();
    const midStream = killed && codes[victim] === 137 && progressAtKill! > progressAtStart &&
      accountedBefore < accountedAfter && accountedAfter < options.total;
    return {
      round,
      victim,
      stage: options.stages[victim][0],
      step,
      progressAtStart,
      progressAtKill: killed ? progressAtKill : undefined,
      progressAtEnd,
      accountedBefore,
      accountedAfter,
      codes,
      stderr: stderr.map((text) => text.slice(-2000)),
      midStream,
      ms,
    };
  } finally {
    if (!pipe.finished) await pipe.abort();
  }
}

async function lastRun(options: KillPipeOptions): Promise<ShellPipeExit> {
  const pipe = await startShellPipe(options.stages, { env: options.env, stdout: options.stdout });
  try {
    if (options.drained) {
      const deadline = Date.now() + (options.runTimeoutMs ?? 60_000);
      while (!pipe.finished) {
        if (await options.drained()) {
          await pipe.signal(0, "SIGTERM");
          break;
        }
        if (Date.now() > deadline) throw await timedOut(pipe, options, "the last run");
        await new Promise((r) => setTimeout(r, 250));
      }
    }
    return await within(pipe, options, "the last run");
  } finally {
    if (!pipe.finished) await pipe.abort();
  }
}

/** Waits for the pipe to end within the run timeout. */
async function within(pipe: ShellPipe, options: KillPipeOptions, what: string) {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), options.runTimeoutMs ?? 60_000);
  });
  try {
    const ended = await Promise.race([pipe.done, timeout]);
    if (ended === "timeout") throw await timedOut(pipe, options, what);
    return ended;
  } finally {
    clearTimeout(timer);
  }
}

async function timedOut(pipe: ShellPipe, options: KillPipeOptions, what: string) {
  const { codes, stderr } = await pipe.abort();
  const logs = stderr.map((text, i) => `--- ${options.stages[i][0]}:\n${text.slice(-1500)}`);
  return new Error(
    `${what} did not end within ${options.runTimeoutMs ?? 60_000} ms (aborted, exit codes ${
      codes.join(",")
    })\n${logs.join("\n")}`,
  );
}

function describe(round: KillRound, options: KillPipeOptions): string {
  const what = `round ${round.round}: kill -9 ${round.stage} (stage ${round.victim})`;
  const moment = round.progressAtKill === undefined
    ? `the pipe ended before ${round.step} new outputs`
    : `after ${round.progressAtKill - round.progressAtStart} new outputs (step ${round.step})`;
  return `${what} ${moment}; accounted ${round.accountedBefore} -> ${round.accountedAfter} of ${options.total}; exit codes ${
    round.codes.join(",")
  } in ${round.ms} ms; ${round.midStream ? "mid-stream" : "NOT mid-stream"}`;
}
