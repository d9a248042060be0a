import assert from "node:assert/strict";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { openFileSink } from "./file.ts";
import { PrefixTemplate } from "./object_naming.ts";

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) out.push(...await walk(path));
    else out.push(path);
  }
  return out;
}

Deno.test("file sink writes rolling gzip files under rendered prefixes, no temp files left", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const sink = openFileSink(dir, {
      prefix: new PrefixTemplate("date=%Y-%m-%d/origin={value.origin}/"),
      encoding: "ndjson.gz",
      // Whole envelopes, so each line shows the event time its directory was named after.
      payload: { kind: "envelope" },
      maxEvents: 4,
      writerId: "w",
    });
    const origins = ["SFO", "JFK", "SFO"];
    const sends = Array.from({ length: 30 }, (_, i) =>
      sink.send({
        id: `id${i}`,
        eventTime: Date.UTC(2026, 0, 1 + (i % 2)),
        value: { origin: origins[i % 3], i },
      }));
    await sink.close();
    await Promise.all(sends);
    const files = await walk(dir);
    assert.ok(files.every((f) => !f.includes(".tmp")));
    const ids: string[] = [];
    for (const file of files) {
      const events = new TextDecoder().decode(gunzipSync(await Deno.readFile(file))).trimEnd()
        .split("\n").map((l) => JSON.parse(l));
      for (const event of events) {
        const day = new Date(event.eventTime).toISOString().slice(0, 10);
        assert.ok(file.includes(`date=${day}/origin=${event.value.origin}/w-`), file);
        ids.push(event.id);
      }
    }
    assert.deepEqual(ids.sort(), Array.from({ length: 30 }, (_, i) => `id${i}`).sort());
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("file sink reports an unwritable directory as a clear error", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(join(dir, "blocker"), "a file where a directory should be");
    const sink = openFileSink(join(dir, "blocker"), {
      prefix: new PrefixTemplate(""),
      encoding: "ndjson",
    });
    const send = sink.send({ value: 1 });
    await assert.rejects(sink.close(), /writing .*blocker.* failed/);
    await assert.rejects(send);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
