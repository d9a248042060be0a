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

/** Parses a duration like `500ms`, `5s`, `5m`, `1h`, `2d` or plain milliseconds. */
export function parseDuration(text: string, flag: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(text.trim());
  if (!match) throw new UsageError(`${flag}: '${text}' is not a duration (e.g. 500ms, 5s, 5m, 1h)`);
  const scale = { ms: 1, s: 1e3, m: 60e3, h: 3600e3, d: 86400e3 }[match[2] ?? "ms"]!;
  return Math.round(Number(match[1]) * scale);
}

/** Parses a positive integer flag. */
export function parsePositiveInt(text: string, flag: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0) {
    throw new UsageError(`${flag}: expected a positive integer, got '${text}'`);
  }
  return n;
}
