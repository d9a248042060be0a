import assert from "node:assert/strict";
import { UsageError } from "./errors.ts";
import { parseBytes, parseDuration, parsePositiveInt, parseRate } from "./units.ts";

Deno.test("parseDuration: every unit, fractions, bare milliseconds", () => {
  const cases: [string, number][] = [
    ["0", 0],
    ["750", 750],
    ["500ms", 500],
    ["5s", 5_000],
    ["1.5s", 1_500],
    ["5m", 300_000],
    ["1h", 3_600_000],
    ["2d", 172_800_000],
    [" 10s ", 10_000],
    ["0.0015s", 2], // rounded to whole milliseconds
  ];
  for (const [text, ms] of cases) assert.equal(parseDuration(text, "--x"), ms, text);
});

Deno.test("parseDuration: not a duration is a usage error naming the flag", () => {
  for (const text of ["", "s", "-5s", "5 s", "5sec", "1e3", "5S", "1h30m"]) {
    assert.throws(() => parseDuration(text, "--max-age"), (err: unknown) => {
      assert.ok(err instanceof UsageError, text);
      assert.match(err.message, /^--max-age: '.*' is not a duration/);
      return true;
    });
  }
});

Deno.test("parsePositiveInt: integers above zero only", () => {
  assert.equal(parsePositiveInt("1", "--n"), 1);
  assert.equal(parsePositiveInt("1000000", "--n"), 1_000_000);
  for (const text of ["0", "-1", "1.5", "", " ", "abc", "NaN", "Infinity"]) {
    assert.throws(() => parsePositiveInt(text, "--n"), UsageError, text);
  }
});

Deno.test("parseBytes: binary multiples whatever the spelling", () => {
  const cases: [string, number][] = [
    ["1", 1],
    ["512B", 512],
    ["512KiB", 524_288],
    ["512kb", 524_288],
    ["16MiB", 16_777_216],
    ["1GiB", 1_073_741_824],
    ["0.5 MB", 524_288],
  ];
  for (const [text, bytes] of cases) assert.equal(parseBytes(text, "--max-bytes"), bytes, text);
  for (const text of ["0", "0KiB", "lots", "5TB", "-1MiB"]) {
    assert.throws(() => parseBytes(text, "--max-bytes"), UsageError, text);
  }
});

Deno.test("parseRate: per second, minute, hour", () => {
  assert.equal(parseRate("500/s"), 500);
  assert.equal(parseRate("500"), 500);
  assert.equal(parseRate("60/m"), 1);
  assert.equal(parseRate("7200/h"), 2);
  for (const text of ["0/s", "fast", "5/d", "-1/s"]) {
    assert.throws(() => parseRate(text, "--rate"), /^UsageError: --rate: expected events/, text);
  }
});
