/**
 * Window state ⇄ checkpoint: one row per window, stored column by column. Numbers (start, end,
 * count, flags and numeric accumulator slots) are float64 columns; keys and list-valued slots
 * (quantile samples, distinct sets, first/last values) are JSON arrays. Rows keep the order of
 * the live state, so a restored operator behaves exactly as the one that was saved.
 *
 * @module
 */
import type { CheckpointData } from "../../checkpoint/format.ts";
import { CheckpointFormatError } from "../../checkpoint/format.ts";
import { newNum, newObj } from "./aggregates.ts";
import { progressOf, type StageProgress } from "../keyed/progress.ts";
import { checkConfig as checkStageConfig } from "../keyed/stateful_options.ts";
import type { Win, WindowOperator } from "./operator.ts";

export type { StageProgress } from "../keyed/progress.ts";

/** The checkpoint kind of window stages. */
export const WINDOW_KIND = "edgepipe.window";

const FIXED_COLUMNS = 5; // start, end, n, fired, early

/**
 * Captures the operator's state and the stage's progress. `config` identifies the settings; a
 * checkpoint is only restored under the same settings.
 */
export function snapshotWindows(
  op: WindowOperator,
  progress: StageProgress,
  config: string,
): CheckpointData {
  const count = op.windowCount;
  const { numSlots, objSlots } = op.spec;
  const keys: string[] = new Array(count);
  const numeric: Float64Array[] = [];
  for (let i = 0; i < FIXED_COLUMNS + numSlots; i++) numeric.push(new Float64Array(count));
  const objects: unknown[][] = [];
  for (let i = 0; i < objSlots; i++) objects.push(new Array(count));
  let row = 0;
  for (const wins of op.byKey.values()) {
    for (const w of wins) {
      keys[row] = w.key;
      numeric[0][row] = w.start;
      numeric[1][row] = w.end;
      numeric[2][row] = w.n;
      numeric[3][row] = w.fired ? 1 : 0;
      numeric[4][row] = w.early;
      const num = w.num;
      for (let s = 0; s < numSlots; s++) numeric[FIXED_COLUMNS + s][row] = num[s];
      for (let s = 0; s < objSlots; s++) {
        const v = w.obj![s];
        objects[s][row] = v instanceof Set ? [...v] : v;
      }
      row++;
    }
  }
  return {
    json: {
      kind: WINDOW_KIND,
      config,
      watermark: Number.isFinite(op.watermark) ? op.watermark : null,
      maxTime: Number.isFinite(op.maxTime) ? op.maxTime : null,
      ...(op.watermarks ? { partitions: op.watermarks.snapshot() } : {}),
      ...progress,
      windows: count,
      keys,
      jsonSlots: objects,
    },
    columns: numeric,
  };
}

/** Throws unless `data` was written with the same `config`. */
export function checkConfig(data: CheckpointData, config: string): void {
  checkStageConfig(data, config, "window");
}

/** Loads a snapshot into a fresh operator and returns the stage's progress. */
export function restoreWindows(op: WindowOperator, data: CheckpointData): StageProgress {
  const json = data.json as unknown as StageProgress & {
    watermark: number | null;
    maxTime: number | null;
    partitions?: Record<string, number>;
    windows: number;
    keys: string[];
    jsonSlots: unknown[][];
  };
  const { numSlots, objSlots } = op.spec;
  const [start, end, n, fired, early] = data.columns;
  const numericSlots = data.columns.slice(FIXED_COLUMNS);
  const distinct = new Set(
    op.spec.aggregates.filter((a) => a.kind === "distinct" && a.read).map((a) => a.objSlot),
  );
  if (
    json.keys.length !== json.windows || start.length !== json.windows ||
    numericSlots.length !== numSlots || json.jsonSlots.length !== objSlots
  ) {
    throw new CheckpointFormatError("window rows do not match");
  }
  op.watermark = json.watermark ?? -Infinity;
  op.maxTime = json.maxTime ?? -Infinity;
  if (json.partitions !== undefined) op.watermarks?.restore(json.partitions);
  for (let row = 0; row < json.windows; row++) {
    const num = newNum(op.spec);
    for (let s = 0; s < numSlots; s++) num[s] = numericSlots[s][row];
    const obj = newObj(op.spec);
    if (obj !== undefined) {
      for (let s = 0; s < objSlots; s++) {
        const v = json.jsonSlots[s][row];
        obj[s] = distinct.has(s) ? new Set(v as unknown[]) : v;
      }
    }
    const win: Win = {
      key: json.keys[row],
      start: start[row],
      end: end[row],
      n: n[row],
      num,
      obj,
      fired: fired[row] === 1,
      dead: false,
      early: early[row],
      ids: undefined,
    };
    op.restoreWindow(win);
  }
  return progressOf(data.json);
}
