import assert from "node:assert/strict";
import { join as joinPath } from "node:path";
import type { Item } from "../envelope.ts";
import { join } from "./join.ts";
import { openReference } from "./topic_table.ts";

/** Replaces `path` the way a user should: a temporary file renamed over it. */
async function replace(path: string, lines: string[]): Promise<void> {
  const temp = `${path}.tmp`;
  await Deno.writeTextFile(temp, lines.join("\n") + "\n");
  await Deno.rename(temp, path);
}

/** Log lines, and a way to wait for the next one that matches (generous timeout, no timing). */
function logRecorder() {
  const lines: string[] = [];
  const waiters: { re: RegExp; from: number; resolve: () => void }[] = [];
  const log = (line: string) => {
    lines.push(line);
    for (const w of [...waiters]) {
      if (lines.slice(w.from).some((l) => w.re.test(l))) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  };
  /** Waits for a line matching `re` logged after this call. */
  const next = (re: RegExp) => {
    const from = lines.length;
    let timer: ReturnType<typeof setTimeout>;
    return Promise.race([
      new Promise<void>((resolve) => waiters.push({ re, from, resolve })),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`no log line like ${re} within 20 s; saw: ${lines.join(" | ")}`)),
          20_000,
        );
      }),
    ]).finally(() => clearTimeout(timer));
  };
  return { lines, log, next };
}

const rec = (k: string, v: number) => JSON.stringify({ k, v });
const ev = (id: string, k: string): Item => ({ id, value: { k } });

Deno.test("a watched reference file is reloaded between events; a broken one is refused", async () => {
  const dir = await Deno.makeTempDir();
  const path = joinPath(dir, "ref.ndjson");
  await Deno.writeTextFile(path, [rec("a", 1), rec("b", 1)].join("\n") + "\n");
  const { lines, log, next } = logRecorder();
  const reference = await openReference(path, "k", { watchIntervalMs: 20, log });
  try {
    const stage = join(reference, { on: "value.k" });
    const input = async function* (): AsyncGenerator<Item> {
      yield ev("1", "a");
      yield ev("2", "b");
      // Version 2: a changes, b goes, c comes (and the file grows, so its size changes too).
      let reloaded = next(/reloaded/);
      await replace(path, [rec("a", 2), rec("c", 2), rec("d", 2)]);
      await reloaded;
      yield ev("3", "a");
      yield { $edgepipe: "barrier" };
      yield ev("4", "b");
      yield ev("5", "c");
      // A broken replacement: its second line is cut short. Refused, version 2 stays.
      const refused = next(/refused/);
      await replace(path, [rec("a", 3), '{"k":"c","v":']);
      await refused;
      yield ev("6", "a");
      yield ev("7", "c");
      // The next good change is taken again.
      reloaded = next(/reloaded/);
      await replace(path, [rec("a", 4)]);
      await reloaded;
      yield ev("8", "a");
      yield ev("9", "c");
    };
    const out = await Array.fromAsync(stage(input()));
    assert.deepEqual(out, [
      { id: "1", value: { k: "a" }, ref: { k: "a", v: 1 } },
      { id: "2", value: { k: "b" }, ref: { k: "b", v: 1 } },
      { id: "3", value: { k: "a" }, ref: { k: "a", v: 2 } },
      { $edgepipe: "barrier" },
      { id: "4", value: { k: "b" }, ref: null },
      { id: "5", value: { k: "c" }, ref: { k: "c", v: 2 } },
      { id: "6", value: { k: "a" }, ref: { k: "a", v: 2 } },
      { id: "7", value: { k: "c" }, ref: { k: "c", v: 2 } },
      { id: "8", value: { k: "a" }, ref: { k: "a", v: 4 } },
      { id: "9", value: { k: "c" }, ref: null },
    ]);
    assert.equal(lines.length, 3, lines.join("\n"));
    assert.equal(lines[0], `reloaded ${path}: 3 keys`);
    assert.match(
      lines[1],
      new RegExp(`^refused the new ${path} \\(the old table stays\\)`),
    );
    assert.match(lines[1], /line 2: .*not valid JSON/);
    assert.equal(lines[2], `reloaded ${path}: 1 key`);
  } finally {
    await reference.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a removed reference file keeps the old table until a new one appears", async () => {
  const dir = await Deno.makeTempDir();
  const path = joinPath(dir, "ref.ndjson");
  await Deno.writeTextFile(path, rec("a", 1) + "\n");
  const { lines, log, next } = logRecorder();
  const reference = await openReference(path, "k", { watchIntervalMs: 20, log });
  try {
    const stage = join(reference, { on: "value.k" });
    const input = async function* (): AsyncGenerator<Item> {
      const refused = next(/refused/);
      await Deno.remove(path);
      await refused;
      yield ev("1", "a");
      const reloaded = next(/reloaded/);
      await replace(path, [rec("a", 2), rec("b", 2)]);
      await reloaded;
      yield ev("2", "a");
    };
    const out = await Array.fromAsync(stage(input()));
    assert.deepEqual(out.map((e) => (e as { ref: unknown }).ref), [{ k: "a", v: 1 }, {
      k: "a",
      v: 2,
    }]);
    assert.match(lines[0], /refused the new .*ref\.ndjson .*cannot read reference file/);
    assert.equal(lines[1], `reloaded ${path}: 2 keys`);
  } finally {
    await reference.close();
    await Deno.remove(dir, { recursive: true });
  }
});
