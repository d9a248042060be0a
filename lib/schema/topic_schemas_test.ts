import assert from "node:assert/strict";
import { BrokerError, Message, MessageId, TimeoutError } from "../pulsar/mod.ts";
import { SchemaValueError } from "./errors.ts";
import { TopicSchemas } from "./topic_schemas.ts";

const TOPIC = "persistent://public/default/t";
const message = (version: number, payload: number[]) =>
  new Message(TOPIC, new MessageId(1n, 1n), new Uint8Array(payload), {
    publishTime: 1,
    schemaVersion: new Uint8Array([0, 0, 0, 0, 0, 0, 0, version]),
  });

Deno.test("one lookup per version; a version the broker lacks is asked once, then fails fast", async () => {
  const asked: number[] = [];
  const schemas = new TopicSchemas((_topic, version) => {
    asked.push(version[7]);
    if (version[7] === 9) {
      return Promise.reject(BrokerError.from("TopicNotFound", "no such schema version"));
    }
    return Promise.resolve({
      version,
      schema: { name: "t", type: "Int32", schemaData: new Uint8Array() },
    });
  });
  for (let i = 0; i < 3; i++) {
    assert.equal((await schemas.decode(message(0, [0, 0, 0, i]), TOPIC))?.value, i);
  }
  for (let i = 0; i < 3; i++) {
    await assert.rejects(
      Promise.resolve(schemas.decode(message(9, [1]), TOPIC)),
      (err: unknown) => err instanceof SchemaValueError && /schema version 9 of/.test(err.message),
    );
  }
  assert.deepEqual(asked, [0, 9]);
  // A message without a schema version is not the schemas' business.
  const plain = new Message(TOPIC, new MessageId(1n, 2n), new Uint8Array([1]), { publishTime: 1 });
  assert.equal(schemas.decode(plain, TOPIC), undefined);
});

Deno.test("a broker that does not answer is not the message's fault: asked again next time", async () => {
  let calls = 0;
  const schemas = new TopicSchemas(() => {
    calls++;
    return Promise.reject(new TimeoutError("GET_SCHEMA: no answer"));
  });
  for (let i = 0; i < 2; i++) {
    await assert.rejects(
      Promise.resolve(schemas.decode(message(0, [0, 0, 0, 1]), TOPIC)),
      TimeoutError,
    );
  }
  assert.equal(calls, 2);
});
