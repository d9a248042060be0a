import assert from "node:assert/strict";
import { XMLParser, XMLValidator } from "fast-xml-parser";
import { axisEnd, LAYOUT, ratioChart, wrap } from "./_svg.ts";

const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: "" });
// deno-lint-ignore no-explicit-any
type Node = any;
const list = (v: Node): Node[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

function parse(svg: string): Node {
  assert.equal(XMLValidator.validate(svg), true);
  return parser.parse(svg).svg;
}

Deno.test("ratioChart: bars, whiskers, 1.0× line and goals at the x that first principles give", () => {
  // Width 1000: the plot spans x = 300 … 850 (labelWidth 300, rightMargin 150), 550 px for 0…2×,
  // so a ratio r sits at 300 + r * 275.
  assert.equal(LAYOUT.labelWidth, 300);
  assert.equal(LAYOUT.rightMargin, 150);
  const svg = ratioChart({
    title: "t",
    caption: "2 cores, load 4–6",
    width: 1000,
    axisMax: 2,
    rows: [
      { label: "a", median: 0.5, min: 0.4, max: 0.8, goal: { value: 0.4, better: "higher" } },
      { label: "b", median: 1.5, min: 1.2, max: 2, goal: { value: 1.3, better: "lower" } },
      { label: "c", median: 1, min: 1, max: 1 },
    ],
  });
  const root = parse(svg);
  const bars = list(root.rect).filter((r: Node) => r.class === "bar");
  assert.deepEqual(bars.map((b: Node) => Number(b.x)), [300, 300, 300]);
  assert.deepEqual(bars.map((b: Node) => Number(b.width)), [137.5, 412.5, 275]);
  // Goal met: green; missed: red; no goal: grey.
  assert.deepEqual(bars.map((b: Node) => b.fill), ["#2e7d32", "#c62828", "#546e7a"]);
  const whiskers = list(root.g).filter((g: Node) => g.class === "whisker");
  const spans = whiskers.map((g: Node) => {
    const line = list(g.line)[0];
    return [Number(line.x1), Number(line.x2)];
  });
  assert.deepEqual(spans, [[410, 520], [630, 850], [575, 575]]);
  const lines = list(root.line);
  const baseline = lines.filter((l: Node) => l.class === "baseline");
  assert.equal(baseline.length, 1);
  assert.equal(Number(baseline[0].x1), 575);
  const goals = lines.filter((l: Node) => l.class === "goal");
  assert.deepEqual(goals.map((l: Node) => Number(l.x1)), [410, 657.5]);
  assert.ok(goals.every((l: Node) => l["stroke-dasharray"]));
  const labels = list(root.text).filter((t: Node) => t.class === "label");
  assert.deepEqual(labels.map((t: Node) => String(t["#text"])), ["a", "b", "c"]);
  const values = list(root.text).filter((t: Node) => t.class === "value");
  assert.deepEqual(values.map((t: Node) => t["#text"]), [
    "0.50× (0.40–0.80)",
    "1.50× (1.20–2.00)",
    "1.00×",
  ]);
  assert.equal(root.title, "t");
  const caption = list(root.text).filter((t: Node) => t.class === "caption");
  assert.equal(caption[0]["#text"], "2 cores, load 4–6");
});

Deno.test("ratioChart: markup in labels and captions is escaped, the document stays well-formed", () => {
  const svg = ratioChart({
    title: `a <b> & "c"`,
    caption: "x < y & 'z'",
    rows: [{ label: "`consume | produce` <&>", median: 0.3, min: 0.2, max: 0.4 }],
  });
  const root = parse(svg);
  assert.equal(root.title, `a <b> & "c"`);
  assert.equal(root["aria-label"], `a <b> & "c"`);
  const texts = list(root.text);
  assert.equal(texts.find((t: Node) => t.class === "label")["#text"], "`consume | produce` <&>");
  assert.equal(texts.find((t: Node) => t.class === "caption")["#text"], "x < y & 'z'");
  assert.ok(!svg.includes("<b>"));
  assert.ok(!svg.includes("& "));
});

Deno.test("axisEnd: covers every value, goal and 1.0×, on a tick", () => {
  assert.equal(axisEnd([{ label: "", median: 0.3, min: 0.2, max: 0.4 }]), 1.25);
  assert.equal(axisEnd([{ label: "", median: 3.8, min: 2.75, max: 10.21 }]), 12);
  assert.equal(
    axisEnd([{ label: "", median: 0.3, min: 0.2, max: 0.4, goal: { value: 3, better: "higher" } }]),
    3.5,
  );
});

Deno.test("wrap: lines at most the width, no word lost", () => {
  const text = "2 cores shared with about eight other sessions, load average 6–24, 2026-12-02";
  const lines = wrap(text, 20);
  assert.ok(lines.every((l) => l.length <= 20));
  assert.equal(lines.join(" "), text);
});

Deno.test("ratioChart: a long label widens the label column instead of being cut", () => {
  // 60 characters at 6.8 px each, plus 16 px of padding: the plot starts at x = 424.
  const label = "x".repeat(60);
  const root = parse(
    ratioChart({ title: "t", caption: "", rows: [{ label, median: 1, min: 1, max: 1 }] }),
  );
  const bar = list(root.rect).find((r: Node) => r.class === "bar");
  assert.equal(Number(bar.x), 424);
  // Default width: label column + 410 px of plot + 150 px right margin.
  assert.equal(Number(root.width), 424 + 410 + 150);
});
