import assert from "node:assert/strict";
import { describeError, InputError } from "./errors.ts";

Deno.test("describeError says each thing once: a cause whose message or reason is quoted is not repeated", () => {
  const inner = new Error("no such file");
  assert.equal(
    describeError(new Error("cannot read x.yaml: no such file", { cause: inner })),
    "cannot read x.yaml: no such file",
  );
  const reasoned = Object.assign(new InputError("event time 1e308: outside the range"), {
    reason: "outside the range",
  });
  assert.equal(
    describeError(new InputError("cannot read ts 1e308: outside the range", { cause: reasoned })),
    "cannot read ts 1e308: outside the range",
  );
  assert.equal(
    describeError(new Error("send failed", { cause: new Error("connection reset") })),
    "send failed: connection reset",
  );
});
