import assert from "node:assert/strict";
import { parseTopic, partitionTopic } from "./topic_name.ts";
import { InvalidArgumentError } from "./errors.ts";

Deno.test("topic names: short forms are completed", () => {
  assert.equal(parseTopic("orders").full, "persistent://public/default/orders");
  assert.equal(parseTopic("acme/eu/orders").full, "persistent://acme/eu/orders");
  const np = parseTopic("non-persistent://acme/eu/x");
  assert.equal(np.persistent, false);
  assert.equal(np.full, "non-persistent://acme/eu/x");
});

Deno.test("topic names: partition suffix", () => {
  assert.equal(parseTopic("orders-partition-3").partition, 3);
  assert.equal(parseTopic("orders").partition, -1);
  assert.equal(partitionTopic("orders", 2), "persistent://public/default/orders-partition-2");
});

Deno.test("topic names: malformed names are refused", () => {
  for (const bad of ["a/b", "http://x/y/z", "persistent://a/b", "persistent://a//c", "/b/c"]) {
    assert.throws(() => parseTopic(bad), InvalidArgumentError, bad);
  }
});
