/**
 * Ends stdout for the next process of a pipe while this one keeps running. A source must do this
 * before waiting for the terminal stage's last acknowledgements: the terminal only finishes when
 * it reads end of input. Deno keeps its own duplicate of fd 1 and `Deno.stdout.close()` leaves the
 * pipe open, so every descriptor of the pipe is pointed at /dev/null instead (libc via FFI).
 *
 * @module
 */

const LIBC = { linux: "libc.so.6", darwin: "libc.dylib" } as Record<string, string>;

/**
 * Closes this process's end of the stdout pipe. Returns false when it cannot (stdout is not a
 * pipe, no FFI permission, no procfs); the caller then waits for its bounded timeout instead.
 *
 * @example
 * ```ts ignore
 * import { closeStdout } from "./close_stdout.ts";
 * await Deno.stdout.write(new TextEncoder().encode("last line\n"));
 * closeStdout(); // `| next-stage` now sees end of input
 * ```
 */
export function closeStdout(): boolean {
  const library = LIBC[Deno.build.os];
  if (!library) return false;
  let target: string;
  let fds: number[];
  try {
    target = Deno.readLinkSync("/proc/self/fd/1");
    if (!target.startsWith("pipe:") && !target.startsWith("socket:")) return false;
    fds = [...Deno.readDirSync("/proc/self/fd")]
      .map((entry) => Number(entry.name))
      .filter((fd) => {
        try {
          return Deno.readLinkSync(`/proc/self/fd/${fd}`) === target;
        } catch {
          return false;
        }
      });
  } catch {
    return false;
  }
  let libc;
  try {
    libc = Deno.dlopen(library, {
      open: { parameters: ["buffer", "i32"], result: "i32" },
      dup2: { parameters: ["i32", "i32"], result: "i32" },
      close: { parameters: ["i32"], result: "i32" },
    });
  } catch {
    return false;
  }
  try {
    const devNull = libc.symbols.open(new TextEncoder().encode("/dev/null\0"), 1 /* O_WRONLY */);
    if (devNull < 0) return false;
    for (const fd of fds) libc.symbols.dup2(devNull, fd);
    libc.symbols.close(devNull);
    return true;
  } finally {
    libc.close();
  }
}

/**
 * True when stdout leads to another process (a pipe or a socket), where a terminal stage may
 * report acknowledgements; false for a terminal or a file, which can never report.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { stdoutIsPipe } from "./close_stdout.ts";
 * assert.equal(typeof stdoutIsPipe(), "boolean");
 * ```
 */
export function stdoutIsPipe(): boolean {
  if (Deno.stdout.isTerminal()) return false;
  try {
    const target = Deno.readLinkSync("/proc/self/fd/1");
    return target.startsWith("pipe:") || target.startsWith("socket:");
  } catch {
    return true; // no procfs: assume the common case of a pipeline
  }
}
