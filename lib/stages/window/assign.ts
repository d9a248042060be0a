/**
 * Which windows an event time belongs to. Windows are half-open `[start, end)` in epoch ms and
 * aligned to the epoch (plus an optional offset), as in Flink: a 1h tumbling window starts on the
 * hour, UTC.
 *
 * @module
 */

/** How a window stage cuts time. */
export type WindowShape =
  | { kind: "tumbling"; size: number; offset?: number }
  | { kind: "sliding"; size: number; slide: number; offset?: number }
  | { kind: "session"; gap: number }
  | { kind: "count"; size: number };

/** Floor of `t` to a multiple of `step` counted from `offset`. */
export function alignDown(t: number, step: number, offset = 0): number {
  return Math.floor((t - offset) / step) * step + offset;
}

/**
 * Starts of the time windows of `shape` that contain `t`, latest first (session and count
 * windows are per key and are not assigned up front: they return `[t]`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { windowStarts } from "./assign.ts";
 * assert.ok(windowStarts({ kind: "tumbling", size: 10 }, 25).join() === "20");
 * assert.ok(windowStarts({ kind: "sliding", size: 10, slide: 5 }, 25).join() === "25,20");
 * ```
 */
export function windowStarts(shape: WindowShape, t: number, into: number[] = []): number[] {
  into.length = 0;
  switch (shape.kind) {
    case "tumbling":
      into.push(alignDown(t, shape.size, shape.offset));
      break;
    case "sliding":
      for (
        let start = alignDown(t, shape.slide, shape.offset);
        start > t - shape.size;
        start -= shape.slide
      ) into.push(start);
      break;
    default:
      into.push(t);
  }
  return into;
}

/** Length of the windows of a fixed-size shape (sessions: the gap). */
export function windowSize(shape: WindowShape): number {
  switch (shape.kind) {
    case "tumbling":
    case "sliding":
      return shape.size;
    case "session":
      return shape.gap;
    case "count":
      return 1;
  }
}
