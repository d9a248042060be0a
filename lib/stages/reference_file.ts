/**
 * A reference file that stays fresh: its stat (inode, size, modification and change times) is
 * looked at every `intervalMs`; once it has changed and then stayed the same for one more look,
 * the file is read into a new table beside the current one, and the new table takes over in one
 * step — between two events, so an event is always joined against one version of the table. A
 * file that cannot be read or parsed (bad JSON, a record without its key, a duplicate key — a
 * partly written file, say) is refused with one line and the old table stays; it is tried again
 * when the file changes again. A file that changed while it was being read is not taken: the
 * next looks see the change and read it again.
 *
 * At most two tables are held: the current one and the one being loaded.
 *
 * Replace the file atomically: write a temporary file and rename it over the old one.
 *
 * @module
 */
import { describeError } from "../errors.ts";
import { parseDuration } from "../units.ts";
import { loadReference, type ReferenceTable } from "./join.ts";

/** How often a reference file is looked at unless told otherwise. */
export const DEFAULT_WATCH_INTERVAL_MS = 1000;

/**
 * Parses a reference file's watch interval: a duration (`500ms`, `5s`; a number is milliseconds),
 * or `off` (or 0) to load the file once; undefined when it is off.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseWatchInterval } from "./reference_file.ts";
 * assert.equal(parseWatchInterval("250ms", "--watch-interval"), 250);
 * assert.equal(parseWatchInterval("off", "--watch-interval"), undefined);
 * ```
 */
export function parseWatchInterval(value: string | number, flag: string): number | undefined {
  if (value === "off") return undefined;
  const ms = typeof value === "number" ? value : parseDuration(value, flag);
  return ms > 0 ? ms : undefined;
}

/** How to watch a reference file. */
export interface ReferenceWatchOptions {
  /** Milliseconds between looks at the file. */
  intervalMs: number;
  /** One line per reload or refusal, without a prefix (default: stderr, after `edgepipe: `). */
  log?: (message: string) => void;
}

/** What identifies one version of the file on disk; "missing" when it cannot be stat'ed. */
async function fingerprint(path: string): Promise<string> {
  try {
    const s = await Deno.stat(path);
    return `${s.ino}:${s.size}:${s.mtime?.getTime()}:${s.ctime?.getTime() ?? ""}`;
  } catch {
    return "missing";
  }
}

/** A reference file loaded, then reloaded while it changes; see the module doc. */
export class WatchedReferenceFile {
  #path: string;
  #refPath: string;
  #intervalMs: number;
  #log: (message: string) => void;
  #table: ReferenceTable;
  #applied: number;
  /** The fingerprint of the last look. */
  #seen: string;
  /** The fingerprint loaded or refused last: not read again. */
  #settled: string;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #polling: Promise<void> | undefined;
  #closed = false;

  private constructor(
    path: string,
    refPath: string,
    options: ReferenceWatchOptions,
    table: ReferenceTable,
    seen: string,
  ) {
    this.#path = path;
    this.#refPath = refPath;
    this.#intervalMs = options.intervalMs;
    this.#log = options.log ?? ((m) => console.error(`edgepipe: ${m}`));
    this.#table = table;
    this.#applied = table.size;
    this.#seen = seen;
    this.#settled = seen;
    this.#schedule();
  }

  /** Loads `path` keyed by the field `refPath` of each record and starts watching it. */
  static async open(
    path: string,
    refPath: string,
    options: ReferenceWatchOptions,
  ): Promise<WatchedReferenceFile> {
    // The fingerprint before the read: a change during the first read is loaded later.
    const seen = await fingerprint(path);
    const table = await loadReference(path, refPath);
    return new WatchedReferenceFile(path, refPath, options, table, seen);
  }

  /** The table in force now (a new table after each reload; never changed in place). */
  get table(): ReferenceTable {
    return this.#table;
  }

  /** Records loaded since the start, reloads included. */
  get applied(): number {
    return this.#applied;
  }

  /** Stops watching (waits for a look under way); the last table stays readable. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#polling;
  }

  #schedule(): void {
    if (this.#closed) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#polling = this.#poll().finally(() => {
        this.#polling = undefined;
        this.#schedule();
      });
    }, this.#intervalMs);
    // Looking at the file never keeps a process alive on its own.
    Deno.unrefTimer(this.#timer);
  }

  async #poll(): Promise<void> {
    const now = await fingerprint(this.#path);
    const stable = now === this.#seen;
    this.#seen = now;
    if (!stable || now === this.#settled || this.#closed) return;
    this.#settled = now;
    let table: ReferenceTable;
    try {
      table = await loadReference(this.#path, this.#refPath);
    } catch (err) {
      this.#log(
        `refused the new ${this.#path} (the old table stays): ${describeError(err)}`,
      );
      return;
    }
    if (await fingerprint(this.#path) !== now) {
      // Changed while it was read: the next looks see the change and read it again.
      this.#settled = "";
      return;
    }
    if (this.#closed) return;
    this.#table = table;
    this.#applied += table.size;
    this.#log(`reloaded ${this.#path}: ${table.size} ${table.size === 1 ? "key" : "keys"}`);
  }
}
