import assert from "node:assert/strict";
import { parquetWriteBuffer } from "hyparquet-writer";
import { parquetRowCount, readParquet } from "./parquet.ts";
import type { ReadProgress } from "./types.ts";

Deno.test("readParquet streams rows in steps, with numbers, strings and timestamps", async () => {
  const n = 2500;
  const dates = Array.from({ length: n }, (_, i) => new Date(Date.UTC(2024, 0, 1) + i * 60_000));
  const buffer = parquetWriteBuffer({
    columnData: [
      { name: "seq", data: Array.from({ length: n }, (_, i) => BigInt(i)), type: "INT64" },
      { name: "origin", data: Array.from({ length: n }, (_, i) => `A${i % 7}`), type: "STRING" },
      { name: "date", data: dates, type: "TIMESTAMP" },
    ],
    rowGroupSize: 1000,
  });
  const path = await Deno.makeTempFile({ suffix: ".parquet" });
  try {
    await Deno.writeFile(path, new Uint8Array(buffer));
    assert.equal(await parquetRowCount(path), n);
    const progress: ReadProgress[] = [];
    const rows: Record<string, unknown>[] = [];
    for await (
      const item of readParquet(path, { rowsPerStep: 400, onProgress: (p) => progress.push(p) })
    ) rows.push((item as { value: Record<string, unknown> }).value);
    assert.equal(rows.length, n);
    rows.forEach((row, i) => {
      assert.equal(row.seq, i);
      assert.equal(row.origin, `A${i % 7}`);
      assert.equal(row.date, dates[i].toISOString());
    });
    // Row groups of 1000 read 400 at a time: 400, 800, 1000, 1400, … 2500.
    assert.deepEqual(progress.map((p) => p.done), [400, 800, 1000, 1400, 1800, 2000, 2400, 2500]);
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("readParquet names a file that is not Parquet", async () => {
  const path = await Deno.makeTempFile({ suffix: ".parquet" });
  try {
    await Deno.writeTextFile(path, "a,b\n1,2\n");
    const reading = (async () => {
      for await (const _ of readParquet(path)) { /* drain */ }
    })();
    await assert.rejects(reading, new RegExp(`${path} is not a readable Parquet file`));
  } finally {
    await Deno.remove(path);
  }
});
