/**
 * Refuses the one assertion that cannot fail: in Deno, `console.assert` only prints, so a
 * doc example or test that checks with it passes whatever the code does. This scans TypeScript,
 * JavaScript and Markdown files (JSDoc `@example` blocks live in comments, which `deno lint`
 * does not read, hence a text scan) and reports every use as `path:line: text`.
 *
 * Usage: `deno run --allow-read tools/no_console_assert.ts [root...]` (default: the current
 * directory). Exits 0 when clean, 1 when any use is found.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { findConsoleAsserts } from "./no_console_assert.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/a.ts`, "const x = 1;\nconsole" + ".assert(x === 2);\n");
 * const found = await findConsoleAsserts([dir]);
 * assert.deepEqual(found.map((f) => f.line), [2]);
 * ```
 *
 * @module
 */

import { join, relative } from "node:path";

/** One use found: where, and the line's text. */
export interface ConsoleAssertUse {
  /** The file, relative to the current directory. */
  path: string;
  /** 1-based line number. */
  line: number;
  /** The line, trimmed. */
  text: string;
}

/**
 * A call of console's `assert` (also with spaces around the dot, in brackets, or through `.call`,
 * `.apply`, `.bind`), or the function taken as a value, assigned or passed. Naming it in prose,
 * as this comment does, is fine.
 */
const CALL =
  /\bconsole\s*(?:\.\s*assert|\[\s*["'`]assert["'`]\s*\])\s*(?:\(|\.\s*(?:call|apply|bind)\b)/;
const VALUE = /[=(,]\s*console\s*\.\s*assert\b/;
const SCANNED = /\.(?:[cm]?[jt]sx?|md)$/;
const SKIPPED_DIRS = new Set(["node_modules", "dist", ".cache", ".git", ".venv", "__pycache__"]);

/** Lists every use of console's `assert` under the given roots (files or directories). */
export async function findConsoleAsserts(roots: string[]): Promise<ConsoleAssertUse[]> {
  const found: ConsoleAssertUse[] = [];
  for (const root of roots) {
    for await (const path of walk(root)) {
      const lines = (await Deno.readTextFile(path)).split("\n");
      lines.forEach((text, index) => {
        if (CALL.test(text) || VALUE.test(text)) {
          found.push({ path: relative(".", path), line: index + 1, text: text.trim() });
        }
      });
    }
  }
  return found;
}

async function* walk(path: string): AsyncGenerator<string> {
  const info = await Deno.stat(path);
  if (info.isFile) {
    if (SCANNED.test(path)) yield path;
    return;
  }
  const entries = await Array.fromAsync(Deno.readDir(path));
  entries.sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  for (const entry of entries) {
    if (entry.isDirectory && SKIPPED_DIRS.has(entry.name)) continue;
    if (entry.isSymlink) continue;
    yield* walk(join(path, entry.name));
  }
}

if (import.meta.main) {
  const roots = Deno.args.length > 0 ? Deno.args : ["."];
  const found = await findConsoleAsserts(roots);
  for (const use of found) console.error(`${use.path}:${use.line}: ${use.text}`);
  if (found.length > 0) {
    console.error(
      `edgepipe check: ${found.length} use(s) of console's assert, which never throws in Deno; ` +
        `assert with node:assert/strict instead`,
    );
    Deno.exit(1);
  }
}
