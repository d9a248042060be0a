/**
 * The package's entry points (deno.json `exports`): each loads only the npm packages its part
 * needs, so that a program importing `filter` does not pull in the AWS SDK, Parquet or
 * onnxruntime; and the root entry exports everything the others do.
 */
import assert from "node:assert/strict";

const ROOT = new URL("../", import.meta.url);
const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT)));
const exportsMap: Record<string, string> = config.exports;

/** npm packages each entry may load; anything else in its module graph fails the test. */
const ALLOWED: Record<string, string[]> = {
  "./core": ["zod"],
  "./filter": ["zod", "@marcbachmann/cel-js"],
  "./window": ["zod", "@marcbachmann/cel-js"],
  // pngjs and jpeg-js: image features (imported only when a spec has one).
  "./score": ["zod", "pngjs", "jpeg-js"],
  "./sources": ["zod", "hyparquet", "hyparquet-compressors"],
  // The schema libraries: a Pulsar sink with a schema (loaded only when one is used).
  "./sinks": [
    "zod",
    "@aws-sdk/client-s3",
    "@aws-sdk/credential-providers",
    "@aws-sdk/lib-storage",
    "hyparquet-writer",
    "avsc",
    "protobufjs",
  ],
  "./pulsar": [],
};

/** The npm packages in the static module graph of `file`, as `deno info --json` reports it. */
async function npmPackagesOf(file: string): Promise<string[]> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", file],
    cwd: ROOT,
  }).output();
  assert.equal(code, 0, new TextDecoder().decode(stderr));
  const graph = JSON.parse(new TextDecoder().decode(stdout)) as {
    modules: { specifier: string }[];
  };
  const names = new Set<string>();
  for (const { specifier } of graph.modules) {
    // npm:/@scope/name@1.2.3/sub/path or npm:/name@1.2.3
    const match = /^npm:\/?((?:@[^/]+\/)?[^@/]+)/.exec(specifier);
    if (match) names.add(match[1]);
  }
  return [...names].sort();
}

Deno.test("every sub-path entry loads only the npm packages of its part", async () => {
  assert.deepEqual(
    Object.keys(exportsMap).sort(),
    [".", "./pipeline", ...Object.keys(ALLOWED)].sort(),
    "a new entry needs its allowed packages listed here",
  );
  for (const [entry, allowed] of Object.entries(ALLOWED)) {
    const loaded = await npmPackagesOf(exportsMap[entry]);
    assert.deepEqual(
      loaded.filter((name) => !allowed.includes(name)),
      [],
      `${entry} loads too much`,
    );
  }
  // The point of the split: the stages people embed load no AWS SDK, Parquet or onnxruntime.
  for (const entry of ["./core", "./filter", "./window", "./score", "./pulsar"]) {
    const heavy = (await npmPackagesOf(exportsMap[entry])).filter((name) =>
      /^@aws-sdk\/|^hyparquet|^onnxruntime/.test(name)
    );
    assert.deepEqual(heavy, [], entry);
  }
});

Deno.test("the check sees a heavy package: the root entry loads the AWS SDK and Parquet", async () => {
  const loaded = await npmPackagesOf(exportsMap["."]);
  assert.ok(loaded.includes("@aws-sdk/client-s3"), loaded.join());
  assert.ok(loaded.includes("hyparquet"), loaded.join());
});

Deno.test("the root entry exports everything each sub-path entry does, as the same values", async () => {
  const root = await import(new URL(exportsMap["."], ROOT).href);
  for (const [entry, file] of Object.entries(exportsMap)) {
    const part = await import(new URL(file, ROOT).href);
    for (const name of Object.keys(part)) {
      assert.ok(name in root, `${entry} exports ${name}, the root entry does not`);
      assert.equal(root[name], part[name], `${entry} ${name}`);
    }
  }
});

Deno.test("deno task check:doc lints every entry", () => {
  const linted = (config.tasks["check:doc"] as string).split(/\s+/);
  for (const [entry, file] of Object.entries(exportsMap)) {
    assert.ok(linted.includes(file.replace(/^\.\//, "")), `${entry} (${file}) is not doc-linted`);
  }
});
