import assert from "node:assert/strict";
import {
  EncodeError,
  encodePayload,
  isTopicTarget,
  topicOfTarget,
  toProducerMessage,
} from "./pulsar.ts";

const text = (bytes: Uint8Array | string) =>
  typeof bytes === "string" ? bytes : new TextDecoder().decode(bytes);

Deno.test("toProducerMessage takes key, time and properties from the envelope or from fields", () => {
  const event = {
    key: "env-key",
    eventTime: 1000,
    properties: { source: "web" },
    value: { origin: "SFO", at: "2024-01-01T00:00:00Z", user: { id: 7 } },
  };
  const plain = toProducerMessage(event, {});
  assert.equal(plain.key, "env-key");
  assert.equal(plain.eventTime, 1000);
  assert.deepEqual(plain.properties, { source: "web" });
  assert.equal(text(plain.payload), JSON.stringify(event.value));

  const fields = toProducerMessage(event, {
    keyField: "user.id",
    timeField: "at",
    properties: { pipeline: "p1", source: "override" },
  });
  assert.equal(fields.key, "7");
  assert.equal(fields.eventTime, Date.UTC(2024, 0, 1));
  assert.deepEqual(fields.properties, { source: "override", pipeline: "p1" });

  const fixed = toProducerMessage({ value: 1 }, { key: "all" });
  assert.equal(fixed.key, "all");
  assert.equal(fixed.properties, undefined);
  assert.equal(fixed.eventTime, undefined);
});

Deno.test("a scored event's message carries the score; a window result its key and bounds", () => {
  const scored = toProducerMessage({
    id: "CAcQAA==",
    topic: "persistent://public/default/flights",
    publishTime: 7,
    key: "SFO",
    value: { origin: "SFO", delay: 12 },
    score: { delayed: 0.25 },
  }, {});
  assert.deepEqual(JSON.parse(text(scored.payload)), {
    origin: "SFO",
    delay: 12,
    score: { delayed: 0.25 },
  });
  assert.equal(scored.key, "SFO");
  const result = toProducerMessage({
    key: "SFO",
    window: { start: 0, end: 3_600_000 },
    value: { count: 2 },
    eventTime: 3_599_999,
    timing: "on_time",
  }, {});
  assert.deepEqual(JSON.parse(text(result.payload)), {
    key: "SFO",
    window: { start: 0, end: 3_600_000 },
    count: 2,
    timing: "on_time",
  });
  assert.equal(result.eventTime, 3_599_999);
});

Deno.test("--payload value, envelope and field:<path> choose what the message holds", () => {
  const event = { id: "a", key: "k", value: { x: 1 }, score: { p: 0.5 } };
  assert.equal(text(toProducerMessage(event, { payload: { kind: "value" } }).payload), '{"x":1}');
  assert.deepEqual(
    JSON.parse(text(toProducerMessage(event, { payload: { kind: "envelope" } }).payload)),
    event,
  );
  const field = toProducerMessage(event, { payload: { kind: "field", path: "score.p" } });
  assert.equal(text(field.payload), "0.5");
  const bytes = toProducerMessage({ value: "AP8=" }, {
    payload: { kind: "value" },
    encoding: "base64",
  });
  assert.deepEqual([...(bytes.payload as Uint8Array)], [0, 255]);
});

Deno.test("encodePayload: strings as they are, others as JSON, base64 decoded", () => {
  assert.equal(text(encodePayload("a line")), "a line");
  assert.equal(text(encodePayload("a line", "json")), '"a line"');
  assert.equal(text(encodePayload([1, { b: null }])), '[1,{"b":null}]');
  assert.deepEqual([...encodePayload("AP8=", "base64")], [0, 255]);
});

Deno.test("events that cannot become messages are EncodeErrors that say why", () => {
  assert.throws(() => toProducerMessage({ value: undefined }, {}), EncodeError);
  assert.throws(() => encodePayload(undefined), /event has no payload to produce/);
  assert.throws(() => encodePayload({ a: 1 }, "base64"), /needs the payload to be a base64 string/);
  assert.throws(
    () => toProducerMessage({ value: { score: 1 }, score: { p: 1 } }, {}),
    (err: unknown) => err instanceof EncodeError && /'score'/.test(err.message),
  );
  assert.throws(() => encodePayload("!!", "base64"), /not valid base64/);
  assert.throws(
    () => toProducerMessage({ value: { t: "noon" } }, { timeField: "t" }),
    /event time "noon" is not epoch ms or an ISO date/,
  );
  assert.throws(() => toProducerMessage({ eventTime: -5, value: 1 }, {}), /event time -5/);
});

Deno.test("dead-letter targets: topics by scheme or topic: prefix, files otherwise", () => {
  assert.equal(isTopicTarget("persistent://public/default/dlq"), true);
  assert.equal(isTopicTarget("topic:dlq"), true);
  assert.equal(topicOfTarget("topic:dlq"), "dlq");
  assert.equal(isTopicTarget("./dead.ndjson"), false);
});
