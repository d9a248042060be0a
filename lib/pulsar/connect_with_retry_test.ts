import assert from "node:assert/strict";
import type { ClientStatus } from "./client_status.ts";
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

Deno.test("a reconnect reports the loss, each failed attempt with its delay, and the success", async () => {
  const seen: ClientStatus[] = [];
  const lost = new ConnectionError("broker went away");
  const refused = new ConnectionError("connection refused");
  const { attempt } = attempts(refused, refused);
  const result = await connectWithRetry(attempt, {
    ...options(false),
    topic: "persistent://public/default/t",
    lost,
    status: (s) => seen.push(s),
  });
  assert.equal(result, undefined);
  assert.deepEqual(seen.map((s) => s.type), [
    "reconnecting",
    "reconnecting",
    "reconnecting",
    "reconnected",
  ]);
  const [loss, second, third, back] = seen;
  assert.ok(loss.type === "reconnecting" && second.type === "reconnecting");
  assert.ok(third.type === "reconnecting" && back.type === "reconnected");
  assert.equal(loss.error, lost);
  assert.equal(loss.attempt, 1);
  assert.equal(loss.delayMs, 0);
  assert.equal(second.attempt, 2);
  assert.equal(second.error, refused);
  // FAST backoff: 1 ms, then 2 ms (jitter on top, capped at 2).
  assert.ok(second.delayMs >= 1 && second.delayMs <= 2, `delay ${second.delayMs}`);
  assert.equal(third.attempt, 3);
  assert.equal(back.attempts, 3);
  assert.equal(back.topic, "persistent://public/default/t");
  assert.ok(back.afterMs >= 0);
});

Deno.test("a reconnect that meets an error that cannot heal reports gave-up with it", async () => {
  const seen: ClientStatus[] = [];
  const fenced = new BrokerError("ProducerFenced", "another producer took over");
  const { attempt } = attempts(fenced);
  const result = await connectWithRetry(attempt, {
    ...options(false),
    topic: "t",
    status: (s) => seen.push(s),
  });
  assert.equal(result, fenced);
  assert.deepEqual(seen.map((s) => s.type), ["reconnecting", "gave-up"]);
  assert.ok(seen[1].type === "gave-up" && seen[1].error === fenced);
  assert.ok(seen[0].type === "reconnecting" && seen[0].error instanceof ConnectionError);
});

Deno.test("a first attach reports its retries and the success after them, not a plain success", async () => {
  const quiet: ClientStatus[] = [];
  await connectWithRetry(attempts().attempt, {
    ...options(true),
    topic: "t",
    status: (s) => quiet.push(s),
  });
  assert.deepEqual(quiet, []);
  const seen: ClientStatus[] = [];
  await connectWithRetry(attempts(new ConnectionError("refused")).attempt, {
    ...options(true),
    topic: "t",
    status: (s) => seen.push(s),
  });
  assert.deepEqual(seen.map((s) => s.type), ["reconnecting", "reconnected"]);
  assert.ok(seen[0].type === "reconnecting" && seen[0].attempt === 2);
  // The final failure of a first attach is thrown, not reported.
  const fatal: ClientStatus[] = [];
  const refused = BrokerError.from(11, "no such topic");
  await assert.rejects(
    connectWithRetry(attempts(refused).attempt, { ...options(true), status: (s) => fatal.push(s) }),
  );
  assert.deepEqual(fatal, []);
});
