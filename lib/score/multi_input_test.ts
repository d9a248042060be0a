/**
 * Several named inputs of several element types (lib/score/testdata/multi-input, a hand-built
 * graph: total = sum(readings) + count + 100·flag, city_code = {oslo: 1, lima: 2}[city] or -1),
 * and what `loadModel` / `models check` say when a spec does not fit a model's inputs.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { ModelError } from "./errors.ts";
import { loadModel } from "./load_model.ts";
import { score } from "./score.ts";

const multiDir = new URL("./testdata/multi-input", import.meta.url).pathname;
const digitsDir = new URL("../../models/digits", import.meta.url).pathname;

async function withSpec(
  from: string,
  edit: (spec: Record<string, never>) => void,
): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "edgepipe-model-" });
  const spec = JSON.parse(await Deno.readTextFile(join(from, "spec.json")));
  edit(spec);
  await Deno.writeTextFile(join(dir, "spec.json"), JSON.stringify(spec));
  await Deno.copyFile(join(from, "model.onnx"), join(dir, "model.onnx"));
  return dir;
}

async function problems(from: string, edit: (spec: Record<string, never>) => void) {
  const dir = await withSpec(from, edit);
  try {
    await loadModel(dir);
  } catch (err) {
    assert.ok(err instanceof ModelError, String(err));
    return err.message;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  assert.fail("the spec was accepted");
}

Deno.test("four inputs of four element types: each event's outputs from first principles", async () => {
  const events = [
    { id: "a", value: { r: [1, 2, 3, 4], n: 5, flag: true, city: "lima" } },
    { id: "b", value: { r: [0.5], flag: false, city: "oslo" } }, // padded at the start, n default 0
    { id: "c", value: { r: [2, 2], n: -3, flag: 1, city: "rome" } },
    { id: "d", value: { r: [1, 1, 1, 1, 1], n: 1, flag: 0, city: 7 } }, // too long: refused
  ];
  const skipped: string[] = [];
  const out = await Array.fromAsync(
    score(
      (async function* () {
        yield* events;
      })(),
      {
        model: multiDir,
        batchSize: 3,
        onError: { kind: "skip" },
        warn: (m) => skipped.push(m),
      },
    ),
  );
  const scored = out.filter((e) => "score" in e) as { id: string; score: Record<string, number> }[];
  const want = events.slice(0, 3).map((e) => ({
    id: e.id,
    total: e.value.r.reduce((a, b) => a + b, 0) + (e.value.n ?? 0) + (e.value.flag ? 100 : 0),
    city: ({ oslo: 1, lima: 2 } as Record<string, number>)[e.value.city as string] ?? -1,
  }));
  assert.deepEqual(
    scored.map((e) => ({ id: e.id, total: e.score.total, city: e.score.city })),
    want,
  );
  assert.equal(skipped.length, 1);
  assert.match(skipped[0], /event 'd': feature 'readings' \(value\.r\): 5 values, more than its 4/);
});

Deno.test("models check says exactly which input does not fit, and how", async () => {
  const typed = await problems(multiDir, (s) => {
    (s.inputs as { type: string }[])[0].type = "float64";
  });
  assert.match(typed, /input 'readings' is float32, the spec says float64/);

  const unfed = await problems(multiDir, (s) => {
    (s.inputs as unknown[]).pop();
  });
  assert.match(unfed, /model input 'city' \(string \[batch, 1\]\) is not fed by the spec/);

  const wide = await problems(multiDir, (s) => {
    (s.inputs as { features: { length: number }[] }[])[0].features[0].length = 5;
  });
  assert.match(wide, /input 'readings' takes 4 columns, the spec's features make 5/);

  const text = await problems(multiDir, (s) => {
    (s.inputs as { features: unknown[] }[])[0].features[0] = {
      name: "x",
      path: "value.x",
      kind: "text",
    };
  });
  assert.match(
    text,
    /input 'readings' \(float32\): feature 'x' is text; text features need a string input/,
  );

  const scaledInt = await problems(multiDir, (s) => {
    (s.inputs as { features: Record<string, unknown>[] }[])[1].features[0].scale = {
      kind: "standard",
      mean: 0,
      std: 2,
    };
  });
  assert.match(scaledInt, /input 'count' \(int64\): feature 'count' is scaled/);

  const rank = await problems(digitsDir, (s) => {
    delete (s.inputs as Record<string, unknown>[])[0].shape;
  });
  assert.match(
    rank,
    /input 'image' is \[batch, 1, 8, 8\] \(rank 4\), the spec feeds \[batch, 64\] \(rank 2\)/,
  );

  const dims = await problems(digitsDir, (s) => {
    (s.inputs as Record<string, unknown>[])[0].shape = [1, 4, 16];
  });
  assert.match(dims, /input 'image' is \[batch, 1, 8, 8\]: dimension 2 is 8, the spec says 4/);
  assert.match(dims, /dimension 3 is 8, the spec says 16/);

  const product = await problems(digitsDir, (s) => {
    (s.inputs as Record<string, unknown>[])[0].shape = [1, 8, 9];
  });
  assert.match(product, /the spec's shape \[1,8,9\] holds 72 values, its features make 64/);
});
