/**
 * What every command file exports, and the small helpers they share for flags and exit codes.
 *
 * @module
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { UsageError } from "../lib/errors.ts";

/** Documented exit codes (see `docs/cli.md`). */
export const EXIT = {
  ok: 0,
  /** A runtime failure: broker error, undeliverable message, bad data with `--on-error fail`. */
  failure: 1,
  /** A usage mistake: unknown flag, missing argument. */
  usage: 2,
  /** Stopped by SIGINT after draining. */
  interrupted: 130,
} as const;

/** One `edgepipe` subcommand. */
export interface Command {
  name: string;
  /** One line for `edgepipe --help`. */
  summary: string;
  /** Full `--help` text with examples. */
  help: string;
  run(args: string[]): Promise<number>;
}

/** `node:util` parseArgs with usage errors that name the command. */
export function parseFlags<T extends NonNullable<ParseArgsConfig["options"]>>(
  command: string,
  args: string[],
  options: T,
  allowPositionals = true,
) {
  try {
    return parseArgs({ args, options, allowPositionals, strict: true });
  } catch (cause) {
    throw new UsageError(`${command}: ${(cause as Error).message}`, { cause });
  }
}

// The unit parsers live in lib/units.ts (shared with pipeline files and the library); commands
// import them from here or from there alike.
export { parseDuration, parsePositiveInt } from "../lib/units.ts";
