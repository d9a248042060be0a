import assert from "node:assert/strict";
import { XMLParser } from "fast-xml-parser";
import { drawAll } from "./charts.ts";

const dir = new URL(".", import.meta.url).pathname.replace(/\/$/, "");
const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: "" });
type Rect = Record<string, string>;
const bars = (svg: string): Rect[] =>
  parser.parse(svg).svg.rect.filter((r: Rect) => r.class === "bar");

Deno.test("charts: the commands chart holds the newest After table of commands_results.md", async () => {
  const charts = await drawAll(dir);
  // The newest table ("Second pass", 16:43–16:47), copied from the results file.
  assert.deepEqual(bars(charts.get("pulsar_commands")!).map((b) => Number(b["data-median"])), [
    0.58,
    1.2,
    0.66,
    1.49,
  ]);
  // window_results.md, events per CPU second: now / before per key count, then checkpoints.
  assert.deepEqual(bars(charts.get("window_cpu")!).map((b) => Number(b["data-median"])), [
    0.46,
    0.46,
    0.64,
    0.57,
    0.64,
    0.59,
    0.94,
  ]);
  // score_results.md, "× raw" rows: the middle of two runs (0.16, 0.17 → 0.165; 0.35, 0.23 → 0.29).
  assert.deepEqual(
    bars(charts.get("score_stage")!).slice(0, 2).map((b) => Number(b["data-median"])),
    [0.165, 0.29],
  );
});

Deno.test("charts: run vs pipe from the two recorded runs, worked out by hand", async () => {
  const bars0 = bars((await drawAll(dir)).get("run_vs_pipe")!);
  // window events/s, run / pipe: 70,360 / 53,826 = 1.3072 and 120,354 / 51,979 = 2.3155.
  const first = bars0[0];
  assert.ok(Math.abs(Number(first["data-median"]) - (1.3072 + 2.3155) / 2) < 1e-3);
  const whiskers = parser.parse((await drawAll(dir)).get("run_vs_pipe")!).svg.g;
  assert.ok(Math.abs(Number(whiskers[0]["data-min"]) - 1.3072) < 1e-3);
  assert.ok(Math.abs(Number(whiskers[0]["data-max"]) - 2.3155) < 1e-3);
  // score CPU s, pipe / run: 3.68 / 1.96 = 1.8776 and 3.96 / 1.91 = 2.0733.
  assert.ok(Math.abs(Number(bars0[3]["data-median"]) - (1.8776 + 2.0733) / 2) < 1e-3);
});

Deno.test("charts: the committed bench/charts/*.svg are what charts.ts draws from the results now", async () => {
  for (const [name, svg] of await drawAll(dir)) {
    const committed = await Deno.readTextFile(`${dir}/charts/${name}.svg`);
    assert.equal(committed, svg, `bench/charts/${name}.svg is stale: run bench/charts.ts`);
  }
});
