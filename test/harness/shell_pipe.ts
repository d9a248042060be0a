/**
 * Starts edgepipe commands as one real shell pipeline (`bash -c 'a | b | c'`, OS pipes between
 * the processes, as a user runs it), with the pid of every stage known so that a test can signal
 * exactly one of them.
 *
 * @module
 */

const MAIN = new URL("../../cli/main.ts", import.meta.url).pathname;

/** Quotes one argument for bash. */
export function shellQuote(arg: string): string {
  return `'${arg.replaceAll("'", "'\\''")}'`;
}

/** How a finished pipeline ended. */
export interface ShellPipeExit {
  /** Exit code of each stage, in pipe order (bash's `PIPESTATUS`: 137 = killed by SIGKILL). */
  codes: number[];
  /** What each stage wrote to stderr. */
  stderr: string[];
  /** What the last stage wrote to stdout (empty when it went to `options.stdout`). */
  stdout: string;
}

/** A running pipeline. */
export interface ShellPipe {
  /** The pid of stage `i` (waits until the stage has started). */
  pid(i: number): Promise<number>;
  /** Sends `signal` to stage `i`; false when it had already exited. */
  signal(i: number, signal: Deno.Signal): Promise<boolean>;
  /** True once every stage has exited. */
  readonly finished: boolean;
  /** Settles when every stage has exited. */
  readonly done: Promise<ShellPipeExit>;
  /** SIGKILLs every stage still running and waits for the pipeline to end. */
  abort(): Promise<ShellPipeExit>;
}

/** Options for {@linkcode startShellPipe}. */
export interface ShellPipeOptions {
  /** The environment of every stage (added to the inherited one). */
  env?: Record<string, string>;
  /** Extra arguments for `deno run` before the script (default `["-A"]`). */
  permissions?: string[];
  /** A file the last stage's stdout is appended to (default: captured in `stdout`). */
  stdout?: string;
}

/**
 * Starts `edgepipe <stages[0]> | edgepipe <stages[1]> | …` under bash. The first stage reads
 * /dev/null; the last stage's stdout is captured (or appended to `options.stdout`).
 *
 * @example
 * ```ts ignore
 * const pipe = await startShellPipe([["replay", "in.ndjson"], ["filter", "true"]]);
 * const { codes, stdout } = await pipe.done;
 * ```
 */
export async function startShellPipe(
  stages: string[][],
  options: ShellPipeOptions = {},
): Promise<ShellPipe> {
  const dir = await Deno.makeTempDir({ prefix: "edgepipe-shell-pipe-" });
  const deno = [Deno.execPath(), "run", ...(options.permissions ?? ["-A"]), MAIN];
  // Each stage in its own subshell (also a pipe of one stage), which `exec` turns into the
  // edgepipe process itself: the recorded pid is the process to signal.
  const parts = stages.map((args, i) =>
    `(echo $BASHPID > ${dir}/pid${i}; exec ${
      [...deno, ...args].map(shellQuote).join(" ")
    } 2> ${dir}/err${i})`
  );
  // bash's own notices ("Killed") go to a file, not into the test's output.
  const out = options.stdout === undefined ? `> ${dir}/out` : `>> ${shellQuote(options.stdout)}`;
  const script = `exec 2> ${dir}/shell; ${parts.join(" | ")} ${out}; ` +
    `echo "\${PIPESTATUS[@]}" > ${dir}/codes`;
  const child = new Deno.Command("bash", {
    args: ["-c", script],
    env: options.env,
    stdin: "null",
    stdout: "null",
    stderr: "inherit",
  }).spawn();

  let finished = false;
  const pids = new Map<number, number>();
  const pid = async (i: number) => {
    if (i < 0 || i >= stages.length) throw new RangeError(`no stage ${i}`);
    for (let tries = 0; !pids.has(i) && tries < 400; tries++) {
      const text = await Deno.readTextFile(`${dir}/pid${i}`).catch(() => "");
      if (text.endsWith("\n")) pids.set(i, Number(text.trim()));
      else await new Promise((r) => setTimeout(r, 25));
    }
    if (!pids.has(i)) throw new Error(`stage ${i} (${stages[i][0]}) did not start`);
    return pids.get(i)!;
  };
  const done = (async () => {
    await child.status;
    finished = true;
    const read = (name: string) => Deno.readTextFile(`${dir}/${name}`).catch(() => "");
    const status = (await read("codes")).trim();
    // No status line (bash itself died): NaN, which matches no expected exit code.
    const codes = status === "" ? stages.map(() => NaN) : status.split(" ").map(Number);
    const stderr = await Promise.all(stages.map((_, i) => read(`err${i}`)));
    const stdout = await read("out");
    await Deno.remove(dir, { recursive: true });
    return { codes, stderr, stdout };
  })();
  const signal = async (i: number, sig: Deno.Signal) => {
    const target = await pid(i);
    // A stage that exited may leave its pid to an unrelated process: signal only our own.
    const cmdline = await Deno.readTextFile(`/proc/${target}/cmdline`).catch(() => "");
    if (finished || !cmdline.includes(MAIN)) return false;
    try {
      Deno.kill(target, sig);
      return true;
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return false; // it had already exited
      throw error;
    }
  };
  return {
    pid,
    signal,
    get finished() {
      return finished;
    },
    done,
    async abort() {
      for (let i = 0; i < stages.length && !finished; i++) {
        if (pids.has(i) || (await Deno.stat(`${dir}/pid${i}`).catch(() => null))) {
          await signal(i, "SIGKILL").catch(() => false);
        }
      }
      return await done;
    },
  };
}
