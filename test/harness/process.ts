/**
 * Small process helpers for the test harnesses: run a command, wait with a bound, find a free
 * port, read the end of a log.
 *
 * @module
 */

/** The cache for downloaded servers, outside the repository. */
export function cacheDir(): string {
  return Deno.env.get("EDGEPIPE_CACHE") ??
    `${Deno.env.get("XDG_CACHE_HOME") ?? `${Deno.env.get("HOME") ?? "/tmp"}/.cache`}/edgepipe`;
}

/** Runs a command to completion, capturing stdout and stderr together. */
export async function run(
  command: string,
  args: string[],
  options: { cwd?: string; env?: Record<string, string> } = {},
): Promise<{ ok: boolean; code: number; output: string }> {
  const result = await new Deno.Command(command, {
    args,
    cwd: options.cwd,
    env: options.env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return {
    ok: result.success,
    code: result.code,
    output: decoder.decode(result.stdout) + decoder.decode(result.stderr),
  };
}

const handedOut = new Set<number>();

/**
 * A loopback TCP port that is free now, picked below the kernel's ephemeral range (32768 and up
 * on Linux). A port the kernel hands out for `port: 0` comes from the range that outbound
 * connections also draw from, so between closing the probe and the server binding it a client
 * socket can take it (a broker once failed to start that way: "Address already in use"). Ports
 * are never handed out twice in one process.
 */
export function freePortSync(): number {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = 10_000 + Math.floor(Math.random() * 22_000);
    if (handedOut.has(port)) continue;
    try {
      Deno.listen({ hostname: "127.0.0.1", port }).close();
    } catch {
      continue;
    }
    handedOut.add(port);
    return port;
  }
  throw new Error("no free loopback port below 32000 after 200 tries");
}

/** {@linkcode freePortSync}, as a promise. */
export function freePort(): Promise<number> {
  return Promise.resolve(freePortSync());
}

/** Polls `ready` every 500 ms until it returns true; throws `onTimeout()` after `timeoutMs`. */
export async function waitFor(
  ready: () => Promise<boolean>,
  timeoutMs: number,
  onTimeout: () => Promise<Error>,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await ready()) return;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw await onTimeout();
}

/** The last `lines` lines of a log file, for error messages. */
export async function logTail(path: string, lines = 25): Promise<string> {
  try {
    return (await Deno.readTextFile(path)).trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return `(no log at ${path})`;
  }
}
