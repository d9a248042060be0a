import assert from "node:assert/strict";
import type { Item } from "../envelope.ts";
import { join, loadReference, parseJoinOn, ReferenceFileError } from "./join.ts";

Deno.test("join adds the matching record, null when none, and passes control records", async () => {
  const path = await Deno.makeTempFile();
  await Deno.writeTextFile(path, '{"iata":"SFO","city":"SF"}\n\n{"iata":"LAX","city":"LA"}\n');
  const table = await loadReference(path, "iata");
  const stage = join(table, { on: "value.origin" });
  const out: Item[] = [];
  const items: Item[] = [
    { value: { origin: "LAX" } },
    { $edgepipe: "barrier" },
    { value: { origin: "XXX" } },
    { value: {} },
  ];
  for await (const item of stage(ReadableStream.from(items))) out.push(item);
  assert.deepEqual(out, [
    { value: { origin: "LAX" }, ref: { iata: "LAX", city: "LA" } },
    { $edgepipe: "barrier" },
    { value: { origin: "XXX" }, ref: null },
    { value: {}, ref: null },
  ]);
  await Deno.remove(path);
});

Deno.test("bad reference files name the line", async () => {
  const path = await Deno.makeTempFile();
  await Deno.writeTextFile(path, '{"iata":"SFO"}\n{"iata":"SFO"}\n');
  await assert.rejects(() => loadReference(path, "iata"), /line 2: .*duplicate key 'SFO'/);
  await Deno.writeTextFile(path, '{"iata":"SFO"}\n{"code":1}\n');
  await assert.rejects(() => loadReference(path, "iata"), /line 2: .*no string or number 'iata'/);
  await Deno.writeTextFile(path, '{"iata":"SFO"}\n{"iata":\n');
  await assert.rejects(() => loadReference(path, "iata"), ReferenceFileError);
  await Deno.remove(path);
  await assert.rejects(() => loadReference(path, "iata"), /cannot read reference file/);
});

Deno.test("parseJoinOn defaults the reference field to the last path segment", () => {
  assert.deepEqual(parseJoinOn("value.origin"), { eventPath: "value.origin", refPath: "origin" });
  assert.deepEqual(parseJoinOn("key=iata"), { eventPath: "key", refPath: "iata" });
  assert.throws(() => parseJoinOn("=x"), /--on/);
});
