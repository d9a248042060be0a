import assert from "node:assert/strict";
import fc from "fast-check";
import { objectKey, PrefixFieldError, PrefixTemplate, safeSegment } from "./object_naming.ts";
import { UsageError } from "../errors.ts";

Deno.test("prefix renders time fields in UTC from eventTime, then publishTime", () => {
  const template = new PrefixTemplate("t/%Y/%m/%d/%H-%M-%S/%%/");
  const eventTime = Date.UTC(2026, 10, 24, 7, 5, 9);
  assert.equal(template.render({ eventTime, value: 1 }), "t/2026/11/24/07-05-09/%/");
  assert.equal(
    template.render({ publishTime: Date.UTC(1999, 0, 1), value: 1 }),
    "t/1999/01/01/00-00-00/%/",
  );
  assert.equal(template.render({ value: 1 }, Date.UTC(2000, 1, 2)), "t/2000/02/02/00-00-00/%/");
});

Deno.test("prefix renders envelope fields and keeps them inside one path segment", () => {
  const template = new PrefixTemplate("origin={value.origin}/k={key}/");
  assert.equal(template.render({ key: "a/b", value: { origin: "SFO" } }), "origin=SFO/k=a_b/");
  assert.equal(template.render({ key: "..", value: { origin: 7 } }), "origin=7/k=_../");
});

Deno.test("a missing or non-scalar prefix field is a PrefixFieldError naming the field and id", () => {
  const template = new PrefixTemplate("origin={value.origin}/");
  assert.throws(
    () => template.render({ id: "CAcQAA==", value: {} }),
    (err: unknown) =>
      err instanceof PrefixFieldError &&
      err.message === "prefix field {value.origin} is missing (event CAcQAA==)",
  );
  assert.throws(() => template.render({ value: { origin: { nested: 1 } } }), /not a string/);
});

Deno.test("bad templates are usage errors", () => {
  assert.throws(() => new PrefixTemplate("a/%q/"), UsageError);
  assert.throws(() => new PrefixTemplate("a/{value.}/"), UsageError);
  assert.throws(() => new PrefixTemplate("a/{unclosed"), UsageError);
});

Deno.test("static templates are not dynamic and render as they are", () => {
  const template = new PrefixTemplate("plain/");
  assert.equal(template.dynamic, false);
  assert.equal(template.render({ value: null }), "plain/");
});

Deno.test("safeSegment never yields a separator or a dot segment", () => {
  fc.assert(fc.property(fc.string(), (text) => {
    const segment = safeSegment(text);
    assert.ok(!segment.includes("/") && !segment.includes("\\"));
    assert.ok(segment !== "" && segment !== "." && segment !== "..");
  }));
});

Deno.test("object keys are unique per sequence and sort in write order", () => {
  const keys = [0, 1, 9, 10, 123456].map((n) => objectKey("p/", "w", n, "parquet"));
  assert.equal(new Set(keys).size, keys.length);
  assert.deepEqual([...keys].sort(), keys);
  assert.equal(keys[2], "p/w-000000009.parquet");
});
