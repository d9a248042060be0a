import assert from "node:assert/strict";
import fc from "fast-check";
import { alignDown, windowStarts } from "./assign.ts";

Deno.test("property: a tumbling window holds its event and is aligned", () => {
  fc.assert(fc.property(
    fc.integer({ min: 1, max: 1e7 }),
    fc.nat(),
    fc.integer({ min: -1e12, max: 1e12 }),
    (size, rawOffset, t) => {
      const offset = rawOffset % size;
      const [start, ...rest] = windowStarts({ kind: "tumbling", size, offset }, t);
      assert.equal(rest.length, 0);
      assert.ok(start <= t && t < start + size);
      assert.equal(((start - offset) % size + size) % size, 0);
    },
  ));
});

Deno.test("property: sliding windows are exactly the aligned windows holding the event", () => {
  fc.assert(fc.property(
    fc.integer({ min: 1, max: 1000 }),
    fc.integer({ min: 1, max: 20 }),
    fc.nat(),
    fc.integer({ min: -1e9, max: 1e9 }),
    (slide, factor, rawOffset, t) => {
      const size = slide + ((factor * 37) % (slide * factor)); // slide <= size, not always a multiple
      const offset = rawOffset % slide;
      const got = windowStarts({ kind: "sliding", size, slide, offset }, t);
      const expected: number[] = [];
      const top = Math.floor((t - offset) / slide) + 1;
      for (let m = Math.floor((t - size - offset) / slide) - 1; m <= top; m++) {
        const s = offset + m * slide;
        if (s <= t && t < s + size) expected.push(s);
      }
      assert.deepEqual([...got].sort((a, b) => a - b), expected);
      assert.equal(got[0], alignDown(t, slide, offset)); // latest first
    },
  ));
});
