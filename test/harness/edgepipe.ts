/**
 * Runs `edgepipe` as a user would, as a real process with real pipes, for command-level tests.
 *
 * @module
 */

const MAIN = new URL("../../cli/main.ts", import.meta.url).pathname;

/** What a finished `edgepipe` process left behind. */
export interface EdgepipeRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** How to start it. */
export interface EdgepipeOptions {
  /** Fed to stdin and then closed; without it stdin is /dev/null. */
  stdin?: string | AsyncIterable<string>;
  /** Added to the inherited environment. */
  env?: Record<string, string>;
  /** Deno permission flags (default `-A`). */
  permissions?: string[];
  cwd?: string;
}

/** Runs `edgepipe <args>` to completion. A child that exits before reading all stdin is fine. */
export async function runEdgepipe(
  args: string[],
  options: EdgepipeOptions = {},
): Promise<EdgepipeRun> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", ...(options.permissions ?? ["-A"]), MAIN, ...args],
    cwd: options.cwd,
    env: options.env,
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let feeding = Promise.resolve();
  if (options.stdin !== undefined) {
    const input = options.stdin;
    const encoder = new TextEncoder();
    const chunks = typeof input === "string" ? [input] : input;
    feeding = ReadableStream.from(chunks)
      .pipeThrough(
        new TransformStream<string, Uint8Array>({
          transform: (text, controller) => controller.enqueue(encoder.encode(text)),
        }),
      )
      .pipeTo(child.stdin)
      .catch(() => {}); // the child stopped reading: its exit code and stderr tell why
  }
  const [out] = await Promise.all([child.output(), feeding]);
  const decoder = new TextDecoder();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}

/** A started `edgepipe` process; stderr is collected so that it can never block the child. */
export interface RunningEdgepipe {
  child: Deno.ChildProcess;
  /** Everything the process writes to stderr, once it closes it. */
  stderr: Promise<string>;
  /** The exit code. */
  exited: Promise<number>;
}

/** Starts `edgepipe <args>` with stdout piped, for tests that read it, signal it or kill it. */
export function startEdgepipe(
  args: string[],
  env: Record<string, string> = {},
  stdin: "piped" | "null" = "null",
): RunningEdgepipe {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args],
    env,
    stdin,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  return {
    child,
    stderr: new Response(child.stderr).text(),
    exited: child.status.then((status) => status.code),
  };
}
