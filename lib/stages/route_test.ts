import assert from "node:assert/strict";
import { NoRouteError, RoutingSink } from "./route.ts";
import { compileExpression, EvaluationError } from "../expr/cel.ts";
import type { Envelope } from "../envelope.ts";
import type { Sink } from "../sinks/types.ts";

/** A sink whose deliveries the test completes by hand. */
class HeldSink implements Sink {
  readonly events: Envelope[] = [];
  readonly held: (() => void)[] = [];
  closed = false;
  constructor(readonly description: string) {}
  send(event: Envelope): Promise<void> {
    this.events.push(event);
    return new Promise((resolve) => this.held.push(resolve));
  }
  flush(): Promise<void> {
    this.held.splice(0).forEach((release) => release());
    return Promise.resolve();
  }
  close(): Promise<void> {
    this.closed = true;
    return this.flush();
  }
}

const rules = () => {
  const big = new HeldSink("big");
  const sfo = new HeldSink("sfo");
  const rest = new HeldSink("rest");
  return {
    big,
    sfo,
    rest,
    routes: [
      { when: compileExpression("event.value.amount > 100.0"), sink: big },
      { when: compileExpression('event.value.origin == "SFO"'), sink: sfo },
    ],
  };
};

Deno.test("first matching rule wins; unmatched events take the default", async () => {
  const { big, sfo, rest, routes } = rules();
  const router = new RoutingSink(routes, { fallback: rest });
  const events = [
    { id: "1", value: { amount: 500, origin: "SFO" } },
    { id: "2", value: { amount: 5, origin: "SFO" } },
    { id: "3", value: { amount: 5, origin: "JFK" } },
  ];
  const sends = events.map((e) => router.send(e));
  await router.close();
  await Promise.all(sends);
  assert.deepEqual(big.events.map((e) => e.id), ["1"]);
  assert.deepEqual(sfo.events.map((e) => e.id), ["2"]);
  assert.deepEqual(rest.events.map((e) => e.id), ["3"]);
  assert.ok(big.closed && sfo.closed && rest.closed);
});

Deno.test("fan-out sends to every match and settles only when all destinations delivered", async () => {
  const { big, sfo, routes } = rules();
  const router = new RoutingSink(routes, { fanOut: true });
  let settled = false;
  const send = router.send({ id: "1", value: { amount: 500, origin: "SFO" } }).then(() =>
    settled = true
  );
  big.held.shift()!();
  await new Promise((r) => setTimeout(r, 0));
  assert.equal(settled, false, "one destination is not enough");
  sfo.held.shift()!();
  await send;
  assert.equal(settled, true);
});

Deno.test("an event no rule matches without a default is rejected with NoRouteError", async () => {
  const { routes } = rules();
  const router = new RoutingSink(routes);
  await assert.rejects(
    router.send({ id: "x", value: { amount: 1, origin: "JFK" } }),
    (err: unknown) => err instanceof NoRouteError && /event x/.test((err as Error).message),
  );
});

Deno.test("conditions that fail or are not boolean reject only that event", async () => {
  const sink = new HeldSink("s");
  const failing = new RoutingSink([{ when: compileExpression("event.value.amount > 1.0"), sink }]);
  await assert.rejects(failing.send({ value: {} }), EvaluationError);
  const notBoolean = new RoutingSink([{ when: compileExpression("event.value.amount"), sink }]);
  await assert.rejects(notBoolean.send({ value: { amount: 3 } }), /not true or false/);
  assert.equal(sink.events.length, 0);
});
