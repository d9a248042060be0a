import assert from "node:assert/strict";
import { DirectoryCheckpointStore, generationName } from "./shared_store.ts";

const P = { topic: "persistent://public/default/flights", partition: 3 };

Deno.test("directory store: a generation is written once; the second writer is fenced", async () => {
  const dir = await Deno.makeTempDir();
  const a = await DirectoryCheckpointStore.open(dir);
  const b = await DirectoryCheckpointStore.open(dir);
  assert.equal(await a.newest(P), undefined);
  assert.equal(await a.put(P, 1, new Uint8Array([1])), "written");
  assert.equal(await b.put(P, 1, new Uint8Array([9])), "fenced");
  assert.equal(await b.put(P, 2, new Uint8Array([2])), "written");
  assert.equal(await a.put(P, 2, new Uint8Array([8])), "fenced");
  assert.deepEqual(await a.newest(P), { generation: 2, bytes: new Uint8Array([2]) });
  // Older generations but the previous one go; no temp file is left behind.
  assert.equal(await a.put(P, 3, new Uint8Array([3])), "written");
  const names = [];
  for await (const e of Deno.readDir(`${dir}/${encodeURIComponent(P.topic)}/3`)) names.push(e.name);
  assert.deepEqual(names.sort(), [generationName(2), generationName(3)]);
  // Another partition of the same topic is apart.
  assert.equal(await a.newest({ ...P, partition: 4 }), undefined);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("directory store: racing writers of one generation, exactly one wins", async () => {
  const dir = await Deno.makeTempDir();
  const stores = await Promise.all([1, 2, 3, 4].map(() => DirectoryCheckpointStore.open(dir)));
  const outcomes = await Promise.all(
    stores.map((s, i) => s.put(P, 7, new Uint8Array([i]))),
  );
  assert.equal(outcomes.filter((o) => o === "written").length, 1);
  const winner = outcomes.indexOf("written");
  assert.deepEqual((await stores[0].newest(P))?.bytes, new Uint8Array([winner]));
  await Deno.remove(dir, { recursive: true });
});
