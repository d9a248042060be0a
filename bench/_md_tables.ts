/**
 * Reads the Markdown tables of the recorded results (`bench/*_results.md`) back: every table with
 * the heading it sits under and the line that introduces it, and the `0.48× (0.44–0.88)` ratio and
 * `≥ 1.0×` goal cells the benchmarks print.
 *
 * @module
 */
import type { Goal, RatioRow } from "./_svg.ts";

/** One Markdown table: the `##` heading above it, the prose line just before it, its cells. */
export interface MdTable {
  heading: string;
  intro: string;
  header: string[];
  rows: string[][];
}

/** A ratio cell: median and range (min = max = median for a bare `2.90×`). */
export interface RatioCell {
  median: number;
  min: number;
  max: number;
}

const NUM = String.raw`(\d+(?:\.\d+)?)`;
const RATIO = new RegExp(String.raw`^${NUM}×(?:\s*\(${NUM}\s*[–-]\s*${NUM}\))?$`);
const GOAL = new RegExp(String.raw`^([≥≤])\s*${NUM}×$`);

/** `0.48× (0.44–0.88)` → {0.48, 0.44, 0.88}; `2.90×` → {2.9, 2.9, 2.9}; anything else undefined. */
export function parseRatio(cell: string): RatioCell | undefined {
  const m = RATIO.exec(cell.trim());
  if (!m) return undefined;
  const median = Number(m[1]);
  return m[2] === undefined
    ? { median, min: median, max: median }
    : { median, min: Number(m[2]), max: Number(m[3]) };
}

/** `≥ 1.0×` → higher is better, `≤ 1.3×` → lower is better; anything else undefined. */
export function parseGoal(cell: string): Goal | undefined {
  const m = GOAL.exec(cell.trim());
  if (!m) return undefined;
  return { value: Number(m[2]), better: m[1] === "≥" ? "higher" : "lower" };
}

function cells(line: string): string[] {
  // A `\|` inside a cell is an escaped pipe, not a column boundary.
  return line.trim().replace(/^\|/, "").replace(/\|$/, "").split(/(?<!\\)\|/)
    .map((c) => c.trim().replace(/\\\|/g, "|"));
}

/** Every table outside code fences, in document order. */
export function markdownTables(markdown: string): MdTable[] {
  const tables: MdTable[] = [];
  let heading = "";
  let intro = "";
  let fenced = false;
  let current: MdTable | undefined;
  for (const line of markdown.split("\n")) {
    if (line.startsWith("```")) fenced = !fenced;
    if (fenced || line.startsWith("```")) {
      current = undefined;
      continue;
    }
    const isRow = line.trimStart().startsWith("|");
    if (!isRow) {
      current = undefined;
      if (line.startsWith("#")) {
        heading = line.replace(/^#+\s*/, "");
        intro = "";
      } else if (line.trim()) intro = line.trim();
      continue;
    }
    if (!current) {
      current = { heading, intro, header: cells(line), rows: [] };
      tables.push(current);
    } else if (!/^\|[\s:|-]+\|?$/.test(line.trim())) current.rows.push(cells(line));
  }
  return tables;
}

/** How to turn a table into chart rows. */
export interface RowsOptions {
  /** The column of row labels (default 0). */
  labelColumn?: number;
  /** Names shown for the ratio columns when a table has more than one (header → name). */
  seriesNames?: Record<string, string>;
}

/**
 * The chart rows of a table: one per row and ratio column (a column with a ratio cell), the goal
 * from a `goal` column when there is one. Bare `1.00×` cells (the baseline against itself) and
 * empty cells are left out.
 */
export function ratioRows(
  table: Pick<MdTable, "header" | "rows">,
  options: RowsOptions = {},
): RatioRow[] {
  const labelColumn = options.labelColumn ?? 0;
  const goalColumn = table.header.findIndex((h) => h.toLowerCase() === "goal");
  const ratioColumns = table.header.map((_, i) => i).filter((i) =>
    i !== labelColumn && i !== goalColumn && table.rows.some((r) => parseRatio(r[i] ?? ""))
  );
  const out: RatioRow[] = [];
  for (const row of table.rows) {
    for (const i of ratioColumns) {
      const cell = row[i] ?? "";
      const ratio = parseRatio(cell);
      if (!ratio || cell.trim() === "1.00×") continue;
      const series = options.seriesNames?.[table.header[i]] ?? table.header[i];
      const label = row[labelColumn].replace(/`/g, "");
      const goal = goalColumn >= 0 ? parseGoal(row[goalColumn] ?? "") : undefined;
      out.push({
        label: ratioColumns.length > 1 ? `${label}: ${series}` : label,
        ...ratio,
        ...(goal ? { goal } : {}),
      });
    }
  }
  return out;
}
