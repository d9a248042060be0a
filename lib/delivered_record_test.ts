import assert from "node:assert/strict";
import {
  deliveredRecord,
  describePayloadShape,
  parsePayloadShape,
  payloadOf,
  RecordShapeError,
} from "./delivered_record.ts";
import { UsageError } from "./errors.ts";

const consumed = {
  topic: "persistent://public/default/flights",
  partition: 0,
  id: "CAcQAA==",
  key: "SFO",
  publishTime: 1732400000000,
  eventTime: 1732399999000,
  properties: { source: "web" },
  redeliveryCount: 0,
};

Deno.test("a scored event is its value's fields plus the score; transport fields stay out", () => {
  const record = deliveredRecord({
    ...consumed,
    value: { origin: "SFO", delay: 12 },
    score: { delayed: 0.25, on_time: 0.75 },
  });
  assert.deepEqual(record, {
    payload: { origin: "SFO", delay: 12, score: { delayed: 0.25, on_time: 0.75 } },
    key: "SFO",
    eventTime: 1732399999000,
    properties: { source: "web" },
  });
});

Deno.test("score --as names the field the outputs are delivered under", () => {
  const payload = payloadOf({ ...consumed, value: { a: 1 }, risk: { yes: 0.5 } });
  assert.deepEqual(payload, { a: 1, risk: { yes: 0.5 } });
});

Deno.test("a window result keeps its key, bounds, aggregates and timing in the payload", () => {
  const result = {
    id: "w:1",
    key: "SFO",
    window: { start: 0, end: 3_600_000 },
    value: { count: 3, avg_score_delayed: 0.5 },
    eventTime: 3_599_999,
    timing: "on_time",
  };
  const record = deliveredRecord(result);
  assert.deepEqual(record.payload, {
    key: "SFO",
    window: { start: 0, end: 3_600_000 },
    count: 3,
    avg_score_delayed: 0.5,
    timing: "on_time",
  });
  assert.deepEqual(Object.keys(record.payload as object), [
    "key",
    "window",
    "count",
    "avg_score_delayed",
    "timing",
  ]);
  assert.equal(record.key, "SFO");
  assert.equal(record.eventTime, 3_599_999);
});

Deno.test("a late event keeps its late flag", () => {
  assert.deepEqual(payloadOf({ ...consumed, value: { d: 1 }, late: true }), { d: 1, late: true });
});

Deno.test("an event nothing was added to is delivered as its value, whatever its type", () => {
  for (const value of [{ a: 1 }, "text", 42, null, [1, 2], true]) {
    assert.deepEqual(payloadOf({ ...consumed, value }), value);
  }
});

Deno.test("a value that is not an object is wrapped under value when stages added fields", () => {
  for (const value of ["text", 42, null, [1, 2]]) {
    assert.deepEqual(payloadOf({ ...consumed, value, score: { p: 1 } }), {
      value,
      score: { p: 1 },
    });
  }
});

Deno.test("a field both in the value and added by a stage is an error, never overwritten", () => {
  assert.throws(
    () => payloadOf({ value: { score: 3 }, score: { p: 0.5 } }),
    (err: unknown) => err instanceof RecordShapeError && /'score'/.test(err.message),
  );
});

Deno.test("an event with no value and nothing added cannot be delivered", () => {
  assert.throws(() => payloadOf({ id: "a", value: undefined }), RecordShapeError);
  assert.deepEqual(payloadOf({ id: "a", value: undefined, ref: null }), { ref: null });
});

Deno.test("a __proto__ field from the input is kept as data", () => {
  const value = JSON.parse('{"__proto__":{"x":1},"a":2}');
  const payload = payloadOf({ value, score: { p: 1 } }) as Record<string, unknown>;
  assert.equal(JSON.stringify(payload), '{"__proto__":{"x":1},"a":2,"score":{"p":1}}');
  assert.equal(Object.getPrototypeOf(payload), Object.prototype);
});

Deno.test("value, envelope and field: shapes", () => {
  const event = { ...consumed, value: { a: 1 }, score: { p: 0.5 } };
  assert.deepEqual(payloadOf(event, { kind: "value" }), { a: 1 });
  assert.equal(payloadOf(event, { kind: "envelope" }), event);
  assert.equal(payloadOf(event, { kind: "field", path: "score.p" }), 0.5);
  assert.throws(() => payloadOf(event, { kind: "field", path: "score.q" }), RecordShapeError);
  assert.throws(() => payloadOf({ value: undefined }, { kind: "value" }), RecordShapeError);
});

Deno.test("payload shapes parse from their flag text and print back", () => {
  for (const text of ["record", "value", "envelope", "field:value.origin"]) {
    assert.equal(describePayloadShape(parsePayloadShape(text)), text);
  }
  for (const bad of ["", "field:", "auto", "VALUE"]) {
    assert.throws(() => parsePayloadShape(bad), UsageError);
  }
});

Deno.test("empty keys and properties are not metadata", () => {
  assert.deepEqual(deliveredRecord({ key: "", properties: {}, value: 1 }), { payload: 1 });
});
