import assert from "node:assert/strict";
import fc from "fast-check";
import { compileEncoder, utcHour, utcWeekday } from "./encode_features.ts";
import { FeatureError } from "./errors.ts";
import { modelSpecSchema } from "./model_spec.ts";

const spec = modelSpecSchema.parse({
  name: "t",
  version: "1",
  input: { name: "x" },
  features: [
    {
      name: "hour",
      path: "eventTime",
      transform: "hourOfDay",
      kind: "categorical",
      vocabulary: Array.from({ length: 24 }, (_, h) => String(h)),
    },
    { name: "weekday", path: "eventTime", transform: "dayOfWeek", kind: "numeric" },
    {
      name: "distance",
      path: "value.distance",
      kind: "numeric",
      scale: { kind: "standard", mean: 700, std: 500 },
    },
    {
      name: "load",
      path: "value.load",
      kind: "numeric",
      default: 0.5,
      scale: { kind: "minmax", min: 0, max: 2 },
    },
    {
      name: "origin",
      path: "value.origin",
      kind: "categorical",
      vocabulary: ["SFO", "LAX", "JFK"],
      unknown: "ignore",
    },
    {
      name: "carrier",
      path: "value.carrier",
      kind: "categorical",
      encoding: "label",
      vocabulary: ["AA", "UA"],
      default: "UA",
    },
    { name: "depth", path: "value.coords.2", kind: "numeric", default: -1 },
  ],
  outputs: [{ name: "y", kind: "value" }],
});
const compiled = compileEncoder(spec);
const { encode, columns } = compiled;

function encoded(event: Record<string, unknown>, line?: number): number[] {
  const row = new Float32Array(columns + 2).fill(9);
  encode(event as never, row, 1, { position: 7, line, id: event.id as string | undefined });
  assert.equal(row[0], 9, "wrote before its offset");
  assert.equal(row[columns + 1], 9, "wrote past its row");
  return [...row.subarray(1, columns + 1)];
}

const base = {
  id: "e1",
  eventTime: Date.UTC(2001, 4, 7, 7, 15), // a Monday
  value: { distance: 1200, load: 1, origin: "LAX", carrier: "AA", coords: [1, 2, 33] },
};

Deno.test("encodes every feature kind into its columns", () => {
  assert.equal(columns, 24 + 1 + 1 + 1 + 3 + 1 + 1);
  const row = encoded(base);
  const hour = row.slice(0, 24);
  assert.deepEqual(hour.map((v, i) => (v === 1 ? i : -1)).filter((i) => i >= 0), [7]);
  assert.equal(row[24], 1, "Monday is weekday 1 (0 = Sunday)");
  assert.ok(Math.abs(row[25] - (1200 - 700) / 500) < 1e-6);
  assert.ok(Math.abs(row[26] - 0.5) < 1e-6);
  assert.deepEqual(row.slice(27, 30), [0, 1, 0]);
  assert.equal(row[30], 0, "label encoding is the vocabulary index");
  assert.equal(row[31], 33, "dotted paths index arrays");
});

Deno.test("missing values take the spec's defaults", () => {
  const row = encoded({ ...base, value: { distance: 700, origin: "SFO" } });
  assert.ok(Math.abs(row[26] - 0.25) < 1e-6, "load default 0.5 scaled by minmax [0,2]");
  assert.equal(row[30], 1, "carrier default UA");
  assert.equal(row[31], -1, "depth default");
  assert.deepEqual(row.slice(27, 30), [1, 0, 0]);
});

Deno.test("an unknown category is all zeros with unknown: ignore, -1 with label encoding", () => {
  const row = encoded({ ...base, value: { ...base.value, origin: "XXX" } });
  assert.deepEqual(row.slice(27, 30), [0, 0, 0]);
  const labelSpec = modelSpecSchema.parse({
    ...spec,
    features: [{
      name: "c",
      path: "value.c",
      kind: "categorical",
      encoding: "label",
      vocabulary: ["a"],
      unknown: "ignore",
    }],
  });
  const out = new Float32Array(1);
  compileEncoder(labelSpec).encode({ value: { c: "zzz" } }, out, 0, { position: 1 });
  assert.equal(out[0], -1);
});

function rejects(event: Record<string, unknown>, pattern: RegExp, line?: number) {
  assert.throws(() => encoded(event, line), (err: unknown) => {
    assert.ok(err instanceof FeatureError, `expected FeatureError, got ${err}`);
    assert.match(err.message, pattern);
    assert.equal(err.message.split("\n").length, 1, "one line");
    return true;
  });
}

Deno.test("bad input names the event and the field", () => {
  rejects(
    { ...base, value: { ...base.value, distance: "abc" } },
    /^line 12: event 'e1': feature 'distance' \(value\.distance\): expected a number, got string "abc"$/,
    12,
  );
  rejects(
    { ...base, value: { ...base.value, distance: undefined } },
    /event 'e1': feature 'distance' \(value.distance\): missing \(no default\)/,
  );
  rejects(
    { ...base, value: { ...base.value, distance: NaN } },
    /distance.*NaN is not a finite number/,
  );
  rejects(
    { ...base, value: { ...base.value, distance: Infinity } },
    /Infinity is not a finite number/,
  );
  rejects(
    { ...base, value: { ...base.value, distance: true } },
    /expected a number, got boolean true/,
  );
  rejects(
    { ...base, value: { ...base.value, carrier: "ZZ" } },
    /feature 'carrier' \(value.carrier\): unknown category "ZZ" \(not in its 2-entry vocabulary\)/,
  );
  rejects({ ...base, value: { ...base.value, carrier: { a: 1 } } }, /carrier.*got an object/);
  rejects(
    { ...base, eventTime: "2001-05-07" },
    /feature 'hour' \(eventTime\): hourOfDay needs a timestamp/,
  );
  rejects({ ...base, id: undefined, eventTime: undefined }, /^event #7: feature 'hour'.*missing/);
});

Deno.test("hour and weekday follow UTC day arithmetic for any timestamp", () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 4_102_444_800_000 }), (ms) => {
      const row = encoded({ ...base, eventTime: ms });
      const hour = Math.floor(ms / 3_600_000) % 24;
      const weekday = (Math.floor(ms / 86_400_000) + 4) % 7; // 1 January 1970 was a Thursday
      return row.slice(0, 24).indexOf(1) === hour && row[24] === weekday &&
        row.slice(0, 24).reduce((a, b) => a + b) === 1;
    }),
  );
});

Deno.test("a failed row leaves the previous rows intact", () => {
  const out = new Float32Array(columns * 2);
  encode(base as never, out, 0, { position: 1 });
  const first = [...out.subarray(0, columns)];
  assert.throws(() =>
    encode({ ...base, value: { ...base.value, distance: "x" } } as never, out, 0 + columns, {
      position: 2,
    })
  );
  assert.deepEqual([...out.subarray(0, columns)], first);
});

Deno.test("utcHour and utcWeekday agree with Date for any time value, fractional, negative or out of range", () => {
  const check = (ms: number) => {
    const when = new Date(ms);
    assert.ok(Object.is(utcHour(ms), when.getUTCHours()), `hour of ${ms}`);
    assert.ok(Object.is(utcWeekday(ms), when.getUTCDay()), `weekday of ${ms}`);
  };
  for (
    const ms of [0, -0, -0.5, 0.5, -1, -3_600_000, -86_400_001, 8.64e15, -8.64e15, 8.64e15 + 1]
  ) {
    check(ms);
  }
  check(Number.MAX_SAFE_INTEGER);
  fc.assert(fc.property(fc.double({ min: -9e15, max: 9e15, noNaN: true }), (ms) => {
    check(ms);
    return true;
  }));
  fc.assert(fc.property(fc.integer({ min: -8.64e15, max: 8.64e15 }), (ms) => {
    check(ms);
    return true;
  }));
});

Deno.test('a timestamp a Date cannot hold is the category "NaN" or a NaN error', () => {
  rejects({ ...base, eventTime: 9e15 }, /feature 'hour' \(eventTime\): unknown category "NaN"/);
  const weekdayOnly = compileEncoder({
    features: [{ name: "weekday", path: "eventTime", transform: "dayOfWeek", kind: "numeric" }],
  });
  assert.throws(
    () =>
      weekdayOnly.encode({ eventTime: -9e15, value: {} }, new Float32Array(1), 0, { position: 1 }),
    /feature 'weekday' \(eventTime\): NaN is not a finite number/,
  );
});

Deno.test("the sparse form sets the same row as the full form and records every 1 it sets", () => {
  const events = [
    base,
    { ...base, value: { distance: 700, origin: "SFO" } },
    { ...base, value: { ...base.value, origin: "XXX" } },
    { ...base, eventTime: Date.UTC(1969, 11, 31, 23, 59) },
  ];
  const full = new Float32Array(columns * events.length);
  const sparse = new Float32Array(columns * events.length);
  const marks = new Int32Array(events.length * 2);
  let marked = 0;
  for (const [row, event] of events.entries()) {
    encode(event as never, full, row * columns, { position: row + 1 });
    marked = compiled.encodeSparse(
      event as never,
      sparse,
      row * columns,
      marks,
      marked,
    );
  }
  assert.deepEqual([...sparse], [...full]);
  assert.equal(compiled.marksPerRow, 2);
  for (let i = 0; i < marked; i++) sparse[marks[i]] = 0;
  assert.ok(
    [...sparse].every((v, i) => {
      const column = i % columns;
      return column < 24 || (column >= 27 && column < 30) ? v === 0 : true;
    }),
    "resetting the marks zeroes every one-hot column",
  );
});

Deno.test("names, paths and vocabularies are data, never code", () => {
  const hostile = 'x\u2028y"); throw new Error("injected"); //\n*/ `${1}`';
  const weird = compileEncoder({
    features: [
      { name: hostile, path: `value.${hostile}.n`, kind: "numeric", default: 1 },
      {
        name: "c",
        path: `value.${hostile}.c`,
        kind: "categorical",
        encoding: "one-hot",
        vocabulary: [hostile, "__proto__", "constructor"],
        unknown: "ignore",
      },
    ],
  });
  const row = new Float32Array(weird.columns);
  const put = (inner: Record<string, unknown>) => {
    weird.encode({ value: { [hostile]: inner } }, row, 0, { position: 1 });
    return [...row];
  };
  assert.deepEqual(put({ n: 2, c: hostile }), [2, 1, 0, 0]);
  assert.deepEqual(put({ c: "constructor" }), [1, 0, 0, 1]);
  assert.deepEqual(put({ c: "__proto__" }), [1, 0, 1, 0]);
  assert.deepEqual(put({ c: "toString" }), [1, 0, 0, 0]);
});
