/**
 * What edgepipe writes to disk holds the users' data: checkpoints, dead letters and file-sink
 * output are created 0600, directories edgepipe creates for them 0700 (whatever the umask lets
 * through for others).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { deadLetterOf, FileDeadLetterSink } from "../lib/dead_letter.ts";
import { DirectoryStore } from "../lib/sinks/file.ts";
import { runEdgepipe } from "./harness/edgepipe.ts";

const modeOf = async (path: string) => (await Deno.stat(path)).mode! & 0o777;

Deno.test("dead-letter files are created 0600", async () => {
  const dir = await Deno.makeTempDir();
  const path = join(dir, "dead.ndjson");
  const sink = new FileDeadLetterSink(path);
  await sink.write(deadLetterOf("window", new Error("bad"), { id: "a", value: 1 }));
  await sink.close();
  assert.equal(await modeOf(path), 0o600);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("file-sink objects are 0600 in 0700 directories", async () => {
  const dir = await Deno.makeTempDir();
  const store = new DirectoryStore(join(dir, "out"));
  await store.put("2026/01/01/part-0.ndjson", new TextEncoder().encode("{}\n"), "ndjson");
  assert.equal(await modeOf(join(dir, "out/2026/01/01/part-0.ndjson")), 0o600);
  for (const sub of ["out", "out/2026", "out/2026/01", "out/2026/01/01"]) {
    assert.equal(await modeOf(join(dir, sub)), 0o700, sub);
  }
  await Deno.remove(dir, { recursive: true });
});

Deno.test("window --checkpoint-dir and --late dead-letter: 0700 directory, 0600 files", async () => {
  const dir = await Deno.makeTempDir();
  const ck = join(dir, "ck");
  const late = join(dir, "late.ndjson");
  const events = [1000, 25_000, 2000].map((t, i) =>
    JSON.stringify({ eventTime: t, value: { k: "a", i } })
  );
  const run = await runEdgepipe(
    [
      "window",
      "--key",
      "k",
      "--tumbling",
      "10s",
      "--checkpoint-dir",
      ck,
      "--late",
      `dead-letter=${late}`,
    ],
    { stdin: events.join("\n") + "\n" },
  );
  assert.equal(run.code, 0, run.stderr);
  assert.equal(await modeOf(ck), 0o700);
  const names = [...Deno.readDirSync(ck)].map((e) => e.name);
  assert.ok(names.some((n) => n.endsWith(".ckpt")), names.join());
  for (const name of names) assert.equal(await modeOf(join(ck, name)), 0o600, name);
  assert.equal(await modeOf(late), 0o600);
  await Deno.remove(dir, { recursive: true });
});
