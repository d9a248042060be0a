import assert from "node:assert/strict";
import { connectWithRetry } from "./connect_with_retry.ts";
import { BrokerError, ConnectionError } from "./errors.ts";

const FAST = { initialMs: 1, maxMs: 2 };

/** An attempt that fails with the given errors in turn, then succeeds; counts its calls. */
function attempts(...errors: Error[]) {
  const state = { calls: 0 };
  const attempt = () => {
    const error = errors[state.calls++];
    return error ? Promise.reject(error) : Promise.resolve();
  };
  return { attempt, state };
}

function options(first: boolean, timeoutMs = 60_000) {
  return {
    first,
    backoff: FAST,
    timeoutMs,
    closed: () => false,
    signal: new AbortController().signal,
  };
}

Deno.test("the first attach throws an error that cannot heal after one attempt, without retrying", async () => {
  const refused = BrokerError.from(11, "no such topic");
  assert.equal(refused.retriable, false);
  const { attempt, state } = attempts(refused, refused, refused);
  await assert.rejects(connectWithRetry(attempt, options(true)), (err) => err === refused);
  assert.equal(state.calls, 1);
});

Deno.test("the first attach retries retriable errors until it succeeds", async () => {
  const { attempt, state } = attempts(
    new ConnectionError("refused"),
    new ConnectionError("refused"),
  );
  assert.equal(await connectWithRetry(attempt, options(true)), undefined);
  assert.equal(state.calls, 3);
});

Deno.test("the first attach gives up with the last error once its deadline has passed", async () => {
  const errors = Array.from({ length: 1000 }, (_, i) => new ConnectionError(`refused ${i}`));
  const { attempt, state } = attempts(...errors);
  // A deadline already behind: the first retriable failure is the last.
  await assert.rejects(connectWithRetry(attempt, options(true, -1)), /refused 0$/);
  assert.equal(state.calls, 1);
});

Deno.test("after a connection loss, a fatal error is returned, not thrown", async () => {
  const fenced = new BrokerError("ProducerFenced", "another producer took over");
  const { attempt, state } = attempts(new ConnectionError("dropped"), fenced);
  assert.equal(await connectWithRetry(attempt, options(false)), fenced);
  assert.equal(state.calls, 2);
});

Deno.test("a closed producer or consumer stops retrying quietly", async () => {
  let closed = false;
  const { attempt, state } = attempts(new ConnectionError("refused"));
  const retrying = connectWithRetry(() => {
    closed = true;
    return attempt();
  }, { ...options(true), closed: () => closed });
  assert.equal(await retrying, undefined);
  assert.equal(state.calls, 1);
});
