import assert from "node:assert/strict";
import { join } from "node:path";
import { CheckpointFormatError, decodeCheckpoint, encodeCheckpoint } from "./format.ts";
import { CheckpointError, CheckpointStore } from "./store.ts";

const data = (n: number) => ({
  json: { kind: "test", n },
  columns: [Float64Array.of(n, -Infinity, 0.1 + 0.2), new Float64Array(0)],
});

Deno.test("format round-trips JSON and float columns bit for bit", () => {
  const decoded = decodeCheckpoint(encodeCheckpoint(data(7)), "test");
  assert.deepEqual(decoded.json, { kind: "test", n: 7 });
  assert.deepEqual([...decoded.columns[0]], [7, -Infinity, 0.1 + 0.2]);
  assert.equal(decoded.columns[1].length, 0);
});

Deno.test("format rejects truncated, corrupt, foreign and other-kind files", () => {
  const bytes = encodeCheckpoint(data(1));
  assert.throws(() => decodeCheckpoint(bytes.subarray(0, bytes.length - 3), "test"), /checksum/);
  assert.throws(() => decodeCheckpoint(bytes.subarray(0, 10), "test"), /truncated/);
  const flipped = bytes.slice();
  flipped[30] ^= 1;
  assert.throws(() => decodeCheckpoint(flipped, "test"), /checksum/);
  assert.throws(
    () => decodeCheckpoint(new TextEncoder().encode("{}".repeat(20)), "test"),
    /not an edgepipe/,
  );
  assert.throws(() => decodeCheckpoint(bytes, "other"), CheckpointFormatError);
  const future = bytes.slice();
  future[8] = 9;
  assert.throws(() => decodeCheckpoint(future, "test"), /format version 9/);
});

const files = (dir: string) =>
  [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) => n !== "lock").sort();

Deno.test("store keeps two generations and restores the newest", async () => {
  const dir = await Deno.makeTempDir();
  const store = await CheckpointStore.open(dir, "test");
  assert.equal(await store.restore(), undefined);
  for (let n = 1; n <= 4; n++) await store.write(data(n));
  store.close();
  const names = files(dir);
  assert.deepEqual(names, ["checkpoint-000000000003.ckpt", "checkpoint-000000000004.ckpt"]);
  const again = await CheckpointStore.open(dir, "test");
  assert.equal((await again.restore())?.json.n, 4);
  await again.write(data(5));
  again.close();
  assert.ok(names.every((n) => n !== "checkpoint-000000000005.ckpt"));
  const third = await CheckpointStore.open(dir, "test");
  assert.equal((await third.restore())?.json.n, 5);
  third.close();
  await Deno.remove(dir, { recursive: true });
});

const damages = [
  ["truncated", (b: Uint8Array) => b.subarray(0, b.length - 5)],
  ["corrupt", (b: Uint8Array) => b.map((x, i) => i === b.length - 1 ? x ^ 0xff : x)],
  ["foreign", () => new TextEncoder().encode('{"hello":"world"}\n')],
] as const;

/** Two generations, the newest damaged. */
async function damagedStore(damage: (b: Uint8Array) => Uint8Array): Promise<string> {
  const dir = await Deno.makeTempDir();
  const store = await CheckpointStore.open(dir, "test");
  await store.write(data(1));
  await store.write(data(2));
  store.close();
  const newest = join(dir, "checkpoint-000000000002.ckpt");
  await Deno.writeFile(newest, damage(await Deno.readFile(newest)));
  return dir;
}

for (const [what, damage] of damages) {
  Deno.test(`a ${what} newest checkpoint is an error, not a silent fallback`, async () => {
    const dir = await damagedStore(damage);
    const warnings: string[] = [];
    const store = await CheckpointStore.open(dir, "test", (m) => warnings.push(m));
    await assert.rejects(() => store.restore(), (err) => {
      assert.ok(err instanceof CheckpointError);
      assert.match(err.message, /newest checkpoint .*000000000002\.ckpt cannot be used/);
      assert.match(err.message, /--checkpoint-fallback/);
      assert.doesNotMatch(err.message, /\n/);
      return true;
    });
    assert.deepEqual(warnings, []);
    store.close();
    await Deno.remove(dir, { recursive: true });
  });

  Deno.test(`a ${what} newest checkpoint falls back with { fallback: true }, with a warning`, async () => {
    const dir = await damagedStore(damage);
    const warnings: string[] = [];
    const store = await CheckpointStore.open(dir, "test", (m) => warnings.push(m));
    const restored = await store.restore(undefined, { fallback: true });
    store.close();
    assert.equal(restored?.json.n, 1);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /skipped checkpoint .*000000000002\.ckpt/);
    assert.doesNotMatch(warnings[0], /\n/);
    await Deno.remove(dir, { recursive: true });
  });
}

Deno.test("with no valid checkpoint left, restore refuses and says how to start over", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(join(dir, "checkpoint-000000000001.ckpt"), "garbage");
  const store = await CheckpointStore.open(dir, "test");
  await assert.rejects(() => store.restore(undefined, { fallback: true }), (err) => {
    assert.ok(err instanceof CheckpointError);
    assert.match(err.message, /no valid checkpoint .*move that directory away/);
    return true;
  });
  store.close();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("an unwritable checkpoint directory is an error at open", async () => {
  const file = await Deno.makeTempFile();
  await assert.rejects(
    () => CheckpointStore.open(join(file, "sub"), "test"),
    /checkpoint directory .* is not writable/,
  );
  await Deno.remove(file);
});

Deno.test("temp files of interrupted writes are cleared at open", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(join(dir, ".checkpoint-000000000001.ckpt.tmp-99"), "half");
  const store = await CheckpointStore.open(dir, "test");
  assert.deepEqual(files(dir), []);
  store.close();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a second store on the same directory is refused, naming the holder; free again after close", async () => {
  const dir = await Deno.makeTempDir();
  const first = await CheckpointStore.open(dir, "test");
  await assert.rejects(() => CheckpointStore.open(dir, "test"), (err) => {
    assert.ok(err instanceof CheckpointError);
    assert.match(err.message, new RegExp(`in use by another process \\(pid ${Deno.pid}\\)`));
    return true;
  });
  first.close();
  const second = await CheckpointStore.open(dir, "test");
  second.close();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("the lock holds across processes: a second process gets one clear line", async () => {
  const dir = await Deno.makeTempDir();
  const store = await CheckpointStore.open(dir, "test");
  const code = `
    import { CheckpointStore } from ${JSON.stringify(new URL("./store.ts", import.meta.url).href)};
    try { await CheckpointStore.open(${JSON.stringify(dir)}, "test"); console.log("opened"); }
    catch (err) { console.log(err.message); }`;
  const out = await new Deno.Command(Deno.execPath(), { args: ["eval", code] }).output();
  const said = new TextDecoder().decode(out.stdout).trim();
  assert.match(
    said,
    new RegExp(`^checkpoint directory .* in use by another process \\(pid ${Deno.pid}\\)`),
  );
  store.close();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("checkpoint files are 0600, a directory the store creates 0700", async () => {
  const parent = await Deno.makeTempDir();
  const dir = join(parent, "ck");
  const store = await CheckpointStore.open(dir, "test");
  await store.write(data(1));
  store.close();
  assert.equal((await Deno.stat(dir)).mode! & 0o777, 0o700);
  for (const name of [...files(dir), "lock"]) {
    assert.equal((await Deno.stat(join(dir, name))).mode! & 0o777, 0o600, name);
  }
  await Deno.remove(parent, { recursive: true });
});
