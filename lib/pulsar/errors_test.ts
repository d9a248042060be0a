import assert from "node:assert/strict";
import {
  BrokerError,
  ConnectionError,
  ProducerClosedError,
  PulsarError,
  SERVER_ERRORS,
  TimeoutError,
  worthReconnecting,
} from "./errors.ts";
import { EdgepipeError } from "../errors.ts";

Deno.test("broker errors carry the ServerError name, by number or name", () => {
  assert.equal(BrokerError.from(11, "x").code, "TopicNotFound");
  assert.equal(BrokerError.from("ProducerBusy", "x").code, "ProducerBusy");
  assert.equal(BrokerError.from(99, "x").code, "ServerError(99)");
  assert.equal(SERVER_ERRORS.indexOf("ProducerFenced"), 25);
  const err = BrokerError.from("ServiceNotReady", "loading", "LOOKUP t");
  assert.match(err.message, /ServiceNotReady: LOOKUP t: loading/);
});

Deno.test("retriable is right per failure", () => {
  assert.equal(BrokerError.from("ServiceNotReady", "").retriable, true);
  assert.equal(BrokerError.from("TooManyRequests", "").retriable, true);
  assert.equal(BrokerError.from("TopicNotFound", "").retriable, false);
  assert.equal(BrokerError.from("AuthorizationError", "").retriable, false);
  assert.equal(BrokerError.from("ConsumerBusy", "").retriable, false);
  assert.equal(new ConnectionError("x").retriable, true);
  assert.equal(new TimeoutError("x").retriable, true);
  assert.equal(new ProducerClosedError("x").retriable, false);
});

Deno.test("reconnects keep going through busy answers, stop on fatal ones", () => {
  assert.equal(worthReconnecting(BrokerError.from("ProducerBusy", "")), true);
  assert.equal(worthReconnecting(BrokerError.from("ConsumerBusy", "")), true);
  assert.equal(worthReconnecting(BrokerError.from("TopicTerminatedError", "")), false);
  assert.equal(worthReconnecting(new ConnectionError("x")), true);
  assert.equal(worthReconnecting(new Error("plain")), false);
});

Deno.test("errors chain causes and belong to the edgepipe hierarchy", () => {
  const root = new Error("socket reset");
  const err = new ConnectionError("lost broker", { cause: root });
  assert.equal(err.cause, root);
  assert.ok(err instanceof PulsarError && err instanceof EdgepipeError);
  assert.equal(err.name, "ConnectionError");
});
