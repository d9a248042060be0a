import assert from "node:assert/strict";
import { markdownTables, parseGoal, parseRatio } from "./_md_tables.ts";

Deno.test("parseRatio: median and range, a bare ratio, and non-ratios", () => {
  assert.deepEqual(parseRatio("0.48× (0.44–0.88)"), { median: 0.48, min: 0.44, max: 0.88 });
  assert.deepEqual(parseRatio(" 1.34× (0.41–2.58) "), { median: 1.34, min: 0.41, max: 2.58 });
  assert.deepEqual(parseRatio("2.90×"), { median: 2.9, min: 2.9, max: 2.9 });
  assert.equal(parseRatio("1.3–2.3×"), undefined);
  assert.equal(parseRatio("36,951 (34,178–37,985)"), undefined);
  assert.equal(parseRatio(""), undefined);
});

Deno.test("parseGoal: direction and value", () => {
  assert.deepEqual(parseGoal("≥ 1.0×"), { value: 1, better: "higher" });
  assert.deepEqual(parseGoal("≤ 1.3×"), { value: 1.3, better: "lower" });
  assert.equal(parseGoal(""), undefined);
  assert.equal(parseGoal("< 150 ms"), undefined);
});

Deno.test("markdownTables: heading, intro line, cells with escaped pipes; fenced tables skipped", () => {
  const md = [
    "# r",
    "## Section `a`",
    "",
    "Before (03:50, load 17):",
    "",
    "| path | ratio |",
    "| ---- | ----: |",
    "| `consume \\| produce` | 0.45× (0.35–0.54) |",
    "| b | 1.00× |",
    "",
    "```",
    "| x | y |",
    "|---|---|",
    "| 1 | 2 |",
    "```",
    "## Other",
    "| only | header |",
  ].join("\n");
  const tables = markdownTables(md);
  assert.equal(tables.length, 2);
  assert.deepEqual(tables[0], {
    heading: "Section `a`",
    intro: "Before (03:50, load 17):",
    header: ["path", "ratio"],
    rows: [["`consume | produce`", "0.45× (0.35–0.54)"], ["b", "1.00×"]],
  });
  assert.deepEqual(tables[1], {
    heading: "Other",
    intro: "",
    header: ["only", "header"],
    rows: [],
  });
});
