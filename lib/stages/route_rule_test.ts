import assert from "node:assert/strict";
import fc from "fast-check";
import { parseRouteRule } from "./route_rule.ts";
import { UsageError } from "../errors.ts";

Deno.test("the first lone '=' outside strings splits condition and destination", () => {
  const cases: [string, string, string][] = [
    ["event.value.a == 1.0=stdout", "event.value.a == 1.0", "stdout"],
    ["event.key != 'x=y'=file:out/", "event.key != 'x=y'", "file:out/"],
    ['event.value.s == "a\\"=b"=s3://b/k=v/', 'event.value.s == "a\\"=b"', "s3://b/k=v/"],
    [
      "event.value.n >= 2.0 && event.value.n <= 3.0 = persistent://p/d/t",
      "event.value.n >= 2.0 && event.value.n <= 3.0",
      "persistent://p/d/t",
    ],
  ];
  for (const [text, condition, destination] of cases) {
    assert.deepEqual(parseRouteRule(text), { condition, destination }, text);
  }
});

Deno.test("rules without a separator, condition or destination are usage errors", () => {
  for (
    const text of ["event.value.a == 1", "=stdout", "event.value.a == 1.0=", "'unterminated=x"]
  ) {
    assert.throws(() => parseRouteRule(text), UsageError, text);
  }
});

Deno.test("any destination survives the split, whatever '=' it holds", () => {
  const destination = fc.stringMatching(/^[a-z:\/=%{}.-]{1,30}$/).filter((d) =>
    d.trim() === d && !d.startsWith("=")
  );
  fc.assert(fc.property(destination, (dest) => {
    assert.equal(parseRouteRule(`event.value.x == "a=b"=${dest}`).destination, dest);
  }));
});
