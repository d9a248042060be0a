import assert from "node:assert/strict";
import { compileFormat } from "./format_string.ts";

Deno.test("compileFormat fills every documented token and escape", () => {
  const format = compileFormat("%t|%p|%i|%o|%k|%s|%S|%T|%E|%h|%r|100%%\\t\\\\\\n");
  const line = format({
    topic: "persistent://public/default/t",
    partition: 2,
    id: "CAcQAA==",
    key: "SFO",
    publishTime: 10,
    eventTime: 9,
    properties: { a: "1", b: "x=y" },
    redeliveryCount: 3,
    value: { delay: 12 },
  }, 12);
  assert.equal(
    line,
    'persistent://public/default/t|2|CAcQAA==|CAcQAA==|SFO|{"delay":12}|12|10|9|a=1,b=x=y|3|100%\t\\\n',
  );
});

Deno.test("compileFormat leaves absent fields empty and strings unquoted", () => {
  const format = compileFormat("[%k][%E][%h][%p] %s");
  assert.equal(format({ key: null, value: "plain" }, 5), "[][][][-1] plain");
});

Deno.test("compileFormat names an unknown token", () => {
  assert.throws(() => compileFormat("%k %x"), /-f: unknown token '%x' \(known: %t/);
  assert.throws(() => compileFormat("trailing %"), /-f: unknown token '%'/);
});
