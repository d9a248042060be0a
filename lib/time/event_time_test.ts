import assert from "node:assert/strict";
import fc from "fast-check";
import { InputError } from "../errors.ts";
import { EventTimeError, MAX_EVENT_TIME, parseEventTime } from "./event_time.ts";

// References: Python's datetime (`datetime(2001, 3, 12, 6, tzinfo=timezone.utc).timestamp()`) and
// the ECMAScript spec's range ends (±8.64e15 ms is +275760-09-13 / -271821-04-20, midnight UTC).
const KNOWN: [string, number][] = [
  ["2001-03-12T06:00", 984376800000],
  ["2001-03-12T06:00Z", 984376800000],
  ["2001-03-12 06:00:00", 984376800000],
  ["2001-03-12T06:00:00.000Z", 984376800000],
  ["2001-03-12T01:00-05:00", 984376800000],
  ["2001-03-12T15:00+0900", 984376800000],
  ["2001-03-12T15:00+09", 984376800000],
  ["2001-03-12", 984355200000],
  ["2001-03-12T06:00:00.5", 984376800500],
  ["2001-03-12T06:00:00.123456789Z", 984376800123],
  ["2000-02-29T12:00:00Z", 951825600000],
  ["1969-12-31T23:59:59.999Z", -1],
  ["1970-01-01T00:00:00Z", 0],
  ["0001-01-01T00:00:00Z", -62135596800000],
  ["9999-12-31T23:59:59Z", 253402300799000],
  ["2001-03-11T24:00:00", 984355200000],
  ["+275760-09-13T00:00:00Z", 8.64e15],
  ["-271821-04-20T00:00:00Z", -8.64e15],
  ["978307260000", 978307260000],
  [" 978307260000 ", 978307260000],
  ["-5", -5],
];

Deno.test("parseEventTime reads ISO-8601 without an offset as UTC, with one as given", () => {
  for (const [text, ms] of KNOWN) assert.equal(parseEventTime(text), ms, text);
});

Deno.test("parseEventTime takes numbers, bigints and Dates as epoch milliseconds", () => {
  assert.equal(parseEventTime(978307260000), 978307260000);
  assert.equal(parseEventTime(-1.5), -1.5);
  assert.equal(parseEventTime(12n), 12);
  assert.equal(parseEventTime(new Date(5)), 5);
  assert.equal(parseEventTime(MAX_EVENT_TIME), 8.64e15);
  assert.equal(parseEventTime(-MAX_EVENT_TIME), -8.64e15);
});

Deno.test("parseEventTime refuses what is not an event time, with a typed error", () => {
  const bad: unknown[] = [
    "yesterday",
    "",
    "2001-13-01T00:00",
    "2001-02-29T00:00",
    "2001-04-31",
    "2001-03-12T25:00",
    "2001-03-12T24:00:01",
    "2001-03-12T06:60",
    "2001-03-12T06:00:61",
    "2001-03-12T06:00+24:00",
    "2001-03-12T06",
    "2001-3-12",
    "12 Mar 2001 06:00",
    "2001/03/12 06:00",
    "-000000-01-01T00:00Z",
    null,
    true,
    {},
    [],
    Number.NaN,
    Infinity,
    new Date(Number.NaN),
  ];
  for (const value of bad) {
    assert.throws(() => parseEventTime(value), (err) => {
      assert.ok(err instanceof EventTimeError, String(value));
      assert.ok(err instanceof InputError);
      assert.match(err.message, /^event time .*: expected epoch milliseconds|an invalid Date/);
      return true;
    });
  }
});

Deno.test("parseEventTime refuses times outside the representable range", () => {
  for (
    const value of [
      1e308,
      -1e308,
      MAX_EVENT_TIME + 1,
      -MAX_EVENT_TIME - 1,
      "8640000000000001",
      "+275760-09-13T00:00:00.001Z",
      "-271821-04-19T23:59:59.999Z",
      "+275760-09-13T00:00:00-00:01",
      10n ** 20n,
    ]
  ) {
    assert.throws(
      () => parseEventTime(value),
      (err) => err instanceof EventTimeError && /outside the representable range/.test(err.reason),
      String(value),
    );
  }
});

function pad(n: number, width = 2): string {
  return String(n).padStart(width, "0");
}

Deno.test("parseEventTime agrees with Date's own UTC arithmetic for any valid date, time and offset", () => {
  fc.assert(
    fc.property(
      fc.record({
        year: fc.integer({ min: 0, max: 9999 }),
        month: fc.integer({ min: 1, max: 12 }),
        day: fc.integer({ min: 1, max: 31 }),
        hour: fc.integer({ min: 0, max: 23 }),
        minute: fc.integer({ min: 0, max: 59 }),
        second: fc.integer({ min: 0, max: 59 }),
        ms: fc.integer({ min: 0, max: 999 }),
        offset: fc.option(fc.integer({ min: -23 * 60 - 59, max: 23 * 60 + 59 })),
      }),
      ({ year, month, day, hour, minute, second, ms, offset }) => {
        // The reference: Date's UTC setters (setUTCFullYear keeps years 0-99 as they are).
        const reference = new Date(0);
        reference.setUTCFullYear(year, month - 1, day);
        if (reference.getUTCDate() !== day) return; // 31 April and the like: not a date
        reference.setUTCHours(hour, minute, second, ms);
        const expected = reference.getTime() - (offset ?? 0) * 60_000;
        const zone = offset === null
          ? ""
          : `${offset < 0 ? "-" : "+"}${pad(Math.floor(Math.abs(offset) / 60))}:${
            pad(Math.abs(offset) % 60)
          }`;
        const text = `${pad(year, 4)}-${pad(month)}-${pad(day)}T${pad(hour)}:${pad(minute)}:${
          pad(second)
        }.${pad(ms, 3)}${zone}`;
        assert.equal(parseEventTime(text), expected, text);
      },
    ),
    { numRuns: 2000 },
  );
});

Deno.test("parseEventTime gives the same answer under any TZ of the process", async () => {
  const script = `import { parseEventTime } from ${
    JSON.stringify(import.meta.resolve("./event_time.ts"))
  };
console.log(JSON.stringify(["2001-03-12T06:00", "2001-07-01 12:30:00", "2001-03-12"].map(parseEventTime)));`;
  const outputs = [];
  for (const tz of ["UTC", "America/New_York", "Asia/Tokyo", "Australia/Lord_Howe"]) {
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["eval", script],
      env: { TZ: tz },
    }).output();
    assert.equal(code, 0, new TextDecoder().decode(stderr));
    outputs.push(new TextDecoder().decode(stdout));
  }
  assert.deepEqual(outputs, Array(4).fill("[984376800000,993990600000,984355200000]\n"));
});
