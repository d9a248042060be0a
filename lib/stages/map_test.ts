import assert from "node:assert/strict";
import { describeError } from "../errors.ts";
import type { Item } from "../envelope.ts";
import { map } from "./map.ts";

async function run(stage: ReturnType<typeof map>, items: Item[]): Promise<Item[]> {
  const out: Item[] = [];
  for await (const item of stage(ReadableStream.from(items))) out.push(item);
  return out;
}

const input: Item = {
  topic: "t",
  id: "a",
  key: "k",
  eventTime: 5,
  value: { delay: 4, origin: "SFO" },
  score: 1,
};

Deno.test("map sets value and keeps every other field", async () => {
  const out = await run(map('{"late": event.value.delay > 3, "d2": event.value.delay * 2.0}'), [
    input,
  ]);
  assert.deepEqual(out, [{ ...input, value: { late: true, d2: 8 } }]);
});

Deno.test("map --set document replaces the envelope but keeps id and unset metadata", async () => {
  const out = await run(
    map('{"key": event.value.origin, "value": event.value.delay, "id": "forged"}', {
      set: "document",
    }),
    [input, { $edgepipe: "barrier" }],
  );
  assert.deepEqual(out, [
    { topic: "t", id: "a", key: "SFO", eventTime: 5, value: 4 },
    { $edgepipe: "barrier" },
  ]);
  await assert.rejects(
    () => run(map("1.0", { set: "document" }), [input]),
    (err) => /expected a map/.test(describeError(err)),
  );
});

Deno.test("map: failures follow the policy and acknowledge the skipped id", async () => {
  const out = await run(map("event.value.missing", { onError: { kind: "skip" } }), [
    input,
    { ...input, id: "b", value: { missing: 1 } },
  ]);
  assert.deepEqual(out, [{ ...input, id: "b", value: 1 }, { $edgepipe: "ack", ids: ["a"] }]);
});

Deno.test("map keeps __proto__ and constructor keys of the data (value and document modes)", async () => {
  // As JSON.parse makes them: own properties named __proto__ and constructor.
  const event = JSON.parse(
    '{"id":"p","value":{"a":1,"__proto__":{"polluted":true},"constructor":"c"}}',
  );
  const [copied] = await run(map("event.value"), [event]);
  const value = (copied as { value: Record<string, unknown> }).value;
  assert.deepEqual(Object.keys(value), ["a", "__proto__", "constructor"]);
  assert.deepEqual(Object.getOwnPropertyDescriptor(value, "__proto__")?.value, { polluted: true });
  assert.equal(Object.getPrototypeOf(value), Object.prototype);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);

  const [document] = await run(map("event.value", { set: "document" }), [event]);
  assert.ok(Object.hasOwn(document, "__proto__"), JSON.stringify(document));
  assert.equal(
    JSON.stringify(document),
    '{"value":null,"id":"p","a":1,"__proto__":{"polluted":true},"constructor":"c"}',
  );
});

Deno.test("map refuses a map literal with a __proto__ or constructor key instead of dropping it", () => {
  for (const key of ["__proto__", "constructor", "prototype"]) {
    assert.throws(
      () => map(`{"${key}": event.value.n, "b": 2}`),
      (err: Error) =>
        err.name === "ExpressionError" && describeError(err).includes(`'${key}' is not supported`),
    );
  }
  assert.throws(
    () => map('{"a": {"b": {"__proto__": 1}}}'),
    (err: Error) => describeError(err).includes("column 14"),
  );
});
