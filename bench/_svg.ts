/**
 * A tiny dependency-free SVG writer for the one chart the benchmarks need: a horizontal bar chart
 * of ratios against a baseline. One bar per row at the median, a whisker for the min–max range over
 * the rounds, a solid vertical line at 1.0× (the baseline), a dashed mark at the row's goal when it
 * has one, a title, row labels, and the machine state as a caption.
 *
 * ```ts
 * import { ratioChart } from "./_svg.ts";
 * const svg = ratioChart({
 *   title: "consume vs pulsar-perf",
 *   caption: "2 cores, load 4–6",
 *   rows: [{ label: "1 KiB", median: 0.48, min: 0.44, max: 0.88, goal: { value: 1, better: "higher" } }],
 * });
 * ```
 *
 * @module
 */

/** A goal for a row: the ratio to reach, and which side of it is good. */
export interface Goal {
  value: number;
  better: "higher" | "lower";
}

/** One bar: a ratio's median and its range over the rounds. */
export interface RatioRow {
  label: string;
  median: number;
  min: number;
  max: number;
  goal?: Goal;
}

/** What to draw. `axisMax` defaults to the smallest tick step multiple above every value. */
export interface RatioChart {
  title: string;
  caption: string;
  rows: RatioRow[];
  /** Total width in px (default: the label column, 410 px of plot and the right margin). */
  width?: number;
  axisMax?: number;
}

/** The fixed geometry, exported so that tests can compute positions from first principles. */
export const LAYOUT = {
  /** The label column's least width; wider for longer labels, at `charWidth` px a character. */
  labelWidth: 300,
  charWidth: 6.8,
  plotWidth: 410,
  rightMargin: 150,
  titleHeight: 40,
  rowHeight: 26,
  barHeight: 14,
  axisHeight: 30,
  captionLine: 15,
  captionChars: 120,
} as const;

const COLOURS = { met: "#2e7d32", missed: "#c62828", none: "#546e7a" };

/** Escapes text for an XML attribute or text node. */
export function escapeXml(text: string): string {
  const names: Record<string, string> = {
    "&": "&amp;",
    "<": "&lt;",
    ">": "&gt;",
    '"': "&quot;",
    "'": "&apos;",
  };
  return text.replace(/[&<>"']/g, (c) => names[c]);
}

/** The tick step for an axis that ends at or above `top`. */
export function tickStep(top: number): number {
  if (top <= 1.5) return 0.25;
  if (top <= 4) return 0.5;
  if (top <= 10) return 1;
  if (top <= 20) return 2;
  return 10;
}

/** The axis end: the first multiple of the tick step at or above 1.0, every value and every goal. */
export function axisEnd(rows: RatioRow[]): number {
  const top = Math.max(1, ...rows.flatMap((r) => [r.max, r.median, r.goal?.value ?? 0]));
  const step = tickStep(top * 1.05);
  return Math.ceil((top * 1.05) / step) * step;
}

/** Whether a row's median meets its goal (undefined without a goal). */
export function meetsGoal(row: RatioRow): boolean | undefined {
  if (!row.goal) return undefined;
  return row.goal.better === "higher" ? row.median >= row.goal.value : row.median <= row.goal.value;
}

/** `0.48× (0.44–0.88)`, or `2.90×` when the range is a single value. */
export function ratioText(row: RatioRow): string {
  const f = (n: number) => n.toFixed(2);
  return row.min === row.max && row.min === row.median
    ? `${f(row.median)}×`
    : `${f(row.median)}× (${f(row.min)}–${f(row.max)})`;
}

/** Splits a caption into lines of at most `width` characters, at spaces. */
export function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}

/** The SVG document of a ratio chart. */
export function ratioChart(chart: RatioChart): string {
  const L = LAYOUT;
  const longest = Math.max(0, ...chart.rows.map((r) => r.label.length));
  const labelWidth = Math.max(L.labelWidth, Math.ceil(longest * L.charWidth) + 16);
  const width = chart.width ?? labelWidth + L.plotWidth + L.rightMargin;
  const plotWidth = width - labelWidth - L.rightMargin;
  const end = chart.axisMax ?? axisEnd(chart.rows);
  const x = (ratio: number) => labelWidth + (Math.min(ratio, end) / end) * plotWidth;
  const plotTop = L.titleHeight;
  const plotBottom = plotTop + chart.rows.length * L.rowHeight;
  const caption = wrap(chart.caption, L.captionChars);
  const legendY = plotBottom + L.axisHeight + 4;
  const height = legendY + 8 + (caption.length + 1) * L.captionLine;
  const out: string[] = [];
  const n = (v: number) => Number(v.toFixed(2));
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" ` +
      `viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeXml(chart.title)}" ` +
      `font-family="sans-serif" font-size="12">`,
    `<title>${escapeXml(chart.title)}</title>`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${width / 2}" y="24" text-anchor="middle" font-size="15" font-weight="bold">${
      escapeXml(chart.title)
    }</text>`,
  );
  const step = tickStep(end);
  for (let t = 0; t <= end + 1e-9; t += step) {
    const tx = n(x(t));
    out.push(
      `<line class="tick" x1="${tx}" y1="${plotTop}" x2="${tx}" y2="${plotBottom}" ` +
        `stroke="#e0e0e0"/>`,
      `<text x="${tx}" y="${plotBottom + 16}" text-anchor="middle" fill="#424242">${n(t)}×</text>`,
    );
  }
  chart.rows.forEach((row, i) => {
    const top = plotTop + i * L.rowHeight;
    const mid = top + L.rowHeight / 2;
    const met = meetsGoal(row);
    const colour = met === undefined ? COLOURS.none : met ? COLOURS.met : COLOURS.missed;
    const [x0, xm, xa, xb] = [x(0), x(row.median), x(row.min), x(row.max)].map(n);
    out.push(
      `<text class="label" x="${labelWidth - 8}" y="${mid + 4}" text-anchor="end">${
        escapeXml(row.label)
      }</text>`,
      `<rect class="bar" data-median="${row.median}" x="${x0}" y="${mid - L.barHeight / 2}" ` +
        `width="${n(xm - x0)}" height="${L.barHeight}" fill="${colour}" fill-opacity="0.8"/>`,
      `<g class="whisker" data-min="${row.min}" data-max="${row.max}" stroke="#212121">` +
        `<line x1="${xa}" y1="${mid}" x2="${xb}" y2="${mid}"/>` +
        `<line x1="${xa}" y1="${mid - 5}" x2="${xa}" y2="${mid + 5}"/>` +
        `<line x1="${xb}" y1="${mid - 5}" x2="${xb}" y2="${mid + 5}"/></g>`,
      `<text class="value" x="${n(Math.max(xm, xb) + 6)}" y="${mid + 4}" fill="#212121">${
        escapeXml(ratioText(row))
      }</text>`,
    );
    if (row.goal) {
      const gx = n(x(row.goal.value));
      out.push(
        `<line class="goal" data-goal="${row.goal.value}" x1="${gx}" y1="${top + 2}" x2="${gx}" ` +
          `y2="${top + L.rowHeight - 2}" stroke="#ef6c00" stroke-width="2" ` +
          `stroke-dasharray="4 3"/>`,
      );
    }
  });
  const one = n(x(1));
  out.push(
    `<line class="baseline" x1="${one}" y1="${plotTop - 4}" x2="${one}" y2="${plotBottom}" ` +
      `stroke="#000000" stroke-width="1.5"/>`,
    `<text class="legend" x="12" y="${legendY + 8}" font-size="11" fill="#424242">bar: median ` +
      `of the per-round ratios · whisker: min–max · black line: 1.0× (the baseline) · ` +
      `dashed orange: goal (green bar: met, red: missed)</text>`,
  );
  caption.forEach((line, i) => {
    out.push(
      `<text class="caption" x="12" y="${legendY + 8 + (i + 1) * L.captionLine}" ` +
        `font-size="11" fill="#616161">${escapeXml(line)}</text>`,
    );
  });
  out.push("</svg>");
  return out.join("\n") + "\n";
}
