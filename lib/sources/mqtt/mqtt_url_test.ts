import assert from "node:assert/strict";
import { UsageError } from "../../errors.ts";
import { checkTopicFilter, isMqttTarget, parseMqttTarget, topicNameProblem } from "./mqtt_url.ts";

Deno.test("mqtt targets: defaults, ports, user, and # taken literally", () => {
  assert.deepEqual(parseMqttTarget("mqtt://broker/a/#"), {
    scheme: "mqtt",
    host: "broker",
    port: 1883,
    topic: "a/#",
  });
  assert.equal(parseMqttTarget("mqtts://broker/x").port, 8883);
  assert.equal(parseMqttTarget("mqtt://h:1999/alerts/{value.site}").topic, "alerts/{value.site}");
  assert.equal(parseMqttTarget("mqtt://me%40x@h/t").username, "me@x");
  assert.ok(isMqttTarget("mqtts://h/t"));
  assert.ok(!isMqttTarget("persistent://public/default/t"));
});

Deno.test("mqtt targets: a password in the URL, no host, a bad port are usage errors", () => {
  assert.throws(() => parseMqttTarget("mqtt://u:secret@h/t"), (err: Error) => {
    assert.ok(err instanceof UsageError);
    assert.ok(!err.message.includes("secret"), "the password must not be echoed");
    return true;
  });
  assert.throws(() => parseMqttTarget("mqtt:///t"), UsageError);
  assert.throws(() => parseMqttTarget("mqtt://h:70000/t"), UsageError);
  assert.throws(() => parseMqttTarget("mqtt://h"), UsageError);
});

Deno.test("topic filters: wildcards only as whole levels, # only last", () => {
  for (const good of ["#", "+", "a/+/c", "a/#", "+/+/#", "/a", "a//b"]) checkTopicFilter(good);
  for (const bad of ["", "a/#/b", "a#", "a/b+", "+a/b", "a\u0000b"]) {
    assert.throws(() => checkTopicFilter(bad), UsageError, bad);
  }
});

Deno.test("topic names to publish to: no wildcards, not empty", () => {
  assert.equal(topicNameProblem("a/b"), undefined);
  assert.ok(topicNameProblem(""));
  assert.ok(topicNameProblem("a/+"));
  assert.ok(topicNameProblem("a/#"));
});
