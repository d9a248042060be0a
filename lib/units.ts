/**
 * The unit parsers every command and pipeline file shares: durations (`500ms`, `5s`, `1h`), sizes
 * (`16MiB`), rates (`500/s`) and positive counts. Each throws {@linkcode UsageError} naming the
 * flag or field, so a command can print one line and exit 2.
 *
 * @module
 */
import { UsageError } from "./errors.ts";

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1e3, m: 60e3, h: 3600e3, d: 86400e3 };

/**
 * Parses a duration like `500ms`, `5s`, `1.5m`, `1h`, `2d` or plain milliseconds into ms.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseDuration } from "./units.ts";
 * assert.equal(parseDuration("1.5s", "--max-age"), 1500);
 * assert.equal(parseDuration("250", "--max-age"), 250);
 * assert.throws(() => parseDuration("soon", "--max-age"), /--max-age: 'soon' is not a duration/);
 * ```
 */
export function parseDuration(text: string, flag: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(text.trim());
  if (!match) throw new UsageError(`${flag}: '${text}' is not a duration (e.g. 500ms, 5s, 5m, 1h)`);
  return Math.round(Number(match[1]) * DURATION_UNITS[match[2] ?? "ms"]);
}

/**
 * Parses a positive integer.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parsePositiveInt } from "./units.ts";
 * assert.equal(parsePositiveInt("1000", "--count"), 1000);
 * assert.throws(() => parsePositiveInt("0", "--count"), /expected a positive integer/);
 * ```
 */
export function parsePositiveInt(text: string, flag: string): number {
  const n = Number(text);
  if (text.trim() === "" || !Number.isInteger(n) || n <= 0) {
    throw new UsageError(`${flag}: expected a positive integer, got '${text}'`);
  }
  return n;
}

const BYTE_UNITS: Record<string, number> = { B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3 };

/**
 * Parses `1048576`, `512KiB`, `16MiB`, `1GiB` into bytes (KB/MB/GB are powers of 1024 too).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseBytes } from "./units.ts";
 * assert.equal(parseBytes("16MiB", "--max-bytes"), 16 * 1024 * 1024);
 * assert.equal(parseBytes("1.5KB", "--max-bytes"), 1536);
 * ```
 */
export function parseBytes(text: string, flag: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*(B|KB|KiB|MB|MiB|GB|GiB)?$/i.exec(text.trim());
  if (!match) throw new UsageError(`${flag}: '${text}' is not a size (e.g. 16MiB, 512KiB)`);
  const unit = (match[2] ?? "B").toUpperCase().replace("I", "");
  const bytes = Math.round(Number(match[1]) * BYTE_UNITS[unit]);
  if (bytes <= 0) throw new UsageError(`${flag}: size must be positive`);
  return bytes;
}

/**
 * Parses a rate `N/s`, `N/m`, `N/h` (or a bare `N`, per second) into events per second.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseRate } from "./units.ts";
 * assert.equal(parseRate("120/m", "--rate"), 2);
 * assert.equal(parseRate("500", "--rate"), 500);
 * ```
 */
export function parseRate(text: string, flag = "--rate"): number {
  const match = /^(\d+(?:\.\d+)?)(?:\/(s|m|h))?$/.exec(text.trim());
  const n = match ? Number(match[1]) : NaN;
  if (!match || !(n > 0)) {
    throw new UsageError(`${flag}: expected events per second like 500/s, got '${text}'`);
  }
  return n / { s: 1, m: 60, h: 3600 }[(match[2] ?? "s") as "s" | "m" | "h"];
}
