/**
 * Processes for the command-level benchmarks: an edgepipe command (or any program) timed from
 * spawn to its first and last output line, fed a file on stdin, with its CPU and peak RSS taken
 * from GNU time; and `bin/pulsar-perf` timed from its own log.
 *
 * @module
 */

/** The edgepipe entry point, for `deno run -A MAIN …`. */
export const MAIN = new URL("../cli/main.ts", import.meta.url).pathname;
/** The Deno executable running this benchmark. */
export const DENO = Deno.execPath();
/** `bin/pulsar-perf` of the Java distribution the test harness caches. */
export const PULSAR_PERF = `${
  Deno.env.get("PULSAR_HOME") ?? `${Deno.env.get("HOME")}/.cache/edgepipe/apache-pulsar-4.0.8`
}/bin/pulsar-perf`;

/** `deno run -A cli/main.ts <args>`. */
export function edgepipe(...args: string[]): string[] {
  return [DENO, "run", "-A", "--no-check", MAIN, ...args];
}

/**
 * Another checkout's entry point (env `EDGEPIPE_BEFORE`, a directory), for before/after rows in
 * the same run; undefined when not set.
 */
export const BEFORE_MAIN: string | undefined = Deno.env.get("EDGEPIPE_BEFORE")
  ? `${Deno.env.get("EDGEPIPE_BEFORE")}/cli/main.ts`
  : undefined;

/** What one timed run saw; times are ms since spawn. */
export interface Timed {
  /** First byte on stdout (NaN when nothing came). */
  firstMs: number;
  /** Last byte on stdout. */
  lastMs: number;
  /** Process exit. */
  exitMs: number;
  /** Newline-terminated lines on stdout. */
  lines: number;
  /** User + system CPU seconds, from GNU time. */
  cpuSeconds: number;
  /** Peak resident set in MiB, from GNU time. */
  rssMiB: number;
  /** When the feeder had handed over its first chunk (see `feed`), else NaN. */
  fedMs: number;
  /** Lines in that first chunk. */
  fedLines: number;
}

/** Options of {@linkcode timed}. */
export interface TimedOptions {
  /** A file for stdin, opened by the shell (`< file`). */
  stdinFile?: string;
  /**
   * A file written to stdin by this process in 1 MiB chunks: `fedMs` is when the first chunk
   * was taken, so `exitMs - fedMs` times the command from its first read to its end.
   */
  feed?: string;
  /** Keep stdout lines (for checks); otherwise they are only counted. */
  keep?: boolean;
  env?: Record<string, string>;
}

const quote = (s: string) => `'${s.replaceAll("'", `'"'"'`)}'`;

/** Runs `cmd` under GNU time, counting its stdout lines as they come; throws when it fails. */
export async function timed(
  cmd: string[],
  options: TimedOptions = {},
): Promise<Timed & { output?: string }> {
  const timeFile = await Deno.makeTempFile({ prefix: "edgepipe-bench-time-" });
  const redirect = options.stdinFile ? ` < ${quote(options.stdinFile)}` : "";
  const script = `exec /usr/bin/time -f '%U %S %M' -o ${quote(timeFile)} ${
    cmd.map(quote).join(" ")
  }${redirect}`;
  const started = performance.now();
  const child = new Deno.Command("sh", {
    args: ["-c", script],
    stdin: options.feed ? "piped" : "null",
    stdout: "piped",
    stderr: "piped",
    env: options.env,
  }).spawn();
  let fedMs = NaN;
  let fedLines = 0;
  let feedError: unknown;
  const feeding = options.feed
    ? (async () => {
      const writer = child.stdin.getWriter();
      const file = await Deno.open(options.feed!);
      const chunk = new Uint8Array(1 << 20);
      try {
        for (let first = true;; first = false) {
          const n = await file.read(chunk);
          if (n === null) break;
          await writer.write(chunk.slice(0, n));
          if (first) {
            fedMs = performance.now() - started;
            for (let i = 0; i < n; i++) if (chunk[i] === 10) fedLines++;
          }
        }
      } finally {
        file.close();
        await writer.close().catch(() => {});
      }
    })().catch((error) => {
      // The command stopped reading (it failed, or exited early): its exit status says why.
      feedError = error;
    })
    : Promise.resolve();
  const stderr = new Response(child.stderr).text();
  let firstMs = NaN;
  let lastMs = NaN;
  let lines = 0;
  const kept: Uint8Array[] = [];
  for await (const chunk of child.stdout) {
    const now = performance.now() - started;
    if (Number.isNaN(firstMs)) firstMs = now;
    lastMs = now;
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines++;
    if (options.keep) kept.push(chunk);
  }
  const status = await child.status;
  const exitMs = performance.now() - started;
  await feeding;
  const errors = await stderr;
  const times = (await Deno.readTextFile(timeFile)).trim().split("\n").at(-1)!.split(" ");
  await Deno.remove(timeFile);
  if (!status.success) {
    throw new Error(`${cmd.join(" ")} failed (exit ${status.code}):\n${errors.slice(-2000)}`);
  }
  if (feedError !== undefined) {
    throw new Error(
      `${cmd.join(" ")} stopped reading its input: ${feedError}\n${errors.slice(-2000)}`,
    );
  }
  const [user, sys, maxKiB] = times.map(Number);
  return {
    firstMs,
    lastMs,
    exitMs,
    lines,
    cpuSeconds: user + sys,
    rssMiB: maxKiB / 1024,
    fedMs,
    fedLines,
    ...(options.keep ? { output: new TextDecoder().decode(concat(kept)) } : {}),
  };
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/** `HH:MM:SS,mmm` of a pulsar-perf log line as ms of the day. */
function logTime(line: string): number {
  const m = /T(\d\d):(\d\d):(\d\d),(\d\d\d)/.exec(line);
  if (!m) return NaN;
  return ((Number(m[1]) * 60 + Number(m[2])) * 60 + Number(m[3])) * 1000 + Number(m[4]);
}

/**
 * Runs `pulsar-perf <mode> …` for exactly `messages` messages and returns its real rate: the
 * messages divided by the time between its own log lines for "producers created" / "start
 * receiving" and "DONE" (its summary line divides by the time since the JVM started instead).
 */
export async function pulsarPerf(
  mode: "produce" | "consume",
  serviceUrl: string,
  messages: number,
  args: string[],
): Promise<{ rate: number; seconds: number }> {
  const out = await new Deno.Command(PULSAR_PERF, {
    args: [mode, "--service-url", serviceUrl, "-m", String(messages), ...args],
    env: { PULSAR_MEM: "-Xms512m -Xmx512m", PULSAR_LOG_LEVEL: "info" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const log = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  const lines = log.split("\n");
  const startMarker = mode === "produce" ? /Created \d+ producers/ : /Start receiving from/;
  const start = lines.find((l) => startMarker.test(l));
  const done = lines.find((l) => /-+ DONE/.test(l));
  if (!start || !done) {
    throw new Error(`pulsar-perf ${mode} did not finish:\n${log.slice(-3000)}`);
  }
  let ms = logTime(done) - logTime(start);
  if (ms < 0) ms += 86_400_000;
  return { rate: messages / (ms / 1000), seconds: ms / 1000 };
}

/** Shell pipes started side by side, each in its own process group (setsid). */
export interface PipeGroup {
  /** SIGTERM to every group, then waits for each pipe to end. */
  stop(): Promise<void>;
}

/** Starts each of `pipes` under `bash -c` (pipefail) in its own process group, output discarded. */
export function startPipeGroups(pipes: string[]): PipeGroup {
  const children = pipes.map((pipe) =>
    new Deno.Command("setsid", {
      args: ["bash", "-c", `set -o pipefail\n${pipe}`],
      stdout: "null",
      stderr: "null",
    }).spawn()
  );
  return {
    async stop() {
      for (const child of children) {
        try {
          Deno.kill(-child.pid, "SIGTERM");
        } catch { /* already gone */ }
      }
      await Promise.all(children.map((c) => c.status));
    },
  };
}
